"""Helpers for workspace tests: machine suggestions and big articles (rows built directly, as a
pre-annotation job would write them)."""

from annotations.models import LabelType, Origin, Relation, RelationType, Span, SuggestionState


def make_suggestion(article, label_name, start, end, *, confidence=0.9, model_version="test-1"):
    label = LabelType.objects.get(project=article.project, name=label_name)
    return Span.objects.create(
        article=article, assignment=None, label=label, start=start, end=end, text=article.text[start:end],
        origin=Origin.MACHINE, state=SuggestionState.PENDING, confidence=confidence, preannotator="test",
        model_version=model_version,
    )


def make_suggested_relation(article, from_span, to_span, *, confidence=0.9):
    rtype = RelationType.objects.get(project=article.project, name="attributed_to")
    return Relation.objects.create(
        article=article, assignment=None, type=rtype, from_span=from_span, to_span=to_span,
        origin=Origin.MACHINE, state=SuggestionState.PENDING, confidence=confidence,
    )


def find(text, needle, nth=0):
    """Code-point [start, end) of the nth occurrence of needle in text."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    return i, i + len(needle)


def big_text(words=10_000):
    vocab = ["The", "minister", "said", "that", "prices", "rose", "sharply", "according", "to", "officials",
             "in", "Zürich", "🎉", "Москва", "reported", "on", "Tuesday."]
    out = []
    for i in range(words):
        out.append(vocab[i % len(vocab)])
        if i % 40 == 39:
            out.append("\n\n")
    return " ".join(out)


def bulk_spans(article, assignment, n, *, suggestions=0):
    """n human spans in `assignment`'s layer (and `suggestions` machine ones) spread over the text."""
    labels = list(LabelType.objects.filter(project=article.project).order_by("order"))
    text = article.text
    words, pos = [], 0
    for w in text.split(" "):
        if w.strip():
            s = text.index(w, pos)
            words.append((s, s + len(w)))
            pos = s + len(w)
    rows = []
    step = max(1, len(words) // max(1, n + suggestions))
    for i in range(n + suggestions):
        s, _ = words[(i * step) % len(words)]
        _, e = words[min(len(words) - 1, (i * step) % len(words) + (i % 3))]
        machine = i >= n
        rows.append(Span(
            article=article, assignment=None if machine else assignment, label=labels[i % len(labels)], start=s,
            end=e, text=text[s:e], origin=Origin.MACHINE if machine else Origin.HUMAN,
            state=SuggestionState.PENDING if machine else SuggestionState.ACCEPTED,
            confidence=0.5 + (i % 50) / 100 if machine else None,
        ))
    Span.objects.bulk_create(rows, batch_size=500)
