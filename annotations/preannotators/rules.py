"""Attribution rules: CLAIM and SOURCE suggestions from a spaCy ``Doc``. Pure functions.

Nothing here loads a model or touches Django: callers hand in a processed ``Doc``.
Two entry points:

* ``annotate_parsed(doc)``: for a Doc from a trained pipeline (tagger, lemmatizer, dependency
  parser, NER). Attribution is read off the dependency tree.
* ``annotate_tokens(doc, matcher)``: for a Doc from ``spacy.blank("en")`` + sentencizer (no parse,
  no tags). Attribution is found with token patterns and capitalised-noun-phrase heuristics.

Both return ``(spans, relations)`` as ``SuggestedSpan`` / ``SuggestedRelation`` (code-point
offsets; spaCy's ``token.idx`` is already code points). Every span is cut on token boundaries and
trimmed so that it never starts or ends on whitespace or on quote marks / trailing punctuation.

Patterns (parsed engine):

* ``X said/says/told/estimated/warned/... (that) Y``: SOURCE = subject noun phrase of the
  reporting verb (its subtree: compounds, apposition, possessives, relative clause), CLAIM = the
  verb's clausal complement (``ccomp``) without the complementiser "that".
* ``Y, X said.`` / ``"Y," X said.`` / ``"Y," said X.``: the verb hangs off the quoted/reported
  clause (or takes it as ``ccomp``); CLAIM = the sentence minus the attribution, quote marks and
  the comma.
* ``X said: "Y"`` / ``X told reporters: "Y"``: CLAIM = the quoted words.
* ``..., saying Y`` / ``X emerged to say Y`` / ``X was quoted as saying Y``: the verb has no subject
  of its own; SOURCE = the subject of the governing verb.
* ``according to X``: SOURCE = X, CLAIM = the rest of the sentence.
* Two attributions in one sentence (``X said Y, according to Z`` / ``According to Z, X said Y`` /
  ``"Y," X said, according to Z``): one CLAIM (Y, without either attribution) linked to both
  X and Z; "according to Z" is cut from the claim when it sits at one of its edges.
* ``it is understood/believed/reported (that) Y``: SOURCE = "it is understood" (unnamed).
* ``reportedly`` / ``allegedly``: SOURCE = the adverb (unnamed), CLAIM = the sentence.
* A new quoted sentence right after an attributed quote (``"A," he said. "B."``) is a CLAIM
  attributed to the same SOURCE span; a quote that opens in one sentence and is attributed in the
  next (``"A. B," she said.``) is one CLAIM. Quote state is carried across sentences, but a
  stray unclosed quote mark does not swallow the rest of the text (see ``quote_states``).
* Any other sentence is a CLAIM candidate without source, scored by ``checkworthiness``.

Reporting verbs inside quoted speech are ignored (a speaker quoting "we said" is not a new
attribution), and a reporting verb inside a CLAIM already found is not a new attribution either.

SOURCE attributes: ``source_kind`` is "named" (a person), "institutional" (organisation,
government, country, institution head noun, gazetteer entry) or "unnamed" ("officials",
"sources", "a spokesman", "reportedly", "it is understood"); ``pattern`` names the rule;
pronoun sources carry ``mention: "pronoun"`` and ``refers_to`` (he/she: the last named person
quoted as a source before; they/it/we: the last source). CLAIM attributes: ``attributed``.
CLAIM confidence = ``checkworthiness``; SOURCE confidence = the rule's ``SOURCE_CONFIDENCE``.
Entity labels are corrected with the gazetteer first (``fix_entities``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from .base import SuggestedRelation, SuggestedSpan
from .gazetteer import (
    COUNTRIES,
    INSTITUTION_HEADS,
    INSTITUTIONS,
    NATIONALITIES,
    PERSON_TITLES,
    UNNAMED_ADVERBS,
    UNNAMED_HEADS,
)

# 1.1: wire datelines stay out of CLAIM spans.
# 1.2: a sentence with two attributions ("X said Y, according to Z") gives one CLAIM linked to both.
RULES_VERSION = "1.2"


def _wordset(block: str) -> frozenset[str]:
    return frozenset(block.split())


# Lemmas of verbs that introduce reported speech/assertion. Extend freely.
REPORTING_LEMMAS = frozenset(
    {
        "say", "tell", "note", "state", "estimate", "warn", "claim", "announce", "add", "report",
        "confirm", "deny", "insist", "argue", "explain", "allege", "assert", "declare", "disclose",
        "reveal", "admit", "acknowledge", "concede", "stress", "emphasise", "emphasize", "maintain",
        "contend", "testify", "reiterate", "predict", "forecast", "suggest", "indicate", "write",
        "tweet", "comment", "observe", "remark", "caution", "complain", "accuse", "boast", "vow",
        "promise", "pledge", "reply", "respond", "answer", "recall", "point",
    }
)
# Verbs of speech proper (their clause may be misparsed as an adverbial clause).
SPEECH_LEMMAS = frozenset({"say", "tell", "claim", "insist", "warn", "argue", "state", "add", "explain", "report"})
# Only in the impersonal passive: "it is understood / believed / thought / known that ...".
IMPERSONAL_LEMMAS = frozenset(
    {"understand", "believe", "think", "know", "report", "say", "expect", "estimate", "claim", "allege", "fear"}
)
# Inflected forms for the fallback (no lemmatizer there).
REPORTING_FORMS = _wordset(
    """
