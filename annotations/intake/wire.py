"""Wire-style headers: a leading date line and a dateline with the outlet in parentheses.

    March 3, 2024
    WASHINGTON (Reuters) - The minister said ...

gives published_at 2024-03-03, outlet "Reuters", meta dateline "WASHINGTON". Metadata only:
the text itself is never changed here, so offsets into it stay as they were.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.+\-Z]*)?$")
_MDY = re.compile(r"^(?:[A-Za-z]+,?\s+)?([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})$")  # (Mon,) March 3, 2024
_DMY = re.compile(r"^(?:[A-Za-z]+,?\s+)?(\d{1,2})\.?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})$")  # 3 March 2024
_DOTTED = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")  # 03.03.2024 (day first)
# "WASHINGTON (Reuters) - ", "PARIS, March 3 (AFP) — "
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z .'\-]{1,40}?)(?:,\s*[A-Za-z]{3,9}\.?\s+\d{1,2})?\s*\((?P<outlet>[^()\n]{2,40})\)\s*[-–—:]"
)


def parse_date(value: str) -> date | None:
    """A date from the common ways news files write one, or None."""
    value = value.strip()
    try:
        if m := _ISO.match(value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _MDY.match(value):
            month = _MONTHS.get(m[1].lower())
            return date(int(m[3]), month, int(m[2])) if month else None
        if m := _DMY.match(value):
            month = _MONTHS.get(m[2].lower())
            return date(int(m[3]), month, int(m[1])) if month else None
        if m := _DOTTED.match(value):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def dateline_end(text: str) -> int:
    """Where the article proper starts after a leading wire dateline ("PARIS, March 3 (AFP) - "),
    possibly under a date line; 0 when there is none. Offsets are code points into `text`."""
    pos = 0
    for _ in range(2):
        while pos < len(text) and text[pos] in " \t\n":
            pos += 1
        line_end = text.find("\n", pos)
        line = text[pos : line_end if line_end != -1 else len(text)]
        if m := _DATELINE.match(line):
            end = pos + m.end()
            while end < len(text) and text[end] in " \t":
                end += 1
            return end
        if line_end == -1 or not (len(line.strip()) <= 40 and parse_date(line)):
            return 0
        pos = line_end + 1  # a date line: the dateline may follow on the next line
    return 0


def parse_wire_header(text: str) -> dict:
    """Metadata recognised at the top of `text`: published_at (ISO str), outlet, dateline."""
    found: dict = {}
    lines = [line.strip() for line in text.lstrip().split("\n", 8)[:8]]
    head = [line for line in lines if line][:5]
    for line in head[:3]:  # a date line, possibly under a title line
        if len(line) <= 40 and (d := parse_date(line)):
            found["published_at"] = d.isoformat()
            break
    for line in head:
        if m := _DATELINE.match(line):
            found["outlet"] = m["outlet"].strip()
            found["dateline"] = m["place"].strip()
            break
    return found
