"""Generic tables (CSV/TSV, JSON Lines, Parquet) read through the column mapping of a ``table`` source.

For data we have not met yet (Interreg project lists, regional funding calls). Decisions that are
not obvious from the code:

* File type from the extension: ``.csv`` (delimiter sniffed among ``, ; tab |`` from the header
  line), ``.tsv`` (tab), ``.jsonl``/``.ndjson``, ``.parquet``; CSV, TSV and JSON Lines may also be
  ``.gz`` or ``.zip`` (a zip of one file; ``data.zip`` takes the type from its member's name).
* A mapped column missing from the header (Parquet: schema) is an InputError before any row. JSON
  Lines has no header, so the first 100 records stand in for one: id, date, title and text must
  occur in them; actors, country, city, region, url and language merely get a warning when no
  record of the file has them, because exporters drop null keys.
* Rows: CSV the physical line where the record starts (header = 1), JSON Lines the line, Parquet
  the 1-based row index. Bad rows are quarantined with the raw record (JSON for Parquet).
* Dates: ``date_format`` (strptime) when set; else YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or
  ISO with ``T``. A year or month becomes its first day, with ``extra["date_precision"]`` "year" or
  "month"; day precision is left unsaid, as every other reader does. Parquet dates are taken as is.
* Actors: names split at ``actors_separator`` (a JSON/Parquet list is taken as the list of names),
  trimmed, first of each name (case-insensitive) kept, role "participant". Country, city and region
  give either one value for every actor of the row, or one value per name in the same order with the
  same separator (empty parts allowed); any other count is quarantined as ``actor_mismatch``.
* Region: a value that looks like a NUTS code goes to the actors; with no actors, the document
  carries it (``nuts_codes``, ``extra["nuts_version"]``). Anything else ("Tirol") is kept raw in
  ``extra["region"]`` and nothing is derived from it: region names are ambiguous, and placing actors
  from city + country is the regions step's job. Country and city of a row without actors go to
  ``extra`` too.
* Language: a two-letter code (``en``, ``DE``, ``fr-CH`` -> ``fr``); anything else is not guessed,
  it is kept in ``extra["language_unrecognised"]``.
* Quarantine reasons: missing_id, duplicate_id (an id accepted earlier in the file), bad_date,
  empty_text, missing_abstract, bad_type (a list/object where text is due), actor_mismatch, bad_json,
  not_object, and csv_error, nul_byte, ragged_row from CSV. Numbers become text (12345.0 -> "12345").
* Every unmapped, non-empty column goes to ``extra`` as ``"col:<name>"`` (the prefix keeps them
  apart from the keys above), as text capped at 500 characters; lists and objects as JSON.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from s3text.config import TableMapping
from s3text.errors import ConfigError, InputError
from s3text.ingest._common import MAX_RAW, norm_space, parse_date, read_csv, structural_problem
from s3text.ingest.textio import open_binary, open_text
from s3text.records import Actor, Document, FileOpened, IngestItem, QuarantineRecord

log = logging.getLogger(__name__)

_KINDS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_KEYS = ("id", "title", "text", "date", "actors", "country", "city", "region", "url", "language")
_NEEDED = frozenset({"id", "title", "text", "date"})
_DELIMITERS = ",;\t|"  # order breaks ties
_NUTS_SHAPE = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_LANGUAGE = re.compile(r"([a-z]{2})(?:[-_][a-z0-9]+)*", re.IGNORECASE)
_YEAR, _MONTH = re.compile(r"\d{4}"), re.compile(r"\d{4}-\d{2}")
_ISO_T = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_KEY_WINDOW = 100
_EXTRA_CHARS = 500
_BATCH = 4096


def is_nuts_code(value: str) -> bool:
    """Shaped like a NUTS code; the regions step checks that it exists.

    Every code of NUTS 2013-2024 longer than three characters holds a digit, except the extra-regio
    ones (ITZZZ), so a capitalised name such as "ITALY" or "TIROL" is not taken for a code.
    """
    return bool(_NUTS_SHAPE.fullmatch(value)) and (
        len(value) <= 3 or value.endswith("ZZ") or any(c.isdigit() for c in value)
    )


class _Reject(Exception):
    """A row that cannot become a document: (column, reason code, message)."""

    def __init__(self, column: str, code: str, message: str) -> None:
        super().__init__(message)
        self.column, self.code, self.message = column, code, message


def iter_table(
    path: Path,
    mapping: TableMapping,
    *,
    source: str,
    require_abstract: bool = True,
    encoding: str = "auto",
    nuts_version: str | None = None,
) -> Iterator[IngestItem]:
    """Stream ``FileOpened``, then one Document or QuarantineRecord per record of ``path``.

    Raises InputError (unreadable file, undecodable text, mapped column missing) and ConfigError
    (an encoding given for Parquet, whose text is UTF-8 by definition).
    """
    path = Path(path)
    kind, packed = _kind(path)
    rows = _Rows(mapping, source, str(path), require_abstract, nuts_version)
    if kind == "parquet":
        if packed:
            raise InputError("Parquet compresses inside the file; unpack the .gz/.zip", file=str(path))
        if encoding.lower().replace("-", "") not in ("auto", "utf8"):
            raise ConfigError(f"source {source!r}: encoding {encoding!r} does not apply to Parquet (always UTF-8)")
        yield from _parquet(path, rows)
    elif kind == "jsonl":
        yield from _jsonl(path, rows, encoding)
    else:
        table = read_csv(path, required=(), delimiter="\t" if kind == "tsv" else _sniff(path), encoding=encoding)
        # On error the unstarted record generator is dropped, and CPython closes the file with it.
        _check_header(path, table.header, rows.mapped, "header", row=1)
        yield FileOpened(str(path), table.encoding)
        for rec in table.records:
            problem = structural_problem(rec, table.header)
            if problem is not None:
                yield rows.quarantine(rec.line, *problem, raw=rec.raw)
            else:
                yield rows.item(rec.get(table.header), rec.line, rec.raw)


def _kind(path: Path) -> tuple[str, bool]:
    """(csv|tsv|jsonl|parquet, compressed) from the name; a bare ``x.zip`` from its one member's name."""
    name = path.name.lower()
    packed = name.endswith((".gz", ".zip"))
    name = name.rsplit(".", 1)[0] if packed else name
    if path.suffix.lower() == ".zip" and Path(name).suffix not in _KINDS:
        try:
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if not n.endswith("/")]
        except (OSError, zipfile.BadZipFile) as exc:
            raise InputError(f"cannot read file: {exc}", file=str(path)) from exc
        name = members[0].lower() if len(members) == 1 else name
    if Path(name).suffix not in _KINDS:
        raise InputError(f"cannot tell the table type from the name; use {sorted(_KINDS)}, +.gz/.zip", file=str(path))
    return _KINDS[Path(name).suffix], packed