say says said saying tell tells told telling note notes noted state states stated estimate estimates
estimated warn warns warned claim claims claimed announce announces announced add adds added report
reports reported confirm confirms confirmed deny denies denied insist insists insisted argue argues
argued explain explains explained allege alleges alleged assert asserts asserted declare declares
declared reveal reveals revealed admit admits admitted acknowledge acknowledges acknowledged stress
stresses stressed predict predicts predicted suggest suggests suggested
"""
)

QUOTES = frozenset({'"', "\u201c", "\u201d", "\u201e", "\u00ab", "\u00bb", "''", "``"})
OPEN_QUOTES = frozenset({"\u201c", "\u201e", "\u00ab", "``"})
CLOSE_QUOTES = frozenset({"\u201d", "\u00bb", "''"})
TRIM_PUNCT = frozenset({",", ".", ";", ":", "!", "?", "-", "\u2013", "\u2014", "...", "\u2026", "'"}) | QUOTES
PRONOUNS = frozenset({"he", "she", "they", "we", "i", "it", "you"})
NUMERIC_ENTS = frozenset({"CARDINAL", "PERCENT", "MONEY", "QUANTITY", "DATE", "TIME", "ORDINAL"})
NAMED_ENTS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "LAW", "PRODUCT", "WORK_OF_ART"})
CHANGE_LEMMAS = _wordset(
    """
rise fall drop double triple halve increase decrease grow shrink surge soar plunge plummet climb
decline jump slump cut raise reduce slash boost exceed top kill die injure wound arrest charge
sentence destroy evacuate suspend resign quit launch ban
"""
)
CHANGE_FORMS = _wordset(
    """
rose risen fell fallen dropped doubled tripled halved increased decreased grew grown shrank surged
soared plunged plummeted climbed declined jumped slumped cut raised reduced slashed boosted exceeded
killed died injured wounded arrested charged sentenced destroyed evacuated suspended resigned quit
launched banned
"""
)
PREDICTION_WORDS = frozenset(
    {"will", "expect", "expects", "expected", "forecast", "predict", "likely", "plan", "plans", "would"}
)

# Minimum check-worthiness for a CLAIM to be emitted. Tuned on the "tune" split of the dev set
# (`bench/preannotation_quality.py --sweep`): the highest threshold whose CLAIM overlap-F1 is within
# 0.005 of the best one. The dev set has few non-check-worthy sentences, so precision barely
# constrains it; we lean to the conservative side of the plateau.
CLAIM_THRESHOLD = 0.35
SOURCE_CONFIDENCE = {
    "subject": 0.9,
    "according_to": 0.85,
    "impersonal": 0.7,
    "adverb": 0.6,
    "fallback": 0.6,
}


@dataclass
class Attribution:
    source: tuple[int, int] | None  # token range, half-open
    claims: list[tuple[int, int]]
    pattern: str
    source_conf: float = 0.9
    kind: str | None = None  # forced source_kind (unnamed adverbs, impersonal passive)
    trigger: int | None = None  # token index of the reporting verb / adverb / "according"


@dataclass
class _Out:
    spans: list[SuggestedSpan] = field(default_factory=list)
    relations: list[SuggestedRelation] = field(default_factory=list)
    index: dict = field(default_factory=dict)  # (start, end, label) -> span index
    linked: set = field(default_factory=set)  # (claim index, source index) already linked

    def add(self, span: SuggestedSpan) -> int:
        key = (span.start, span.end, span.label)
        if key not in self.index:
            self.index[key] = len(self.spans)
            self.spans.append(span)
        return self.index[key]


# --------------------------------------------------------------------------- entities / gazetteer


def fix_entities(doc: Doc) -> Doc:
    """Correct NER labels with the gazetteer, in place; also tags uncovered single-word countries.

    The small model labels some countries PERSON or ORG ("Malawi", "Mali", "Vanuatu", "Chad").
    """
    new_ents = []
    covered = set()
    for ent in doc.ents:
        core = _core_name(ent.text)
        label = ent.label_
        if core in COUNTRIES:
            label = "GPE"
        elif core in NATIONALITIES:
            label = "NORP"
        elif core in INSTITUTIONS:
            label = "ORG"
        new_ents.append(ent if label == ent.label_ else Span(doc, ent.start, ent.end, label=label))
        covered.update(range(ent.start, ent.end))
    for tok in doc:
        if tok.i in covered:
            continue
        if tok.text in COUNTRIES:
            new_ents.append(Span(doc, tok.i, tok.i + 1, label="GPE"))
        elif tok.text in INSTITUTIONS and (tok.is_upper or tok.is_title):
            new_ents.append(Span(doc, tok.i, tok.i + 1, label="ORG"))
        elif tok.text in NATIONALITIES:
            new_ents.append(Span(doc, tok.i, tok.i + 1, label="NORP"))
    doc.ents = sorted(new_ents, key=lambda s: s.start)
    return doc


def _core_name(text: str) -> str:
    text = re.sub(r"^(?:the|The)\s+", "", text.strip())
    return re.sub(r"(?:'s|\u2019s|')$", "", text)


def source_kind(doc: Doc, start: int, end: int) -> dict:
    """Attributes for a SOURCE token range: {"source_kind": named|institutional|unnamed, ...}."""
    toks = [t for t in doc[start:end] if not t.is_punct and not t.is_space]
    if not toks:
        return {"source_kind": "unnamed"}
    words = [t.text for t in toks]
    low = [w.lower() for w in words]
    if len(toks) == 1 and low[0] in PRONOUNS:
        return {"source_kind": "named", "mention": "pronoun"}
    if len(toks) == 1 and low[0] in UNNAMED_ADVERBS:
        return {"source_kind": "unnamed"}
    labels = {t.ent_type_ for t in toks if t.ent_type_}
    text = doc[start:end].text
    head = _head_noun(toks)
    has_title = any(w in PERSON_TITLES for w in words)
    if "PERSON" in labels or (has_title and any(t.is_title and t.text not in PERSON_TITLES for t in toks[1:])):
        return {"source_kind": "named"}
    if head is not None and head.lower_ in UNNAMED_HEADS:
        return {"source_kind": "unnamed"}
    last = toks[-1]
    if (
        not doc.has_annotation("TAG")
        and len(toks) >= 2
        and last.is_title
        and toks[-2].is_title
        and not last.ent_type_
        and last.lower_ not in INSTITUTION_HEADS
    ):
        return {"source_kind": "named"}  # no NER: "... agent Margaret Cronin"
    if (
        labels & {"ORG", "GPE", "NORP"}
        or (head is not None and head.lower_ in INSTITUTION_HEADS)
        or any(_core_name(text).endswith(name) for name in INSTITUTIONS)
    ):
        return {"source_kind": "institutional"}
    tagged = doc.has_annotation("TAG")
    if any(
        t.pos_ == "PROPN" or (t.is_title and (i > 0 or not tagged) and t.lower_ not in {"the", "a", "an"})
        for i, t in enumerate(toks)
    ):
        return {"source_kind": "named"}
    return {"source_kind": "unnamed"}


def _head_noun(toks: Sequence[Token]) -> Token | None:
    # With a parse: the token whose head lies outside the range; else the last noun-ish token
    # before a preposition / relative pronoun ("a spokesman for the ministry" -> spokesman).
    ids = {t.i for t in toks}
    if toks and toks[0].doc.has_annotation("DEP"):
        for t in toks:
            if t.head.i not in ids or t.head.i == t.i:
                return t
    last = None
    for t in toks:
        if t.lower_ in {"for", "of", "at", "in", "who", "which", "that", ","}:
            break
        last = t
    return last


# --------------------------------------------------------------------------- span helpers


def trim(doc: Doc, start: int, end: int, drop_that: bool = True) -> tuple[int, int] | None:
    """Shrink a token range: no whitespace, quote marks or stray punctuation at either edge,
    no leading complementiser "that". None if nothing is left."""
    while start < end and _trimmable(doc[start]):
        start += 1
    if drop_that and start < end - 1 and doc[start].lower_ == "that" and _is_complementiser(doc[start]):
        start += 1
    while start < end and _trimmable(doc[end - 1]):
        end -= 1
    # A dangling connector at the end ("... , and", "but").
    while start < end and doc[end - 1].lower_ in {"and", "but", "or"}:
        end -= 1
        while start < end and _trimmable(doc[end - 1]):
            end -= 1
    if start >= end:
        return None
    return start, end


def _trimmable(tok: Token) -> bool:
    """Whitespace, quote marks, stray punctuation, and pure symbol/emoji tokens."""
    if tok.is_space or tok.text in TRIM_PUNCT:
        return True
    return all(unicodedata.category(c) in ("So", "Sk", "Mn", "Me", "Cf", "Zs") for c in tok.text)


def _is_complementiser(tok: Token) -> bool:
    if tok.doc.has_annotation("DEP"):
        return tok.dep_ == "mark"
    nxt = tok.nbor(1) if tok.i + 1 < len(tok.doc) else None
    return nxt is not None and nxt.lower_ not in {"'s", "is", "was", "will", "would"}


def char_span(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Code-point offsets of a token range, shrunk so that no whitespace is at either edge.

    Token boundaries are already trimmed of space tokens; this also catches whitespace that the
    tokenizer glues to a token (e.g. U+001C..U+001F or U+2028 next to a symbol). May return an
    empty range (a == b) for a range of whitespace only; callers skip those.
    """
    piece = doc[start:end].text  # == doc.text[first.idx : last.idx + len(last)], built from the range only
    a = doc[start].idx
    stripped = piece.strip()
    if not stripped:
        return a, a
    lead = len(piece) - len(piece.lstrip())
    return a + lead, a + lead + len(stripped)


