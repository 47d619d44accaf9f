"""The pure readers: each accepted format, each rejection, sniffing by content. No database."""

import io
import json
import zipfile

import docx
import pytest

from annotations.intake import Limits, parse_upload, prepare_article, sniff
from annotations.intake.wire import parse_wire_header

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"


def one(result):
    assert result.rejected == [], result.rejected
    assert len(result.articles) == 1
    return result.articles[0]


def make_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_docx(*paragraphs: str, title: str = "") -> bytes:
    document = docx.Document()
    if title:
        document.add_heading(title, level=0)
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# --- formats ------------------------------------------------------------------------------
def test_txt_with_title_line_and_wire_header():
    raw = "Minister resigns\n\nMarch 3, 2024\nWASHINGTON (Reuters) - The minister said 42 people died.\n"
    art = one(parse_upload("story.txt", raw.encode()))
    assert art.title == "Minister resigns"
    prepared = prepare_article(art)
    assert prepared.outlet == "Reuters"
    assert prepared.published_at.isoformat() == "2024-03-03"
    assert prepared.meta["dateline"] == "WASHINGTON"
    assert prepared.text == raw.strip()  # the header is read into metadata, the text is left as it was


def test_txt_without_title_line_takes_the_file_name():
    art = one(parse_upload("folder/kyiv-report.txt", b"Ukrainian officials said the strike killed two."))
    assert art.title == "kyiv-report"


def test_markdown_title_loses_its_hashes():
    art = one(parse_upload("a.md", b"# Budget vote\n\nThe council said the vote passed.\n"))
    assert art.title == "Budget vote"


def test_html_keeps_paragraphs_and_drops_scripts_styles_navigation():
    html = """<!doctype html><html><head><title>Site | Story</title><style>p{color:red}</style>
    <meta name="author" content="Jane Roe"><meta property="article:published_time" content="2024-05-01T10:00:00Z">
    <script>var secret = "tracking";</script></head><body><nav><a href="/">Home</a> Sports</nav>
    <header>Subscribe now</header><article><h1>Floods in Valencia</h1>
    <p>The mayor said <b>200</b> homes    were flooded.</p><div><p>Officials   disputed it.</p></div>
    <aside>Related: other</aside></article><footer>(c) Outlet</footer></body></html>"""
    art = one(parse_upload("page.html", html.encode()))
    assert art.text == "Floods in Valencia\n\nThe mayor said 200 homes were flooded.\n\nOfficials disputed it."
    assert art.title == "Floods in Valencia"
    assert art.author == "Jane Roe"
    assert prepare_article(art).published_at.isoformat() == "2024-05-01"
    for junk in ("secret", "color", "Home", "Subscribe", "Related", "(c)"):
        assert junk not in art.text


def test_docx_paragraphs_and_title():
    data = make_docx("The minister said 42 people died.", "Critics disagreed.", title="Casualties")
    art = one(parse_upload("report.docx", data))
    assert "The minister said 42 people died.\n\nCritics disagreed." in art.text
    assert art.title == "Casualties"


def test_jsonl_with_meta_and_spans_carried_through_normalisation():
    text = "He said:\r\n\"Cafe\u0301 prices rose 10%,\" officials said. " + FAMILY
    s = text.index("Cafe")
    e = text.index(",")
    line = {"text": text, "title": "Prices", "meta": {"desk": "econ"},
            "spans": [{"label": "CLAIM", "start": s, "end": e, "text": text[s:e]},
                      {"label": "SOURCE", "start": text.index("officials"), "end": text.index("officials") + 9}],
            "relations": [{"from": 0, "to": 1, "type": "attributed_to"}]}
    data = (json.dumps(line) + "\n\n" + json.dumps({"text": "Second article."}) + "\n").encode()
    result = parse_upload("in.jsonl", data)
    assert len(result.articles) == 2 and not result.rejected
    prepared = prepare_article(result.articles[0])
    assert prepared.meta == {"desk": "econ"}
    claim, source = prepared.spans
    assert prepared.text[claim.start : claim.end] == claim.text == "Café prices rose 10%"
    assert source.text == "officials"
    assert prepared.relations == [(0, 1, "attributed_to")]
    assert prepared.text.endswith(FAMILY)


def test_csv_text_column_and_metadata():
    data = "title,Text,outlet,section\nA,The minister said 42 people died.,AP,world\nB,\"Line one\nline two\",,\n"
    result = parse_upload("rows.csv", data.encode())
    assert not result.rejected
    a, b = result.articles
    assert (a.title, a.outlet, a.meta) == ("A", "AP", {"section": "world"})
    assert b.text == "Line one\nline two"


