"""Plain data for the built-in pre-annotator: countries, nationalities, institutions.

Used to (1) fix named-entity labels the small English model gets wrong (it tags e.g. "Malawi",
"Mali", "Vanuatu", "Chad", "Jordan" as PERSON and many small countries as ORG) and (2) recognise
institutional sources ("the health ministry", "the World Bank", "police"). Extend freely; all
matching is case-sensitive on the written form except the lower-case head-noun sets.
"""


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


COUNTRIES = _words(
    """
Afghanistan Albania Algeria Andorra Angola Argentina Armenia Australia Austria Azerbaijan Bahamas
Bahrain Bangladesh Barbados Belarus Belgium Belize Benin Bhutan Bolivia Botswana Brazil Brunei
Bulgaria Burundi Cambodia Cameroon Canada Chad Chile China Colombia Comoros Congo Croatia Cuba
Cyprus Czechia Denmark Djibouti Dominica Ecuador Egypt Eritrea Estonia Eswatini Ethiopia Fiji
Finland France Gabon Gambia Georgia Germany Ghana Greece Grenada Guatemala Guinea Guyana Haiti
Honduras Hungary Iceland India Indonesia Iran Iraq Ireland Israel Italy Jamaica Japan Jordan
Kazakhstan Kenya Kiribati Kosovo Kuwait Kyrgyzstan Laos Latvia Lebanon Lesotho Liberia Libya
Liechtenstein Lithuania Luxembourg Madagascar Malawi Malaysia Maldives Mali Malta Mauritania
Mauritius Mexico Micronesia Moldova Monaco Mongolia Montenegro Morocco Mozambique Myanmar Namibia
Nauru Nepal Netherlands Nicaragua Niger Nigeria Norway Oman Pakistan Palau Palestine Panama
Paraguay Peru Philippines Poland Portugal Qatar Romania Russia Rwanda Samoa Senegal Serbia
Seychelles Singapore Slovakia Slovenia Somalia Spain Sudan Suriname Sweden Switzerland Syria
Taiwan Tajikistan Tanzania Thailand Togo Tonga Tunisia Turkey Turkmenistan Tuvalu Uganda Ukraine
Uruguay Uzbekistan Vanuatu Venezuela Vietnam Yemen Zambia Zimbabwe
"""
) | frozenset(
    [
        "Antigua and Barbuda", "Bosnia and Herzegovina", "Burkina Faso", "Cabo Verde", "Cape Verde",
        "Central African Republic", "Costa Rica", "Czech Republic", "Dominican Republic",
        "East Timor", "El Salvador", "Equatorial Guinea", "Guinea-Bissau", "Ivory Coast",
        "Marshall Islands", "New Zealand", "North Korea", "North Macedonia", "Papua New Guinea",
        "Saint Lucia", "San Marino", "Saudi Arabia", "Sierra Leone", "Solomon Islands",
        "South Africa", "South Korea", "South Sudan", "Sri Lanka", "Timor-Leste",
        "Trinidad and Tobago", "United Arab Emirates", "United Kingdom", "United States",
        "Vatican City", "Hong Kong", "Gaza", "West Bank", "Britain", "England", "Scotland",
        "Wales", "Northern Ireland", "UK", "US", "USA", "U.S.", "UAE",
    ]
)

NATIONALITIES = _words(
    """
Afghan Albanian Algerian American Angolan Argentine Argentinian Armenian Australian Austrian
Azerbaijani Bangladeshi Belarusian Belgian Bolivian Brazilian British Bulgarian Burmese Cambodian
Cameroonian Canadian Chadian Chilean Chinese Colombian Congolese Croatian Cuban Cypriot Czech
Danish Dutch Ecuadorian Egyptian English Eritrean Estonian Ethiopian Fijian Filipino Finnish French
Georgian German Ghanaian Greek Guatemalan Haitian Honduran Hungarian Icelandic Indian Indonesian
Iranian Iraqi Irish Israeli Italian Jamaican Japanese Jordanian Kazakh Kenyan Korean Kuwaiti
Lao Latvian Lebanese Liberian Libyan Lithuanian Malagasy Malawian Malaysian Malian Maltese
Mauritanian Mexican Moldovan Mongolian Moroccan Mozambican Namibian Nepalese Nepali Nicaraguan
Nigerian Nigerien Norwegian Omani Pakistani Palestinian Panamanian Paraguayan Peruvian Polish
Portuguese Qatari Romanian Russian Rwandan Saudi Scottish Senegalese Serbian Singaporean Slovak
Slovenian Somali Spanish Sudanese Swedish Swiss Syrian Taiwanese Tajik Tanzanian Thai Togolese
Tunisian Turkish Ugandan Ukrainian Uruguayan Uzbek Venezuelan Vietnamese Welsh Yemeni Zambian
Zimbabwean
"""
)

# Institutions by name (acronyms and full names); multi-word names are matched as token sequences.
INSTITUTIONS = frozenset(
    [
        "UN", "United Nations", "UN Security Council", "Security Council", "General Assembly",
        "WHO", "World Health Organization", "World Health Organisation", "UNICEF", "UNHCR",
        "UNESCO", "UNDP", "WFP", "World Food Programme", "FAO", "IAEA", "ILO", "WTO",
        "World Trade Organization", "IMF", "International Monetary Fund", "World Bank", "OECD",
        "EU", "European Union", "European Commission", "European Parliament", "European Central Bank",
        "ECB", "NATO", "African Union", "ASEAN", "OPEC", "Red Cross", "Red Crescent", "ICRC",
        "Amnesty International", "Human Rights Watch", "Interpol", "Europol",
        "Federal Reserve", "Fed", "Bank of England", "Reserve Bank", "Pentagon", "White House",
        "Kremlin", "State Department", "Congress", "Senate", "Parliament", "Supreme Court",
        "FBI", "CIA", "NASA", "CDC", "FDA", "EPA", "Federal Bureau of Investigation",
        "Department of Immigration", "Foreign Office", "Home Office", "Treasury",
    ]
)

# Head nouns that make a noun phrase an institution ("the country's health ministry").
INSTITUTION_HEADS = _words(
    """
ministry department government council police army military navy force forces agency authority
authorities service commission committee court tribunal bureau office board parliament senate
congress cabinet administration union organisation organization association federation institute
university hospital bank fund company corporation firm group party coalition embassy mission
secretariat regulator watchdog team club league newspaper television radio network survey report
study statement bulletin assessment inquiry census
"""
)

# Head nouns of unnamed sources ("officials said", "a spokesman says", "sources said").
UNNAMED_HEADS = _words(
    """
official officials source sources spokesman spokeswoman spokesperson spokespeople investigator
investigators witness witnesses analyst analysts expert experts diplomat diplomats resident residents
observer observers insider insiders aide aides person people someone critic critics scientist
scientists researcher researchers doctor doctors
"""
)

# Adverbs that attribute a statement to nobody in particular; the word itself is the SOURCE span.
UNNAMED_ADVERBS = frozenset(["reportedly", "allegedly", "purportedly", "reputedly", "supposedly"])

# Personal titles: a noun phrase led by these is a named person.
PERSON_TITLES = _words(
    """
Mr Mrs Ms Miss Dr Prof Sir Dame Lord Lady President Prime Minister Senator Governor Mayor
General Gen Colonel Captain Judge Justice King Queen Prince Princess Pope Rev Sheikh
"""
)