def _sniff(path: Path) -> str:
    """The delimiter that occurs most often in the header line, outside quotes."""
    with open_binary(path) as handle:
        head = handle.readline(1 << 16)
    # The candidates are ASCII: dropping NULs (UTF-16/32) and reading as Latin-1 keeps them, whatever the encoding.
    line = re.sub(r'"[^"]*"', "", head.replace(b"\x00", b"").decode("latin-1"))
    counts = [line.count(d) for d in _DELIMITERS]
    return _DELIMITERS[counts.index(max(counts))] if max(counts) else ","


def _check_header(path: Path, header: Sequence[str], mapped: Mapping[str, str], where: str, row: int | None) -> None:
    for key, column in mapped.items():
        if column not in header:
            raise InputError(f"mapping.{key}: column {column!r} not in {where} {list(header)}",
                             file=str(path), row=row, field=column)
        if header.count(column) > 1:
            raise InputError(f"mapping.{key}: column {column!r} occurs {header.count(column)} times in the {where}",
                             file=str(path), row=row, field=column)


def _parquet(path: Path, rows: _Rows) -> Iterator[IngestItem]:
    import pyarrow.parquet as pq  # only Parquet sources pay for importing pyarrow

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError, ArrowIOError an OSError
        raise InputError(f"cannot read as Parquet: {exc}", file=str(path)) from exc
    with parquet:
        _check_header(path, parquet.schema_arrow.names, rows.mapped, "schema", row=None)
        yield FileOpened(str(path), "utf-8")
        row, batches = 0, parquet.iter_batches(batch_size=_BATCH)
        while True:
            try:
                batch = next(batches, None)
            except (OSError, ValueError) as exc:
                raise InputError(f"cannot read Parquet data: {exc}", file=str(path), row=row + 1) from exc
            if batch is None:
                return
            for values in batch.to_pylist():
                row += 1
                yield rows.item(values, row)