def test_zip_of_several_formats():
    data = make_zip({"a.txt": b"First story text.", "sub/b.html": b"<p>Second story.</p>",
                     "c.jsonl": b'{"text": "Third."}\n{"text": "Fourth."}\n', "__MACOSX/._a.txt": b"junk"})
    result = parse_upload("batch.zip", data)
    assert not result.rejected
    assert sorted(a.text for a in result.articles) == ["First story text.", "Fourth.", "Second story.", "Third."]
    assert any("a.txt" in a.source and a.source.startswith("batch.zip:") for a in result.articles)


def test_doccano_jsonl_entities_and_relations():
    text = "The mayor said 200 homes were flooded."
    line = {"id": 7, "text": text,
            "entities": [{"id": 11, "label": "CLAIM", "start_offset": 15, "end_offset": 37},
                         {"id": 12, "label": "SOURCE", "start_offset": 0, "end_offset": 9}],
            "relations": [{"id": 1, "from_id": 11, "to_id": 12, "type": "attributed_to"}]}
    prepared = prepare_article(one(parse_upload("doccano.jsonl", json.dumps(line).encode())))
    assert [(s.label, s.text) for s in prepared.spans] == [("CLAIM", "200 homes were flooded"),
                                                          ("SOURCE", "The mayor")]
    assert prepared.relations == [(0, 1, "attributed_to")]
    assert prepared.meta["source_id"] == 7


def test_doccano_label_triples():
    line = {"text": "Police said two died.", "label": [[0, 6, "SOURCE"], [12, 20, "CLAIM"]]}
    prepared = prepare_article(one(parse_upload("d.jsonl", json.dumps(line).encode())))
    assert [s.text for s in prepared.spans] == ["Police", "two died"]


def test_label_studio_tasks_with_utf16_offsets_are_converted_with_a_warning():
    text = f"{FAMILY} Police said two died."
    # Label Studio counted UTF-16 units: the family emoji is 8 units but 5 code points.
    s16 = len(FAMILY.encode("utf-16-le")) // 2 + 1
    tasks = [{"id": 1, "data": {"text": text, "title": "LS"}, "annotations": [{"result": [
        {"id": "a", "type": "labels", "value": {"start": s16, "end": s16 + 6, "text": "Police", "labels": ["SOURCE"]}},
        {"id": "b", "type": "labels",
         "value": {"start": s16 + 12, "end": s16 + 20, "text": "two died", "labels": ["CLAIM"]}},
        {"type": "relation", "from_id": "b", "to_id": "a", "direction": "right"},
    ]}]}]
    prepared = prepare_article(one(parse_upload("ls.json", json.dumps(tasks).encode())))
    assert [s.text for s in prepared.spans] == ["Police", "two died"]
    assert prepared.spans[0].start == len(FAMILY) + 1
    assert prepared.relations == [(1, 0, None)]
    assert any("UTF-16" in w for w in prepared.warnings)


def test_label_studio_left_relation_is_reversed():
    text = "Police said two died."
    tasks = [{"data": {"text": text}, "annotations": [{"result": [
        {"id": "a", "type": "labels", "value": {"start": 0, "end": 6, "text": "Police", "labels": ["SOURCE"]}},
        {"id": "b", "type": "labels", "value": {"start": 12, "end": 20, "text": "two died", "labels": ["CLAIM"]}},
        {"type": "relation", "from_id": "a", "to_id": "b", "direction": "left", "labels": ["attributed_to"]},
    ]}]}]
    prepared = prepare_article(one(parse_upload("ls.json", json.dumps(tasks).encode())))
    assert prepared.relations == [(1, 0, "attributed_to")]


def test_label_studio_code_point_offsets_are_kept():
    text = "Police said two died."
    tasks = [{"data": {"text": text}, "annotations": [{"result": [
        {"id": "a", "type": "labels", "value": {"start": 0, "end": 6, "text": "Police", "labels": ["SOURCE"]}}]}]}]
    prepared = prepare_article(one(parse_upload("ls.json", json.dumps(tasks).encode())))
    assert prepared.spans[0].start == 0 and not prepared.warnings


def test_legacy_encoding_is_detected_with_a_warning():
    raw = "Le ministre a déclaré que les élèves étaient très nombreux à Besançon cette année-là.".encode("cp1252")
    result = parse_upload("fr.txt", raw)
    assert one(result).text.startswith("Le ministre a déclaré")
    assert result.warnings and "not UTF-8" in result.warnings[0]


def test_utf8_bom_is_accepted():
    art = one(parse_upload("bom.txt", "\ufeffOfficials said so.".encode()))
    assert prepare_article(art).text == "Officials said so."


