"""Helpers for driving the annotate page like a person: real mouse drags over the article text."""

SELECT_JS = """
([needle, nth]) => {
  const root = document.getElementById('article-text');
  const full = root.textContent;
  let at = -1;
  for (let i = 0; i <= nth; i++) at = full.indexOf(needle, at + 1);
  if (at < 0) throw new Error('not found: ' + needle);
  const end = at + needle.length;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let pos = 0, n, startNode, startOff, endNode, endOff;
  while ((n = walker.nextNode())) {
    const len = n.data.length;
    if (startNode === undefined && at < pos + len) { startNode = n; startOff = at - pos; }
    if (endNode === undefined && end <= pos + len) { endNode = n; endOff = end - pos; }
    pos += len;
  }
  const r1 = document.createRange(); r1.setStart(startNode, startOff); r1.setEnd(startNode, startOff + 1);
  const r2 = document.createRange(); r2.setStart(endNode, endOff - 1); r2.setEnd(endNode, endOff);
  const a = r1.getClientRects()[0], b = r2.getClientRects()[0];
  return {x1: a.left + 1, y1: a.top + a.height / 2, x2: b.right - 1, y2: b.top + b.height / 2};
}
"""


def drag_select(page, needle, nth=0, shift=False):
    """Select `needle` in the article text with a mouse drag (Shift held: exact characters)."""
    page.locator("#article-text").scroll_into_view_if_needed()
    box = page.evaluate(SELECT_JS, [needle, nth])
    if shift:
        page.keyboard.down("Shift")
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move((box["x1"] + box["x2"]) / 2, (box["y1"] + box["y2"]) / 2, steps=3)
    page.mouse.move(box["x2"], box["y2"], steps=3)
    page.mouse.up()
    if shift:
        page.keyboard.up("Shift")
    return page.evaluate("() => window.getSelection().toString()")


def span_el(page, label, text):
    """The focusable element of a (non-suggestion) span, by its accessible name."""
    return page.get_by_role("button", name=f"{label}: \u201c{text}\u201d", exact=True)


def wait_saved(page):
    page.wait_for_function("() => document.getElementById('save-state').dataset.state === 'saved'")