def _jsonl(path: Path, rows: _Rows, encoding: str) -> Iterator[IngestItem]:
    with open_text(path, encoding) as (handle, used):
        records = ((n, line, _load(line)) for n, line in _numbered(handle, path, used) if line.strip())
        head = list(itertools.islice(records, _KEY_WINDOW))
        seen_keys = {k for _, _, obj in head if isinstance(obj, dict) for k in obj}
        if any(isinstance(obj, dict) for _, _, obj in head):
            needed = {k: c for k, c in rows.mapped.items() if k in _NEEDED}
            _check_header(path, sorted(seen_keys), needed, f"the keys of the first {len(head)} records", row=None)
        yield FileOpened(str(path), used)
        for n, line, obj in itertools.chain(head, records):
            if isinstance(obj, dict):
                seen_keys.update(obj)
                yield rows.item(obj, n, line)
            elif isinstance(obj, _BadJson):
                yield rows.quarantine(n, "*", "bad_json", str(obj), raw=line)
            else:
                yield rows.quarantine(n, "*", "not_object", f"a JSON {type(obj).__name__}, not an object", raw=line)
    for key, column in rows.mapped.items():
        if column not in seen_keys:
            log.warning("%s: mapping.%s: no record has the key %r", path, key, column)


class _BadJson(ValueError):
    pass


def _load(line: str) -> object:
    try:
        return json.loads(line.rstrip("\r\n"))  # else a cut line reports the newline, not the cut
    except (ValueError, RecursionError) as exc:
        return _BadJson(str(exc))


def _numbered(handle: Iterator[str], path: Path, used: str) -> Iterator[tuple[int, str]]:
    n = 0
    try:
        for n, line in enumerate(handle, 1):
            yield n, line
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot decode as {used}: {exc.reason}", file=str(path), row=n + 1) from exc


