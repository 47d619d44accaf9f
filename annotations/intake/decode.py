"""Bytes to text: UTF-8 (with or without BOM), UTF-16 with BOM, else a detected legacy encoding."""

from __future__ import annotations

import codecs

from .types import IntakeError

# Formats that are certainly not text, by their first bytes.
BINARY_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.doc/.xls); save it as .docx"),
    (b"SQLite format 3", "an SQLite database"),
    (b"OggS", "an audio file"),
    (b"ID3", "an MP3 file"),
    (b"RIFF", "a media file"),
)
# Control bytes that do not occur in text (tab, LF, FF, CR and ESC do).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def binary_kind(data: bytes) -> str | None:
    """What binary thing `data` is, or None if it may be text."""
    for magic, what in BINARY_MAGIC:
        if data.startswith(magic):
            return what
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    head = data[:8192]
    if not head:
        return None
    controls = len(head) - len(head.translate(None, _CONTROL))
    if controls / len(head) > 0.05 or head.count(b"\x00") > 8:
        return "binary data"
    return None


def decode_bytes(data: bytes, name: str) -> tuple[str, str | None]:
    """(text, warning). Raises IntakeError for binary or undecodable input."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), None
        except UnicodeDecodeError as exc:
            raise IntakeError(f"starts with a UTF-8 byte-order mark but is not valid UTF-8 (byte {exc.start})")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            raise IntakeError("starts with a UTF-16 byte-order mark but is not valid UTF-16")
    what = binary_kind(data)
    if what:
        raise IntakeError(f"is {what}, not text")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise IntakeError("is not UTF-8 and its encoding could not be recognised")
    return str(best), f"{name}: not UTF-8; decoded as {best.encoding}. Check accented letters."
