"""The token arrays conll/spacy are built from, and their cache blobs: exactly spaCy's English
tokenizer's tokens, and a cached blob gives byte-identical exports. No database."""

import io

import pytest

from annotations.exporters import conll, spacy_docbin
from annotations.exporters.tokenize import (
    SENT,
    SPACE,
    SPACY_FLAG,
    batches,
    decode_tokens,
    encode_tokens,
    nlp,
    tokenise,
)

TEXTS = [
    "The minister said 42 people died. 👍 =Police said so.",
    " leading space and  two spaces\tand a tab ",
    "Police said the road was closed.\r\nThe mayor claimed 🇺🇦 aid arrived on Monday, according to Reuters.",
    "Dr. Smith met Mr. Jones. 😀 Fine.\r\n\r\nNext line? ok…  “Quoted,” he said.   ",
    "x",
    " \n\n ",  # no visible token: conll takes the token-by-token path for its batch
    "Ünïcødé Straße — naïve café's. 中文句子。Done!",
]


@pytest.mark.parametrize("text", TEXTS)
def test_token_arrays_are_spacys_tokens(text):
    doc = nlp().tokenizer(text)
    lengths, flags, orth = tokenise([text])[0]
    assert lengths.tolist() == [len(t) for t in doc]
    assert orth.tolist() == [t.orth for t in doc]
    assert [bool(f & SPACE) for f in flags.tolist()] == [t.is_space for t in doc]
    assert [bool(f & SPACY_FLAG) for f in flags.tolist()] == [bool(t.whitespace_) for t in doc]
    sentencizer = nlp().create_pipe("sentencizer")
    assert [bool(f & SENT) for f in flags.tolist()] == [bool(t.is_sent_start) for t in sentencizer(doc)]


@pytest.mark.parametrize("text", TEXTS)
def test_blob_round_trip_and_text_check(text):
    arrays = tokenise([text])[0]
    blob = encode_tokens(*arrays)
    back = decode_tokens(blob, len(text))
    assert all((a == b).all() for a, b in zip(arrays, back, strict=True))
    assert decode_tokens(blob, len(text) + 1) is None  # another text: not used
    assert decode_tokens(blob[:-3], len(text)) is None
    assert decode_tokens(b"garbage", len(text)) is None


def _articles(texts):
    out = []
    for i, text in enumerate(texts):
        words = [(m, m + 5) for m in range(0, len(text) - 5, 7)]
        spans = [{"id": 10 * i + k, "label": ("CLAIM", "SOURCE", "Источник")[k % 3], "start": a, "end": b}
                 for k, (a, b) in enumerate(words)]
        spans.append({"id": 10 * i + 99, "label": "CLAIM", "start": 0, "end": len(text)})  # overlaps the rest
        out.append({"id": i + 1, "text": text, "spans": spans,
                    "relations": [{"id": 1, "from": spans[0]["id"], "to": spans[-1]["id"], "type": "attributed_to"}]})
    return out


def _blobs(articles):
    got = []
    list(conll.render(articles, on_tokens=got.extend))
    return {a["id"]: encode_tokens(*arrays) for a, arrays in got}


@pytest.mark.parametrize("size", [1, 3, 128])
def test_cached_tokens_give_byte_identical_conll_and_spacy(size):
    cold = _articles(TEXTS * 2)
    blobs = _blobs(cold)
    assert set(blobs) == {a["id"] for a in cold}  # every tokenised text hands its blob back
    warm = [dict(a, tokens=blobs[a["id"]]) for a in _articles(TEXTS * 2)]
    mixed = [dict(a, tokens=blobs[a["id"]]) if a["id"] % 2 else a for a in _articles(TEXTS * 2)]
    stale = [dict(a, tokens=blobs[a["id"] % len(TEXTS) + 1]) for a in _articles(TEXTS * 2)]  # blobs of other texts

    def conll_bytes(arts):
        return b"".join(b for batch in batches(arts, size=size) for b in [conll.batch_text(batch)])

    def spacy_bytes(arts):
        writer = spacy_docbin.DocBinWriter()
        for batch in batches(arts, size=size):
            writer.add_batch(batch)
        out = io.BytesIO()
        writer.finish(out)
        return out.getvalue()

    reference_conll, reference_spacy = conll_bytes(_articles(TEXTS * 2)), spacy_bytes(_articles(TEXTS * 2))
    for arts in (warm, mixed, stale):
        assert conll_bytes(arts) == reference_conll
        assert spacy_bytes(arts) == reference_spacy


def test_warm_batches_do_not_call_the_tokenizer(monkeypatch):
    import annotations.exporters.tokenize as tokenize

    blobs = _blobs(_articles(TEXTS))
    warm = [dict(a, tokens=blobs[a["id"]]) for a in _articles(TEXTS)]

    def refuse(texts):
        raise AssertionError(f"tokenised {len(texts)} texts")

    monkeypatch.setattr(tokenize, "tokenise", refuse)
    batch = next(batches(warm, keep_tokens=True))
    assert batch.fresh == []
    assert b"B-" in conll.batch_text(batch)


@pytest.mark.parametrize("size", [1, 3, 128])
def test_spacy_file_holds_what_spacy_would_build(size):
    """Against spaCy's own objects: the tokens (text, whitespace, sentence starts) of its tokenizer and
    sentencizer, and every span as `doc.char_span(..., alignment_mode="expand")` with its id and label,
    across batches, with emoji, CRLF, overlapping spans and non-Latin labels."""
    import spacy
    from spacy.tokens import DocBin

    from annotations.exporters.tokenize import with_decoded_tokens

    arts = _articles(TEXTS * 2)
    blobs = _blobs(_articles(TEXTS * 2))
    warm = list(with_decoded_tokens(dict(a, tokens=blobs[a["id"]]) for a in arts))
    for source in (arts, warm):
        writer = spacy_docbin.DocBinWriter()
        for batch in batches(source, size=size):
            writer.add_batch(batch)
        out = io.BytesIO()
        writer.finish(out)
        docs = list(DocBin().from_bytes(out.getvalue()).get_docs(spacy.blank("en").vocab))
        reference = spacy.blank("en")
        reference.add_pipe("sentencizer")
        assert len(docs) == len(arts)
        for doc, article in zip(docs, arts, strict=True):
            ref = reference(article["text"])
            assert [(t.text, t.whitespace_, t.is_sent_start) for t in doc] == [
                (t.text, t.whitespace_, t.is_sent_start) for t in ref]
            got = sorted((s.label_, s.id_, s.start, s.end, s.start_char, s.end_char) for k in doc.spans
                         for s in doc.spans[k])
            want = []
            for s in article["spans"]:
                sp = ref.char_span(s["start"], s["end"], alignment_mode="expand")
                if sp is not None and len(sp):
                    want.append((s["label"], str(s["id"]), sp.start, sp.end, sp.start_char, sp.end_char))
            assert got == sorted(want)
            assert all(doc.spans[k].name == k for k in doc.spans)
            assert doc.user_data["article_id"] == article["id"]
