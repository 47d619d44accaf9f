"""CoNLL-style BIO: one `token<TAB>tag` per line, a blank line between sentences.

Each article starts with a `-DOCSTART-<TAB>O` line and a blank line (the CoNLL-2003 convention).
Tokens and sentences come from exporters.tokenize (spaCy's English tokenizer and sentencizer);
whitespace tokens are left out. Tags come from non-overlapping spans widened to whole tokens.
Code points do not appear in this format, so `offsets` does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from annotations.exporters.base import buffered
from annotations.exporters.tokenize import docs, entity_spans

CONTENT_TYPE = "text/plain; charset=utf-8"
EXTENSION = "conll"


def doc_lines(doc, spans: list[dict]) -> Iterator[str]:
    from spacy.attrs import IS_SPACE, SENT_START

    tags = ["O"] * len(doc)
    for ent in entity_spans(doc, spans):
        tags[ent.start] = "B-" + ent.label_
        for i in range(ent.start + 1, ent.end):
            tags[i] = "I-" + ent.label_
    flags = doc.to_array([SENT_START, IS_SPACE]).tolist()
    text = doc.text
    parts = []
    in_sentence = False
    for token, (sent_start, is_space), tag in zip(doc, flags, tags, strict=True):
        if sent_start == 1 and in_sentence:
            parts.append("\n")
            in_sentence = False
        if is_space:
            continue
        idx = token.idx
        parts.append(f"{text[idx:idx + len(token)]}\t{tag}\n")
        in_sentence = True
    if in_sentence:
        parts.append("\n")
    yield "".join(parts)


def render(articles: Iterable[dict]) -> Iterator[bytes]:
    def pieces():
        for doc, article in docs(articles):
            yield "-DOCSTART-\tO\n\n"
            yield from doc_lines(doc, article["spans"])

    return buffered(pieces())