def _scalar(value: object) -> str | None:
    """Text of a cell; None for lists, objects and bytes, which no text field may hold."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # ids read through pandas become 12345.0
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return None


def parse_table_date(raw: str, date_format: str | None) -> tuple[date, str]:
    """(date, precision "year"/"month"/"day"); raises ValueError naming the value."""
    if date_format:
        try:
            parsed = datetime.strptime(raw, date_format).date()
        except ValueError as exc:
            raise ValueError(f"{raw!r} does not match date_format {date_format!r}") from exc
        if any(d in date_format for d in ("%d", "%j", "%x", "%c")):
            return parsed, "day"
        return parsed, "month" if any(m in date_format for m in ("%m", "%b", "%B")) else "year"
    try:
        if _YEAR.fullmatch(raw):
            return date(int(raw), 1, 1), "year"
        if _MONTH.fullmatch(raw):
            return date(int(raw[:4]), int(raw[5:]), 1), "month"
        if _ISO_T.fullmatch(raw):
            return datetime.fromisoformat(raw).date(), "day"
        return parse_date(raw), "day"
    except ValueError:
        raise ValueError(f"{raw!r} is not YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS") from None


class _Rows:
    """Turns one mapped record into a Document, or a QuarantineRecord naming the column at fault."""

    def __init__(self, mapping: TableMapping, source: str, file: str, require_abstract: bool,
                 nuts_version: str | None) -> None:
        self.m, self.source, self.file = mapping, source, file
        self.require_abstract, self.nuts_version = require_abstract, nuts_version
        self.mapped: dict[str, str] = {k: getattr(mapping, k) for k in _KEYS if getattr(mapping, k) is not None}
        self.columns = frozenset(self.mapped.values())
        self.seen: set[str] = set()

    def quarantine(self, row: int, column: str, code: str, message: str, *, raw: str) -> QuarantineRecord:
        return QuarantineRecord(self.source, self.file, row, column, f"{code}: {message}", raw[:MAX_RAW])

    def item(self, values: Mapping[str, object], row: int, raw: str | None = None) -> Document | QuarantineRecord:
        """``raw`` None: the record as JSON, made only when needed (Parquet)."""
        try:
            return self._document(values, row)
        except _Reject as bad:
            raw = json.dumps(values, default=str, ensure_ascii=False) if raw is None else raw
            return self.quarantine(row, bad.column, bad.code, bad.message, raw=raw)

    def _text(self, values: Mapping[str, object], key: str) -> str:
        column = self.mapped.get(key)
        if column is None:
            return ""
        text = _scalar(values.get(column))
        if text is None:
            raise _Reject(column, "bad_type", f"a {type(values.get(column)).__name__} where text is expected")
        return text

    def _parts(self, values: Mapping[str, object], key: str) -> list[str]:
        """The values of a list-capable column, positions kept (empty parts too) so lists can align."""
        column = self.mapped.get(key)
        value = values.get(column) if column is not None else None
        if not isinstance(value, list | tuple):
            text = self._text(values, key)
            return [p.strip() for p in text.split(self.m.actors_separator)] if text.strip() else []
        items = [_scalar(v) for v in value]
        if column is None or any(i is None for i in items):
            raise _Reject(column or "", "bad_type", "a list holds lists or objects where names are expected")
        return [(i or "").strip() for i in items]

    def _document(self, values: Mapping[str, object], row: int) -> Document:
        m = self.m
        native_id = self._text(values, "id").strip()
        if not native_id:
            raise _Reject(m.id, "missing_id", f"{m.id} is empty")
        if native_id in self.seen:
            raise _Reject(m.id, "duplicate_id", f"{m.id} {native_id!r} already seen earlier in the file")
        when, precision = self._date(values)
        title, text = norm_space(self._text(values, "title")), self._text(values, "text")
        text = text if text.strip() else ""
        text_column = m.text or m.title or ""
        if not title and not text:
            raise _Reject(text_column, "empty_text", f"{' and '.join(filter(None, (m.title, m.text)))} empty")
        if self.require_abstract and m.text and not text:
            raise _Reject(m.text, "missing_abstract", f"{m.text} is empty and an abstract is required")
        actors, nuts_codes, extra = self._places(values)
        if precision != "day":
            extra["date_precision"] = precision
        language = self._text(values, "language").strip()
        match = _LANGUAGE.fullmatch(language)
        if language and not match:
            extra["language_unrecognised"] = language[:_EXTRA_CHARS]
        for column, value in values.items():
            if column in self.columns:
                continue
            cell = _scalar(value)
            cell = (json.dumps(value, default=str, ensure_ascii=False) if cell is None else cell).strip()
            if cell:
                extra[f"col:{column}"] = cell if len(cell) <= _EXTRA_CHARS else cell[: _EXTRA_CHARS - 1] + "…"
        self.seen.add(native_id)
        return Document(
            source=self.source, source_kind=m.source_kind, native_id=native_id, title=title, text=text,
            date=when, provenance_file=self.file, provenance_row=row, actors=actors,
            language=match.group(1).lower() if match else None, url=self._text(values, "url").strip() or None,
            extra=extra, nuts_codes=nuts_codes,
        )

    def _date(self, values: Mapping[str, object]) -> tuple[date, str]:
        value = values.get(self.m.date)
        if isinstance(value, datetime):  # Parquet timestamps (pandas Timestamps too)
            return value.date(), "day"
        if isinstance(value, date):
            return value, "day"
        raw = self._text(values, "date").strip()
        if not raw:
            raise _Reject(self.m.date, "bad_date", f"{self.m.date} is empty")
        try:
            return parse_table_date(raw, self.m.date_format)
        except ValueError as exc:
            raise _Reject(self.m.date, "bad_date", str(exc)) from None

    def _places(self, values: Mapping[str, object]) -> tuple[tuple[Actor, ...], tuple[str, ...], dict[str, str]]:
        names = self._parts(values, "actors")
        per = {key: self._parts(values, key) for key in ("country", "city", "region")}
        extra: dict[str, str] = {}
        if any(part and not is_nuts_code(part) for part in per["region"]):
            extra["region"] = self.m.actors_separator.join(per["region"])[:_EXTRA_CHARS]
        if not any(names):
            extra |= {key: self.m.actors_separator.join(per[key])[:_EXTRA_CHARS]
                      for key in ("country", "city") if any(per[key])}
            codes = tuple(dict.fromkeys(p for p in per["region"] if is_nuts_code(p)))
            if codes and self.nuts_version:
                extra["nuts_version"] = self.nuts_version
            return (), codes, extra
        for key, parts in per.items():
            if len(parts) > 1 and len(parts) != len(names):
                message = f"{len(names)} names in {self.m.actors!r} but {len(parts)} in {self.mapped[key]!r}"
                raise _Reject(self.mapped[key], "actor_mismatch", message)
            per[key] = parts if len(parts) > 1 else (parts or [""]) * len(names)
        actors: dict[str, Actor] = {}
        for name, country, city, region in zip(names, per["country"], per["city"], per["region"], strict=True):
            name, code = norm_space(name), region if is_nuts_code(region) else None
            if name and name.casefold() not in actors:
                actors[name.casefold()] = Actor(
                    name=name, country=country or None, city=city or None, nuts_code=code,
                    nuts_version=self.nuts_version if code else None, role="participant",
                )
        return tuple(actors.values()), (), extra