def _words(doc: Doc, start: int, end: int) -> int:
    return sum(1 for t in doc[start:end] if not t.is_punct and not t.is_space)


def quote_scan(sent: Span, inside: bool = False) -> tuple[list[bool], bool]:
    """Per token: True if it is a quote mark or inside quoted speech; plus the state at the end.

    `inside` is the state carried over from the previous sentence. A sentence that starts with a
    quote mark opens a new quote whatever the carried state (news style re-opens quotes at each
    new paragraph without closing the previous one).
    """
    if _starts_with_quote(sent):
        inside = False
    mask = []
    for tok in sent:
        if tok.text in QUOTES:
            mask.append(True)
            if tok.text in OPEN_QUOTES:
                inside = True
            elif tok.text in CLOSE_QUOTES:
                inside = False
            else:
                inside = not inside
        else:
            mask.append(inside)
    return mask, inside


def quote_mask(sent: Span, inside: bool = False) -> list[bool]:
    return quote_scan(sent, inside)[0]


def quote_states(sents: Iterable[Span]) -> list[tuple[bool, bool]]:
    """(starts inside a quote carried over, ends inside a quote) for each sentence."""
    sents = list(sents)
    has_mark = [any(t.text in QUOTES for t in s) for s in sents]
    out = []
    inside = False
    for i, sent in enumerate(sents):
        carried = inside and not _starts_with_quote(sent)
        if carried and not has_mark[i]:
            # An open quote carries over a sentence without quote marks only if the next one closes
            # it; otherwise the quote mark was stray and must not swallow the rest of the text.
            nxt = i + 1 < len(sents) and has_mark[i + 1] and not _starts_with_quote(sents[i + 1])
            carried = bool(nxt)
        _, inside = quote_scan(sent, carried)
        out.append((carried, inside))
    return out


def _quoted_runs(sent: Span, mask: list[bool]) -> list[tuple[int, int]]:
    runs = []
    i = 0
    n = len(mask)
    while i < n:
        if mask[i]:
            j = i
            while j < n and mask[j]:
                j += 1
            runs.append((sent.start + i, sent.start + j))
            i = j
        else:
            i += 1
    return runs


def _starts_with_quote(sent: Span) -> bool:
    for tok in sent:
        if tok.is_space:
            continue
        return tok.text in QUOTES and tok.text not in CLOSE_QUOTES
    return False


# --------------------------------------------------------------------------- check-worthiness


