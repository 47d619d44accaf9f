import pytest

from annotations.models import AssignmentKind
from tests.exports.builders import TEXTS, add_layer, approve, approved_article, suggest
from tests.support.factories import make_article


@pytest.fixture
def dataset(project, annotator, annotator2, reviewer):
    """Three approved articles (emoji, CRLF + flag, formula-like text), one with a suggestion."""
    a1 = approved_article(project, annotator, reviewer, TEXTS[0])
    a2 = make_article(project, text=TEXTS[1])
    add_layer(a2, annotator2, spans=[("SOURCE", "Police")])
    add_layer(a2, reviewer, kind=AssignmentKind.REVIEW,
              spans=[("SOURCE", "Police"), ("CLAIM", "the road was closed"), ("CLAIM", "🇺🇦 aid arrived on Monday"),
                     ("SOURCE", "Reuters")], links=[(1, 0), (2, 3)])
    approve(a2, reviewer)
    a3 = make_article(project, text=TEXTS[2])
    add_layer(a3, reviewer, kind=AssignmentKind.REVIEW,
              spans=[("CLAIM", "=SUM(A1) is not a claim"), ("SOURCE", "the analyst")], links=[(0, 1)])
    suggest(a3, "SOURCE", "@home")
    approve(a3, reviewer)
    return [a1, a2, a3]
