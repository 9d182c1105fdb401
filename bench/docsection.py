"""Each benchmark owns one marked section of docs/BENCHMARKS.md and rewrites only that section."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"


def write_section(section: str, start: str, end: str, doc: Path = DOC) -> None:
    """Put ``section`` (which begins with ``start`` and ends with ``end``) in place of the old one,
    or append it; every other part of the file is left as it is."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")