def checkworthiness(doc: Doc, start: int, end: int, attributed: bool = False) -> float:
    """0..1: how worth checking the token range is.

    Adds evidence for: figures (numbers, %, money, dates), named entities, comparatives and
    superlatives, change verbs (rose, fell, doubled, killed ...), predictions (will, expect ...),
    past-tense/perfect event verbs, and being an attributed assertion. Penalises questions and
    very short text.
    """
    toks = [t for t in doc[start:end] if not t.is_space]
    if not toks:
        return 0.0
    words = [t for t in toks if not t.is_punct]
    score = 0.15
    if attributed:
        score += 0.3
    if any(t.like_num or t.ent_type_ in NUMERIC_ENTS or t.text[:1] in "%$\u20ac\u00a3" for t in toks):
        score += 0.25
    named = {t.ent_type_ for t in toks if t.ent_type_ in NAMED_ENTS}
    named_words = {t.lower_ for t in toks if t.ent_type_ in NAMED_ENTS}
    if not doc.has_annotation("ENT_IOB") or not named:
        # Without NER: capitalised words that do not start the text.
        caps = {t.lower_ for t in toks[1:] if t.is_title and t.lower_ not in PRONOUNS and t.text != "I"}
        named_words |= caps
    if named or named_words:
        score += 0.15
        if len(named_words) >= 3:
            score += 0.05
    tagged = doc.has_annotation("TAG")
    comparative_words = {"more", "most", "less", "least", "fewer", "biggest", "largest", "worst", "best"}
    if any(t.tag_ in ("JJR", "JJS", "RBR", "RBS") if tagged else t.lower_ in comparative_words for t in toks):
        score += 0.1
    if any(t.lemma_.lower() in CHANGE_LEMMAS if tagged else t.lower_ in CHANGE_FORMS for t in toks):
        score += 0.15
    if any(t.lower_ in PREDICTION_WORDS or (tagged and t.lemma_ in ("expect", "forecast", "predict")) for t in toks):
        score += 0.1
    if tagged and any(t.tag_ in ("VBD", "VBN") and t.dep_ in ("ROOT", "ccomp", "conj") for t in toks):
        score += 0.1
    elif not tagged and any(
        t.lower_ in {"has", "have", "had", "was", "were"} or (t.is_lower and len(t) > 4 and t.lower_.endswith("ed"))
        for t in toks
    ):
        score += 0.1  # past / perfect event, guessed from the word form
    if len(words) < 5:
        score -= 0.1 if attributed else 0.2
    if toks[-1].text == "?" or (end < len(doc) and doc[end].text == "?"):
        score -= 0.3
    return round(max(0.0, min(1.0, score)), 3)


# --------------------------------------------------------------------------- parsed engine


def _subject(tok: Token) -> Token | None:
    for c in tok.children:
        if c.dep_ in ("nsubj", "nsubjpass"):
            return c
    return None


def _governing_subject(tok: Token) -> Token | None:
    """Subject of a reporting verb that has none of its own (saying / to say / quoted as saying)."""
    cur = tok
    for _ in range(4):
        if cur.dep_ not in ("advcl", "xcomp", "conj", "pcomp", "prep") or cur.head.i == cur.i:
            return None
        cur = cur.head
        subj = _subject(cur)
        if subj is not None:
            return subj
    return None


def _source_range(subj: Token, trigger: Token) -> tuple[int, int] | None:
    doc = subj.doc
    if subj.tag_ in ("WP", "WDT") and trigger.dep_ == "relcl":
        noun = trigger.head
        rng = (noun.left_edge.i, trigger.left_edge.i)
    elif _trimmable(subj):
        # an emoji/symbol parsed as the subject: take the noun phrase right before it
        i = subj.i
        np_pos = ("PROPN", "NOUN", "ADJ", "DET", "NUM")
        while i > 0 and (doc[i - 1].pos_ in np_pos or doc[i - 1].tag_ in ("HYPH", "POS")):
            i -= 1
        rng = (i, subj.i)
    else:
        rng = (subj.left_edge.i, subj.right_edge.i + 1)
    r = trim(doc, rng[0], rng[1], drop_that=False)
    if r is None:
        return None
    if r[1] - r[0] > 30:  # runaway subtree: keep the base noun phrase
        for chunk in doc.noun_chunks:
            if chunk.start <= subj.i < chunk.end:
                return chunk.start, chunk.end
        return subj.i, subj.i + 1
    return r


def _remainder_ranges(sent: Span, lo: int, hi: int) -> list[tuple[int, int]]:
    """The sentence parts left and right of the attribution [lo, hi), trimmed, >= 3 words each."""
    doc = sent.doc
    out = []
    for a, b in ((sent.start, lo), (hi, sent.end)):
        r = trim(doc, a, b)
        if r and _words(doc, *r) >= 3:
            out.append(r)
    return out


