"""Demo articles, written for this project in wire-service style (fictional events)."""

DEMO_ARTICLES = [
    {
        "title": "Floods displace 12,000 in northern province, officials say",
        "outlet": "Newsroom Wire",
        "author": "Staff reporter",
        "published_at": "2026-03-14",
        "text": (
            "GENEVA, March 14 (Newsroom Wire) - Floods in the northern province have displaced about "
            "12,000 people and destroyed 3,400 homes, the regional governor said on Tuesday.\n\n"
            "According to the United Nations Office for the Coordination of Humanitarian Affairs, at least "
            "42 people have died since the rains began, more than double the toll reported last week.\n\n"
            '"We have never seen water rise this fast," said Amina Yusuf, a farmer who fled her village '
            "with her four children. Officials said relief convoys would reach the worst-hit districts by Friday.\n\n"
            "The World Health Organization warned that cholera cases could rise sharply if clean water "
            "supplies were not restored within ten days. 🌧️ Rainfall is forecast to continue through the weekend."
        ),
    },
    {
        "title": "Central bank holds rates, sees inflation easing to 2.4%",
        "outlet": "Newsroom Wire",
        "author": "Economics desk",
        "published_at": "2026-05-02",
        "text": (
            "FRANKFURT, May 2 (Newsroom Wire) - The central bank left its main interest rate unchanged at "
            "3.25% on Thursday and said inflation would ease to 2.4% by the end of the year.\n\n"
            "Governor Elena Marković told reporters that wage growth had slowed for a third consecutive "
            "quarter. \"The worst of the price shock is behind us,\" she said.\n\n"
            "Analysts polled by Newsroom Wire expect the first cut in September. Unemployment stands at "
            "6.1%, the lowest level since 2008, according to the national statistics office."
        ),
    },
    {
        "title": "Minister Li Qiang (李强) pledges $2 billion for rail link",
        "outlet": "Asia Desk",
        "author": "Correspondent",
        "published_at": "2026-06-20",
        "text": (
            "BEIJING, June 20 (Asia Desk) - Transport minister Li Qiang (李强) pledged $2 billion on Friday "
            "for a high-speed rail link that officials estimate will cut travel time between the two cities "
            "by 40 percent.\n\n"
            "The project will create 15,000 jobs, the ministry said in a statement. Critics reportedly "
            "questioned whether the budget was realistic, noting that a similar line cost three times as much.\n\n"
            "\"Construction will begin before winter,\" Li told a news conference. 🚄"
        ),
    },
    {
        "title": "Health agency reports record vaccination uptake",
        "outlet": "Newsroom Wire",
        "author": "Health desk",
        "published_at": "2026-09-08",
        "text": (
            "CAIRO, Sept 8 (Newsroom Wire) - Nearly 9 in 10 children received their measles vaccine last "
            "year, the highest rate on record, the health ministry announced on Monday.\n\n"
            "Dr. Karim Haddad (كريم حداد), who leads the national immunisation programme, said the gains "
            "came after mobile clinics were sent to 200 remote villages.\n\n"
            "UNICEF estimates that 1.3 million children in the region still miss routine vaccinations, "
            "a figure the agency said had fallen by a quarter since 2020."
        ),
    },
    {
        "title": "Wildfire season starts early, fire service warns",
        "outlet": "Newsroom Wire",
        "author": "Staff reporter",
        "published_at": "2026-07-01",
        "text": (
            "ATHENS, July 1 (Newsroom Wire) - Firefighters battled 57 wildfires across the country on "
            "Sunday, the fire service said, warning that the season had started a month earlier than usual.\n\n"
            "Temperatures reached 43C in the capital, according to the national weather service, and "
            "are expected to stay above 40C until Wednesday. 🔥\n\n"
            "\"Every summer is now worse than the last,\" a senior fire officer said, speaking on condition "
            "of anonymity because he was not authorised to talk to the media."
        ),
    },
]
