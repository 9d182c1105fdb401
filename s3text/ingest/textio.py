"""Open input files as streams of text: compression, zip members, and encodings never guessed silently.

Real exports arrive as ``.csv``, ``.tsv.zip`` or ``.gz``, in UTF-8 (with or without a BOM), UTF-16
from Excel, or a Windows code page. ``open_text`` yields a text stream plus the name of the encoding
it used, so the per-file summary can show it. With ``encoding="auto"`` a BOM decides; otherwise the
whole file is checked as UTF-8 in one streaming pass (cheap next to parsing), and only a file that
is not UTF-8 goes to a detector, whose answer is accepted only when it is confident. Anything else
is an :class:`~s3text.errors.InputError` that names the file and the line of the first bad byte,
because mojibake in abstracts would quietly poison lemmas, embeddings and topics.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO, cast

from s3text.errors import InputError

_CHUNK = 1 << 20
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A detector's guess is taken only for single-byte code pages that European exports really use,
# and only when its "chaos" (mess) measure is low; a wrong code page still decodes, so it must be sure.
_DETECTABLE = frozenset({"cp1252", "latin_1", "iso8859_15", "cp1250", "iso8859_2", "mac_roman", "cp850"})
_MAX_CHAOS = 0.1
_SAMPLE = 4 << 20


@contextmanager
def open_binary(path: Path, member: str | None = None) -> Iterator[IO[bytes]]:
    """The decompressed bytes of ``path``: plain, ``.gz``, or one member of a ``.zip``.

    A zip with several members needs ``member``; a zip of one file opens that file.
    """
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                name = member if member is not None else (names[0] if len(names) == 1 else None)
                if name is None:
                    raise InputError(f"zip holds {names}; name the member to read", file=str(path))
                if name not in names:
                    raise InputError(f"zip has no member {name!r} (it holds {names})", file=str(path))
                with archive.open(name) as handle:
                    yield handle
        elif path.suffix.lower() == ".gz":
            with gzip.open(path, "rb") as handle:
                yield cast(IO[bytes], handle)
        else:
            with path.open("rb") as handle:
                yield handle
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot read file: {reason}", file=str(path)) from exc


def _first_bad(path: Path, member: str | None, codec: str = "utf-8") -> tuple[int, int, str] | None:
    """(byte offset, line, reason) of the first byte ``codec`` cannot decode, or None when all of it decodes."""
    decoder = codecs.getincrementaldecoder(codec)()
    offset = lines = 0
    with open_binary(path, member) as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start, lines + chunk.count(b"\n", 0, exc.start) + 1, str(exc.reason)
            offset += len(chunk)
            lines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset, lines + 1, f"file ends inside a character ({exc.reason})"
    return None


def _detect(path: Path, member: str | None) -> tuple[str | None, list[str]]:
    """The code page when every plausible candidate reads the sample the same way, and the candidates.

    Code pages differ on a few bytes only (0xE8 is è in cp1252 but č in cp1250); when plausible
    candidates disagree, picking the detector's favourite would be a silent guess.
    """
    from charset_normalizer import from_bytes

    with open_binary(path, member) as handle:
        sample = handle.read(_SAMPLE)
    plausible = [m.encoding for m in from_bytes(sample) if m.encoding in _DETECTABLE and m.chaos <= _MAX_CHAOS]
    readings = {sample.decode(enc, errors="replace") for enc in plausible}
    return (plausible[0] if len(readings) == 1 else None), plausible


def detect_encoding(path: Path, encoding: str = "auto", member: str | None = None) -> str:
    """The codec to read ``path`` with; raises InputError when ``auto`` cannot be sure."""
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise InputError(f"unknown encoding {encoding!r} in the source config", file=str(path)) from exc
        # Checked up front, so a bad byte is reported with its line, not mid-parse with a chunk's.
        bad = _first_bad(path, member, encoding)
        if bad is not None:
            raise InputError(f"not {encoding} (byte {bad[0]}: {bad[2]})", file=str(path), row=bad[1])
        return encoding
    with open_binary(path, member) as handle:
        head = handle.read(4)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    bad = _first_bad(path, member)
    if bad is None:
        return "utf-8"
    detected, candidates = _detect(path, member)
    if detected is None:
        offset, line, reason = bad
        guess = f"it reads differently as {', '.join(candidates)}" if candidates else "no code page fits"
        raise InputError(
            f"not UTF-8 (byte {offset}: {reason}) and the encoding cannot be told with confidence ({guess}); "
            "set `encoding:` for this source",
            file=str(path),
            row=line,
        )
    return detected


@contextmanager
def open_text(
    path: Path | str, encoding: str = "auto", member: str | None = None
) -> Iterator[tuple[TextIO, str]]:
    """A text stream over ``path`` (newlines untranslated, as csv wants) and the encoding used.

    Decoding is strict: a bad byte later in a file read with an explicit encoding raises
    UnicodeDecodeError, which readers turn into an InputError with the line.
    """
    path = Path(path)
    used = detect_encoding(path, encoding, member)
    # Every opener returns a buffered binary stream (BufferedReader, GzipFile, ZipExtFile). Closing
    # the wrapper closes the stream under it, which the opener then closes again harmlessly.
    with (
        open_binary(path, member) as raw,
        io.TextIOWrapper(cast(Any, raw), encoding=used, errors="strict", newline="") as text,
    ):
        yield text, used


class Utf8Bytes:
    """A binary view of a text stream for ijson, so JSON gets the same encoding rules as CSV."""

    def __init__(self, text: TextIO, prefix: str = "") -> None:
        self._text, self._prefix = text, prefix

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes with read(0) to tell bytes from text; the prefix must survive it
            return b""
        chunk, self._prefix = self._prefix + self._text.read(size), ""
        return chunk.encode("utf-8")