def _in_ranges(i: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(a <= i < b for a, b in ranges)


def _cut_phrase(doc: Doc, claim: tuple[int, int], p0: int, p1: int) -> tuple[int, int] | None:
    """The claim without the attribution phrase [p0, p1) ("according to Z") when the phrase sits at
    one of its edges ("Y, according to Z" / "according to Z, that Y"); None if nothing is left.
    A phrase in the middle stays (a span has no holes)."""
    c0, c1 = claim
    if p1 <= c0 or p0 >= c1:
        return claim
    before = trim(doc, c0, p0) if p0 > c0 else None
    if before and before[1] - before[0] == 1 and doc[before[0]].lower_ == "that":
        before = None  # "said that, according to Z, Y"
    after = trim(doc, p1, c1) if p1 < c1 else None
    if before and after:
        return claim
    return before or after


def _hosts(doc: Doc, att: Attribution, p0: int, p1: int) -> bool:
    """True if the phrase [p0, p1) ("according to Z") is a second attribution of `att`'s claims.

    It is when it lies inside one of them, or (with a parse) hangs off the reporting verb, or
    (without one) touches the attribution with nothing but punctuation between ("According to Z,
    X said Y" / "Y, X said, according to Z"). Not when it overlaps the first source.
    """
    if att.pattern == "according_to" or not att.claims:
        return False
    if att.source and p0 < att.source[1] and att.source[0] < p1:
        return False
    if _in_ranges(p0, att.claims):
        return True
    if att.trigger is None:
        return False
    if doc.has_annotation("DEP"):
        return doc[att.trigger].is_ancestor(doc[p0])
    edges = [*att.claims, (att.trigger, att.trigger + 1), *([att.source] if att.source else [])]
    lo = min(a for a, _ in edges)
    hi = max(b for _, b in edges)
    gap = range(p1, lo) if p1 <= lo else range(hi, p0) if hi <= p0 else range(0)
    return all(doc[i].is_punct or doc[i].is_space for i in gap)


def _second_source(doc: Doc, hosts: list[Attribution], src: tuple[int, int], p0: int) -> Attribution:
    """"according to Z" on top of another attribution: cut the phrase [p0, end of Z) from the
    hosts' claims (in place) and return Z as a second source of the same claims."""
    for host in hosts:
        host.claims = [_cut_phrase(doc, c, p0, src[1]) or c for c in host.claims]
    claims = list(dict.fromkeys(c for host in hosts for c in host.claims))
    return Attribution(src, claims, "according_to", SOURCE_CONFIDENCE["according_to"], trigger=p0)


def _sentence_attributions_parsed(sent: Span, carried: bool = False) -> list[Attribution]:
    doc = sent.doc
    mask = quote_mask(sent, carried)
    runs = _quoted_runs(sent, mask)
    found: list[Attribution] = []

    def outside_quotes(tok: Token) -> bool:
        return not mask[tok.i - sent.start]

    anchors = []
    for tok in sent:
        if not outside_quotes(tok):
            continue
        low = tok.lower_
        lemma = tok.lemma_.lower()
        if low == "according" and tok.i + 1 < sent.end and doc[tok.i + 1].lower_ == "to":
            anchors.append(("according_to", tok))
        elif low in UNNAMED_ADVERBS:
            anchors.append(("adverb", tok))
        elif tok.pos_ in ("VERB", "AUX") and lemma in IMPERSONAL_LEMMAS and any(
            c.dep_ == "nsubjpass" and c.lower_ == "it" for c in tok.children
        ):
            if not any(c.dep_ == "neg" for c in tok.children):  # "it is not known whether ..." asserts nothing
                anchors.append(("impersonal", tok))
        elif tok.pos_ in ("VERB", "AUX") and lemma in REPORTING_LEMMAS:
            anchors.append(("subject", tok))
    # Shallow anchors first: a reporting verb inside a claim already found is not an attribution.
    anchors.sort(key=lambda a: (_depth(a[1]), a[1].i))
    claimed: list[tuple[int, int]] = []
    for kind, tok in anchors:
        if kind == "according_to" and (src := _according_source(sent, tok)):
            # A second attribution of a claim found already ("X said Y, according to Z"; the
            # reporting verb is shallower in the tree, so it came first): one claim, two sources.
            hosts = [a for a in found if _hosts(doc, a, tok.i, src[1])]
            if hosts:
                found.append(_second_source(doc, hosts, src, tok.i))
                continue
        if _in_ranges(tok.i, claimed):
            continue
        att = None
        if kind == "according_to":
            att = _according_to(sent, tok)
        elif kind == "adverb":
            r = trim(doc, sent.start, sent.end)
            if r:
                att = Attribution((tok.i, tok.i + 1), [r], "adverb", SOURCE_CONFIDENCE["adverb"], "unnamed")
        elif kind == "impersonal":
            subj = next(c for c in tok.children if c.dep_ == "nsubjpass")
            claims = [trim(doc, c.left_edge.i, c.right_edge.i + 1) for c in tok.children if c.dep_ == "ccomp"]
            claims = [c for c in claims if c]
            if claims:
                att = Attribution((subj.i, tok.i + 1), claims, "impersonal", SOURCE_CONFIDENCE["impersonal"], "unnamed")
        else:
            att = _reporting_verb(sent, tok, runs)
        if att is None:
            continue
        att.trigger = tok.i
        if att.source and any(_in_ranges(i, claimed) for i in range(*att.source)):
            continue
        found.append(att)
        claimed.extend(att.claims)
    return found


def _depth(tok: Token) -> int:
    d = 0
    while tok.head.i != tok.i and d < 50:
        tok = tok.head
        d += 1
    return d


def _according_source(sent: Span, tok: Token) -> tuple[int, int] | None:
    """Token range of Z in "according to Z" (`tok` is "according")."""
    doc = sent.doc
    to = doc[tok.i + 1]
    pobj = next((c for c in to.children if c.dep_ == "pobj"), None)
    if pobj is not None:
        return trim(doc, pobj.left_edge.i, pobj.right_edge.i + 1, drop_that=False)
    j = to.i + 1
    while j < sent.end and not doc[j].is_punct and j - to.i <= 10:
        j += 1
    return trim(doc, to.i + 1, j, drop_that=False)


def _according_to(sent: Span, tok: Token) -> Attribution | None:
    src = _according_source(sent, tok)
    if src is None:
        return None
    claims = _remainder_ranges(sent, tok.i, src[1])
    if not claims:
        return None
    return Attribution(src, claims, "according_to", SOURCE_CONFIDENCE["according_to"])


def _reporting_verb(sent: Span, tok: Token, runs: list[tuple[int, int]]) -> Attribution | None:
    doc = sent.doc
    subj = _subject(tok)
    own_subject = subj is not None
    if subj is None and tok.tag_ != "VBN":
        # "..., saying Y" / "to say Y"; never a bare participle ("when told Y": the hearer)
        subj = _governing_subject(tok)
    if subj is None and tok.dep_ == "acl" and tok.head.pos_ in ("NOUN", "PROPN"):
        # "a statement saying ..." -> the noun phrase before the participle
        src = trim(doc, tok.head.left_edge.i, tok.left_edge.i, drop_that=False)
    elif subj is None:
        return None
    else:
        src = _source_range(subj, tok)
    if src is None:
        return None
    if src[1] - src[0] == 1 and doc[src[0]].lower_ in {"it", "this", "that", "which", "there"}:
        return None
    comps = [c for c in tok.children if c.dep_ == "ccomp" or (c.dep_ == "parataxis" and c.i > tok.i)]
    if not comps and tok.lemma_.lower() in SPEECH_LEMMAS:
        # parser slip: "X says for 24 hours he did not know ..." parsed as an adverbial clause
        comps = [
            c
            for c in tok.children
            if c.dep_ == "advcl"
            and c.i > tok.i
            and any(g.dep_ in ("nsubj", "nsubjpass") for g in c.children)
            and not any(g.dep_ == "mark" for g in c.children)
        ]
    claims = _merge_complements(doc, comps, src)
    if (
        not claims
        and own_subject
        and tok.dep_ in ("parataxis", "ccomp", "advcl", "conj")
        and tok.head.i < tok.i
        and not any(c.dep_ in ("dobj", "attr", "oprd") for c in tok.children)
    ):
        # "Y, he said." / "Y, X added." : the verb hangs off the reported clause, set off by punctuation.
        lo = min(tok.left_edge.i, src[0])
        hi = max(tok.right_edge.i + 1, src[1])
        if _set_off(sent, lo, hi):
            claims = _remainder_ranges(sent, lo, hi)
    if not claims and runs:
        # X said: "..." / "...", X told reporters.
        after = [r for r in runs if r[0] > tok.i]
        before = [r for r in runs if r[1] <= src[0]]
        pick = after[:1] or before[-1:]
        for a, b in pick:
            r = trim(doc, a, b)
            if r and _words(doc, *r) >= 2:
                claims.append(r)
    if not claims:
        return None
    return Attribution(src, claims, "subject", SOURCE_CONFIDENCE["subject"])


def _merge_complements(doc: Doc, comps: list[Token], src: tuple[int, int]) -> list[tuple[int, int]]:
    """One claim per side of the source: a clause the parser split into two ccomps is one claim."""
    ranges = sorted(r for c in comps if (r := trim(doc, c.left_edge.i, c.right_edge.i + 1)))
    merged: list[tuple[int, int]] = []
    for r in ranges:
        if merged and not (merged[-1][1] <= src[0] < r[0] or merged[-1][1] <= src[1] - 1 < r[0]):
            merged[-1] = (merged[-1][0], max(merged[-1][1], r[1]))
        else:
            merged.append(r)
    return [r for r in merged if _words(doc, *r) >= 2]


def _set_off(sent: Span, lo: int, hi: int) -> bool:
    """True if [lo, hi) is at a sentence edge or set off by punctuation / quote marks."""
    doc = sent.doc
    before = lo == sent.start or doc[lo - 1].is_punct or doc[lo - 1].text in QUOTES
    after = hi >= sent.end or doc[hi].is_punct or doc[hi].text in QUOTES
    return before and after


def annotate_parsed(
    doc: Doc, claim_threshold: float = CLAIM_THRESHOLD, labels: Iterable[str] = ("CLAIM", "SOURCE")
) -> tuple[list[SuggestedSpan], list[SuggestedRelation]]:
    """CLAIM/SOURCE suggestions and attributed_to links for a parsed Doc."""
    fix_entities(doc)
    sents = list(doc.sents)
    states = quote_states(sents)
    per_sentence = [
        (sent, _sentence_attributions_parsed(sent, carried), carried, ends_open)
        for sent, (carried, ends_open) in zip(sents, states, strict=True)
    ]
    return _assemble(doc, per_sentence, claim_threshold, labels)


# --------------------------------------------------------------------------- token-pattern engine

_NP_JOINERS = frozenset({"'s", "\u2019s", "of", "for", "the", "-", "de", "bin", "van", "von", "al"})
_NP_NOUNS = (
    UNNAMED_HEADS
    | INSTITUTION_HEADS
    | _wordset(
        """
minister president secretary chief executive officer leader captain agent director chairman
spokesperson commissioner general head manager coach premier senator mayor governor judge
magistrate treasurer envoy ambassador
"""
    )
)


# Without a parse, only these are taken to introduce a clause directly ("X said Y"); the other
# reporting verbs need "that", a colon or a quote after them ("announced sanctions" is no claim).
_FALLBACK_SPEECH_FORMS = _wordset(
    """
say says said tell tells told claim claims claimed insist insists insisted warn warns warned
"""
)


def build_fallback_matcher(vocab) -> Matcher:
    matcher = Matcher(vocab)
    matcher.add("REPORT", [[{"LOWER": {"IN": sorted(REPORTING_FORMS)}}]])
    matcher.add("ACCORDING", [[{"LOWER": "according"}, {"LOWER": "to"}]])
    matcher.add("ADVERB", [[{"LOWER": {"IN": sorted(UNNAMED_ADVERBS)}}]])
    return matcher


def _np_backward(doc: Doc, end: int, floor: int) -> tuple[int, int] | None:
    """Capitalised / source-noun phrase ending right before token `end` (exclusive)."""
    i = end - 1
    while i > floor and _trimmable(doc[i]) and doc[i].text not in TRIM_PUNCT:
        i -= 1  # emoji between speaker and verb
    if i > floor and doc[i].text == "," and (doc[i - 1].is_title or doc[i - 1].is_upper):
        i -= 1  # closing comma of an apposition: "The Foreign Minister, Dr Abdullah, said"
    comma_ok = end - 1 > i  # an apposition comma was seen: allow one more inside the phrase
    end = i + 1
    if i < floor:
        return None
    if doc[i].lower_ in PRONOUNS - {"it", "you"}:
        return i, i + 1
    start = None
    while i >= floor:
        t = doc[i]
        if t.is_title or t.is_upper or t.lower_ in _NP_NOUNS or (t.like_num and start is not None):
            start = i
        elif t.lower_ in {"a", "an", "the"} and start is not None:
            start = i
            if not (i > floor and doc[i - 1].lower_ in {"of", "for"}):
                break
        elif t.lower_ in _NP_JOINERS and start is not None and i > floor:
            pass
        elif (
            t.text == ","
            and comma_ok
            and start is not None
            and i > floor
            and (doc[i - 1].is_title or doc[i - 1].lower_ in _NP_NOUNS)
        ):
            # apposition: "The Foreign Minister, Dr Abdullah, said" / "the chief executive, Tony Sherbon, says"
            comma_ok = False
        else:
            break
        i -= 1
    if start is None:
        return None
    r = trim(doc, start, end, drop_that=False)
    while r and doc[r[0]].lower_ in _NP_JOINERS - {"the"}:
        r = trim(doc, r[0] + 1, r[1], drop_that=False)
    return r


def _np_forward(doc: Doc, start: int, ceil: int) -> tuple[int, int] | None:
    j = start
    if j < ceil and doc[j].lower_ in PRONOUNS - {"it", "you"}:
        return j, j + 1
    while j < ceil and (
        doc[j].is_title or doc[j].is_upper or doc[j].lower_ in _NP_NOUNS or doc[j].lower_ in _NP_JOINERS
        or doc[j].lower_ in {"a", "an"}
    ) and not doc[j].is_punct:
        j += 1
    while j > start and doc[j - 1].lower_ in _NP_JOINERS | {"a", "an"}:
        j -= 1
    return trim(doc, start, j, drop_that=False) if j > start else None


def _according_source_tokens(sent: Span, e: int) -> tuple[int, int] | None:
    """Z in "according to Z" without a parse: up to the next punctuation (a hyphen inside a word
    is none: "a long-classified cable"), at most 12 tokens."""
    doc = sent.doc
    j = e
    while j < sent.end and j - e < 12 and (not doc[j].is_punct or _in_word_hyphen(doc[j])):
        j += 1
    return trim(doc, e, j, drop_that=False)


def _in_word_hyphen(tok: Token) -> bool:
    return tok.text == "-" and tok.i > 0 and not tok.whitespace_ and not tok.nbor(-1).whitespace_


def _sentence_attributions_tokens(
    sent: Span, matches: list[tuple[str, int, int]], carried: bool = False
) -> list[Attribution]:
    doc = sent.doc
    mask = quote_mask(sent, carried)
    runs = _quoted_runs(sent, mask)
    phrases = {
        s: src
        for name, s, e in matches
        if name == "ACCORDING" and not mask[s - sent.start] and (src := _according_source_tokens(sent, e))
    }
    if not phrases:
        return _token_pass(sent, matches, mask, runs)
    # "according to Z" next to another attribution ("X said Y, according to Z"): find that one
    # without the phrase, then again with the phrase cut out of its claims, and add Z as a second
    # source of the same claims.
    first = _token_pass(sent, [m for m in matches if m[0] != "ACCORDING"], mask, runs)
    hosted = {s: {a.trigger for a in first if _hosts(doc, a, s, src[1])} for s, src in phrases.items()}
    hosted = {s: triggers for s, triggers in hosted.items() if triggers}
    cuts = [(s, phrases[s][1]) for s in hosted]
    found = _token_pass(sent, [m for m in matches if m[1] not in hosted], mask, runs, cuts)
    for s, triggers in hosted.items():
        hosts = [a for a in found if a.trigger in triggers]
        if hosts:
            found.append(_second_source(doc, hosts, phrases[s], s))
    return found


def _token_pass(
    sent: Span,
    matches: list[tuple[str, int, int]],
    mask: list[bool],
    runs: list[tuple[int, int]],
    cuts: Sequence[tuple[int, int]] = (),
) -> list[Attribution]:
    doc = sent.doc
    found: list[Attribution] = []
    claimed: list[tuple[int, int]] = []
    for name, s, e in matches:
        if mask[s - sent.start] or _in_ranges(s, claimed):
            continue
        att = None
        if name == "ACCORDING":
            src = _according_source_tokens(sent, e)
            if src:
                claims = _remainder_ranges(sent, s, src[1])
                if claims:
                    att = Attribution(src, claims, "according_to", SOURCE_CONFIDENCE["according_to"])
        elif name == "ADVERB":
            r = trim(doc, sent.start, sent.end)
            if r:
                att = Attribution((s, e), [r], "adverb", SOURCE_CONFIDENCE["adverb"], "unnamed")
        else:
            att = _fallback_reporting(sent, s, runs, cuts)
        if att is None:
            continue
        att.trigger = s
        found.append(att)
        claimed.extend(att.claims)
        claimed.append(att.source)
    return found


def _fallback_reporting(
    sent: Span, v: int, runs: list[tuple[int, int]], cuts: Sequence[tuple[int, int]] = ()
) -> Attribution | None:
    """`cuts`: token ranges of second attributions ("according to Z") to keep out of the claim."""
    doc = sent.doc

    def rng(a: int, b: int) -> tuple[int, int] | None:
        r = trim(doc, a, b)
        for p0, p1 in cuts:
            r = r and _cut_phrase(doc, r, p0, p1)
        return r

    verb = doc[v]
    rest_end = sent.end
    conf = SOURCE_CONFIDENCE["fallback"]
    first = next((t.i for t in sent if not _trimmable(t)), sent.start)
    if verb.is_title and v != first:
        return None  # "United States", "Says Who": a name, not a verb
    if verb.lower_.endswith("ing"):
        # "..., saying Y": the speaker is the sentence's opening noun phrase
        if v > sent.start and doc[v - 1].text == ",":
            src = _np_forward(doc, first, v)
            after = rng(v + 1, rest_end)
            if src and after and _words(doc, *after) >= 3:
                return Attribution(src, [after], "subject", conf)
        return None
    src = _np_backward(doc, v, sent.start)
    if src is not None:
        # "X said Y" or "Y, X said."
        before = rng(sent.start, src[0])
        after_start = v + 1
        if verb.lower_ in {"told", "tell", "tells", "telling"}:
            # skip the addressee: "told reporters (that)", "told a stunned nation that"
            k = after_start
            while k < rest_end and k - after_start < 5 and doc[k].lower_ != "that" and not doc[k].is_punct:
                k += 1
            after_start = k if k < rest_end and (doc[k].lower_ == "that" or doc[k].text == ":") else after_start + 1
        after = rng(after_start, rest_end)
        nxt = doc[after_start] if after_start < rest_end else None
        clause_follows = verb.lower_ in _FALLBACK_SPEECH_FORMS or (
            nxt is not None and (nxt.lower_ == "that" or nxt.text in QUOTES or nxt.text == ":")
        )
        if after and _words(doc, *after) >= 3 and clause_follows:
            return Attribution(src, [after], "subject", conf)
        if before and _words(doc, *before) >= 3:
            return Attribution(src, [before], "subject", conf)
        return None
    # "..., said X."
    if v > sent.start and doc[v - 1].text in {","} | QUOTES:
        src = _np_forward(doc, v + 1, sent.end)
        before = rng(sent.start, v)
        if src and before and _words(doc, *before) >= 3:
            return Attribution(src, [before], "subject", conf)
    return None


def annotate_tokens(
    doc: Doc,
    matcher: Matcher,
    claim_threshold: float = CLAIM_THRESHOLD,
    labels: Iterable[str] = ("CLAIM", "SOURCE"),
) -> tuple[list[SuggestedSpan], list[SuggestedRelation]]:
    """CLAIM/SOURCE suggestions for an unparsed Doc (blank pipeline + sentencizer)."""
    fix_entities(doc)
    all_matches = sorted((doc.vocab.strings[m], s, e) for m, s, e in matcher(doc))
    all_matches.sort(key=lambda m: m[1])
    sents = list(doc.sents)
    states = quote_states(sents)
    per_sentence = []
    for sent, (carried, ends_open) in zip(sents, states, strict=True):
        ms = [m for m in all_matches if sent.start <= m[1] < sent.end]
        per_sentence.append((sent, _sentence_attributions_tokens(sent, ms, carried), carried, ends_open))
    return _assemble(doc, per_sentence, claim_threshold, labels)


# --------------------------------------------------------------------------- assembly


def _assemble(
    doc: Doc,
    per_sentence: list[tuple[Span, list[Attribution], bool, bool]],
    claim_threshold: float,
    labels: Iterable[str],
) -> tuple[list[SuggestedSpan], list[SuggestedRelation]]:
    """Turn per-sentence attributions into spans and links; handle quotes running over sentences.

    * A sentence without attribution that opens a quote or continues one, right after an
      attributed quote, is a CLAIM attributed to the same SOURCE span ("A," he said. "B.").
    * A quote that opens in one sentence and is attributed in the next ('"A. B," she said.')
      is one CLAIM from the opening quote to the end of the quoted words.
    """
    wanted = {label.upper() for label in labels}
    want_claims = "CLAIM" in wanted
    want_sources = "SOURCE" in wanted
    out = _Out()
    last_source: int | None = None  # SOURCE span index of the previous quoted attribution
    last_named: dict | None = None  # last non-pronoun source (for "they" / "it")
    last_person: dict | None = None  # last named-person source (for "he" / "she")
    prev_quoted = False
    pending: tuple[int, int] | None = None  # unattributed quote opened in the previous sentence

    def emit_claim(rng: tuple[int, int], attributed: bool, src_idx: int | None, rel_conf: float) -> None:
        score = checkworthiness(doc, *rng, attributed=attributed)
        if want_claims and score >= claim_threshold:
            a, b = char_span(doc, *rng)
            if a >= b:
                return
            ci = out.add(SuggestedSpan(a, b, "CLAIM", score, {"attributed": attributed}))
            if src_idx is not None and (ci, src_idx) not in out.linked:
                out.linked.add((ci, src_idx))
                out.relations.append(SuggestedRelation(ci, src_idx, "attributed_to", round(rel_conf, 3)))

    for sent, atts, carried, ends_open in per_sentence:
        has_quote = any(t.text in QUOTES for t in sent)
        if atts:
            first_word = next((t.i for t in sent if not _trimmable(t)), sent.start)
            grown: dict[tuple[int, int], tuple[int, int]] = {}  # claim -> claim with the quote's start
            for att in atts:
                src_idx = None
                if att.source and want_sources and (ab := char_span(doc, *att.source))[0] < ab[1]:
                    a, b = ab
                    attrs = {"source_kind": att.kind} if att.kind else source_kind(doc, *att.source)
                    attrs["pattern"] = att.pattern
                    src_text = doc[att.source[0] : att.source[1]].text.strip()
                    if attrs.get("mention") == "pronoun":
                        # he/she: the last person named as a source; they/it/we: the last source
                        person = src_text.lower() in ("he", "she")
                        ante = last_person if person else last_named
                        if ante:
                            attrs["source_kind"] = ante["source_kind"]
                            attrs["refers_to"] = ante["text"]
                    elif att.kind is None:
                        last_named = {"source_kind": attrs["source_kind"], "text": src_text}
                        if attrs["source_kind"] == "named":
                            last_person = last_named
                    src_idx = out.add(SuggestedSpan(a, b, "SOURCE", att.source_conf, attrs))
                for c in att.claims:
                    if pending is not None and carried and c[0] <= first_word:
                        grown[c] = (pending[0], c[1])  # the quote began in the previous sentence
                        pending = None
                    emit_claim(grown.get(c, c), True, src_idx, att.source_conf)
            if pending is not None:
                emit_claim(pending, False, None, 0.0)
                pending = None
            last_source = next((out.index.get((*char_span(doc, *a.source), "SOURCE")) for a in atts if a.source), None)
            prev_quoted = has_quote or carried
            continue
        if pending is not None:
            emit_claim(pending, False, None, 0.0)
            pending = None
        r = trim(doc, sent.start, sent.end)
        if r is None:
            continue
        opens = _starts_with_quote(sent) or carried
        continuation = opens and prev_quoted and last_source is not None
        if continuation:
            conf = out.spans[last_source].confidence * 0.9
            emit_claim(r, True, last_source if want_sources else None, conf)
            prev_quoted = True
            continue
        last_source = None
        prev_quoted = False
        if ends_open and opens:
            pending = r  # may be attributed by the next sentence
            continue
        emit_claim(r, False, None, 0.0)
    if pending is not None:
        emit_claim(pending, False, None, 0.0)
    return out.spans, out.relations