# --- sniffing by content ------------------------------------------------------------------
def test_content_decides_not_the_name():
    assert sniff("notes.txt", make_zip({"a.txt": b"x"})) == "zip"
    assert sniff("evil.txt", make_docx("Hello")) == "docx"
    assert sniff("story.docx", b"plain text pretending") == "text"
    assert sniff("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(100)) == "binary"
    assert sniff("page.txt", b"<!DOCTYPE html><html><body><p>x</p></body></html>") == "html"
    assert sniff("data.csv", b'{"text": "json after all"}') == "json"


def test_renamed_zip_is_read_as_a_zip():
    result = parse_upload("innocent.txt", make_zip({"a.txt": b"Inside the archive."}))
    assert one(result).text == "Inside the archive."


# --- rejections ---------------------------------------------------------------------------
def reasons(result):
    return [(r.source, r.reason) for r in result.rejected]


def test_binary_file_is_rejected():
    result = parse_upload("scan.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 10)
    assert reasons(result) == [("scan.pdf", "the file is a PDF document and cannot be imported")]
    result = parse_upload("noise.txt", bytes(range(256)) * 40)
    assert result.rejected and "binary" in result.rejected[0].reason


def test_empty_file_and_empty_text_are_rejected():
    assert reasons(parse_upload("empty.txt", b"  \n")) == [("empty.txt", "the file is empty")]
    art = one(parse_upload("ctl.jsonl", json.dumps({"text": "\x00\ufeff \r\n\t\n"}).encode()))
    with pytest.raises(ValueError, match="empty"):
        prepare_article(art)


def test_oversize_file_is_rejected():
    result = parse_upload("big.txt", b"x" * 2000, Limits(max_bytes=1000))
    assert result.rejected[0].source == "big.txt" and "more than the limit of 1,000" in result.rejected[0].reason


def test_malformed_json_line_names_the_line():
    data = b'{"text": "ok"}\n{"text": "broken\n{"title": "no text"}\n'
    result = parse_upload("feed.jsonl", data)
    assert [a.text for a in result.articles] == ["ok"]
    assert result.rejected[0].source == "feed.jsonl, line 2" and "malformed JSON" in result.rejected[0].reason
    assert result.rejected[1].source == "feed.jsonl, line 3" and "no 'text'" in result.rejected[1].reason


def test_csv_without_text_column():
    result = parse_upload("rows.csv", b"title,body\nA,B\n")
    assert reasons(result) == [("rows.csv", "CSV without a 'text' column (columns: title, body)")]


def test_spans_that_do_not_match_the_text():
    line = {"text": "Police said two died.", "spans": [{"label": "CLAIM", "start": 12, "end": 20, "text": "three"}]}
    art = one(parse_upload("s.jsonl", json.dumps(line).encode()))
    with pytest.raises(ValueError, match="quoted text 'three' does not match"):
        prepare_article(art)
    art.spans[0].quote, art.spans[0].end = None, 999
    with pytest.raises(ValueError, match="offsets do not match the text"):
        prepare_article(art)


def test_zip_entries_with_dotdot_or_absolute_paths_are_rejected():
    result = parse_upload("x.zip", make_zip({"../evil.txt": b"x", "/etc/passwd.txt": b"y", "ok.txt": b"fine"}))
    assert [a.text for a in result.articles] == ["fine"]
    assert sorted(r.source for r in result.rejected) == ["x.zip:../evil.txt", "x.zip:/etc/passwd.txt"]
    assert all("unsafe path" in r.reason for r in result.rejected)


def test_zip_bomb_by_size_and_by_entry_count():
    bomb = make_zip({"bomb.txt": b"a" * 5_000_000})
    assert len(bomb) < 20_000
    result = parse_upload("bomb.zip", bomb, Limits(max_zip_uncompressed_bytes=1_000_000))
    assert result.rejected and "zip bomb" in result.rejected[0].reason and not result.articles
    many = make_zip({f"{i}.txt": b"x" for i in range(30)})
    result = parse_upload("many.zip", many, Limits(max_zip_entries=10))
    assert "30 entries, more than the limit of 10" in result.rejected[0].reason


def test_wire_header_variants():
    assert parse_wire_header("2024-03-03\nLONDON (AP) — Text") == {
        "published_at": "2024-03-03", "outlet": "AP", "dateline": "LONDON"}
    assert parse_wire_header("PARIS, March 3 (AFP) - Text")["outlet"] == "AFP"
    assert parse_wire_header("Just a story about (things) - nothing") == {}
