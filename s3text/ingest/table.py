"""Generic tables (CSV/TSV, JSON, JSON Lines, Parquet, XLSX) read through the column mapping of a ``table`` source.

For data we have not met yet (Interreg project lists, regional funding calls). Decisions that are
not obvious from the code:

* Rows come from :func:`s3text.ingest.tabular.open_table`, which tells the type from the extension:
  ``.csv`` (delimiter sniffed among ``, ; tab |`` from the header line), ``.tsv`` (tab), ``.json`` (an
  array of objects), ``.jsonl``/``.ndjson``, ``.parquet``, ``.xlsx`` (first sheet); CSV, TSV and JSON
  may also be ``.gz`` or ``.zip`` (a zip of one file; ``data.zip`` takes the type from its member).
* A mapped column missing from the header (Parquet: schema) is an InputError before any row. JSON
  has no header, so the keys of the first 100 records stand in for one: id, date, title and text
  must occur in them; actors, country, city, region, url and language merely get a warning when no
  record of the file has them, because exporters drop null keys.
* Rows: CSV the physical line where the record starts (header = 1), JSON the 1-based object index,
  JSON Lines the line, Parquet the 1-based row index, XLSX the sheet row. Bad rows are quarantined
  with the raw record (as JSON for JSON arrays, Parquet and XLSX).
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
* Country: an ISO-2 code, CORDIS's EL/UK, or a name in English or a national language ("Denmark",
  "Danmark", "Österreich"; case and accents ignored) becomes the code the pipeline uses
  (:func:`s3text.countries.country_code`). An unknown value is kept as given and logged as a warning
  naming file, row and column (once per value and file); the regions step then counts its actors
  under "unknown country".
* Language: a two-letter code (``en``, ``DE``, ``fr-CH`` -> ``fr``); anything else is not guessed,
  it is kept in ``extra["language_unrecognised"]``.
* Quarantine reasons: missing_id, duplicate_id (an id accepted earlier in the file), bad_date,
  empty_text, missing_abstract, bad_type (a list/object where text is due), actor_mismatch, and from
  the formats: bad_json, not_object (JSON Lines), bad_record (JSON array), csv_error, nul_byte,
  ragged_row (CSV, XLSX). Numbers become text (12345.0 -> "12345").
* Every unmapped, non-empty column goes to ``extra`` as ``"col:<name>"`` (the prefix keeps them
  apart from the keys above), as text capped at 500 characters; lists and objects as JSON.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

from s3text.config import TableMapping
from s3text.countries import country_code
from s3text.errors import ConfigError, InputError
from s3text.ingest._common import Problem, Quarantine, norm_space, parse_date
from s3text.ingest.tabular import KEYED, Row, Table, open_table, scalar_text, table_kind
from s3text.records import Actor, Document, FileOpened, IngestItem, QuarantineRecord

log = logging.getLogger(__name__)

_KEYS = ("id", "title", "text", "date", "actors", "country", "city", "region", "url", "language")
_NEEDED = frozenset({"id", "title", "text", "date"})
_NUTS_SHAPE = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_LANGUAGE = re.compile(r"([a-z]{2})(?:[-_][a-z0-9]+)*", re.IGNORECASE)
_YEAR, _MONTH = re.compile(r"\d{4}"), re.compile(r"\d{4}-\d{2}")
_ISO_T = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_EXTRA_CHARS = 500


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
        self.problem: Problem = (column, code, message)


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
    if table_kind(path) == "parquet" and encoding.lower().replace("-", "") not in ("auto", "utf8"):
        raise ConfigError(f"source {source!r}: encoding {encoding!r} does not apply to Parquet (always UTF-8)")
    with closing(open_table(path, encoding=encoding)) as table:  # closed however the stream ends
        rows = _Rows(mapping, source, table.file, require_abstract, nuts_version)
        keyed = table.kind in KEYED
        # JSON records drop null keys, so only the keys a document cannot do without must show in the first ones.
        _check_header(table, {k: c for k, c in rows.mapped.items() if k in _NEEDED or not keyed})
        yield FileOpened(table.file, table.encoding)
        seen_keys = set(table.header)
        for row in table.rows:
            if keyed:
                seen_keys.update(row.values)
            yield rows.quarantine(row.number, row.problem, row.raw) if row.problem is not None else rows.item(row)
    for key, column in rows.mapped.items():
        if keyed and column not in seen_keys:
            log.warning("%s: mapping.%s: no record has the key %r", path, key, column)


def _check_header(table: Table, mapped: Mapping[str, str]) -> None:
    if table.kind in KEYED and not table.header:
        return  # no object among the first records: each is quarantined on its own
    for key, column in mapped.items():
        count = table.header.count(column)
        if count != 1:
            where = table.where
            problem = f"occurs {count} times in the {where}" if count else f"not in the {where} {table.header}"
            raise InputError(f"mapping.{key}: column {column!r} {problem}", file=table.file, row=table.header_row,
                             field=column)


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
        self.m, self.quarantine = mapping, Quarantine(source, file)
        self.require_abstract, self.nuts_version = require_abstract, nuts_version
        self.mapped: dict[str, str] = {k: getattr(mapping, k) for k in _KEYS if getattr(mapping, k) is not None}
        self.columns = frozenset(self.mapped.values())
        self.seen: set[str] = set()
        self.unknown_countries: set[str] = set()

    def item(self, row: Row) -> Document | QuarantineRecord:
        try:
            return self._document(row.values, row.number)
        except _Reject as bad:
            return self.quarantine(row.number, bad.problem, row.raw)

    def _text(self, values: Mapping[str, object], key: str) -> str:
        column = self.mapped.get(key)
        if column is None:
            return ""
        text = scalar_text(values.get(column))
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
        items = [scalar_text(v) for v in value]
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
        actors, nuts_codes, extra = self._places(values, row)
        if precision != "day":
            extra["date_precision"] = precision
        language = self._text(values, "language").strip()
        match = _LANGUAGE.fullmatch(language)
        if language and not match:
            extra["language_unrecognised"] = language[:_EXTRA_CHARS]
        for column, value in values.items():
            if column in self.columns:
                continue
            cell = scalar_text(value)
            cell = (json.dumps(value, default=str, ensure_ascii=False) if cell is None else cell).strip()
            if cell:
                extra[f"col:{column}"] = cell if len(cell) <= _EXTRA_CHARS else cell[: _EXTRA_CHARS - 1] + "…"
        self.seen.add(native_id)
        return Document(
            source=self.quarantine.source, source_kind=m.source_kind, native_id=native_id, title=title, text=text,
            date=when, provenance_file=self.quarantine.file, provenance_row=row, actors=actors,
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

    def _country(self, value: str, row: int) -> str | None:
        """The country code of a cell (ISO-2, EL/UK or a name); an unknown value is kept as given, so
        the regions step reports it, and warned about here with its file, row and column."""
        if not value:
            return None
        code = country_code(value)
        if code is None and value not in self.unknown_countries:  # once per value: a file may repeat it
            self.unknown_countries.add(value)
            log.warning("%s, row %d, field %r: unknown country %r (not an ISO-2 code or a country name); "
                        "its actors get no region", self.quarantine.file, row, self.m.country, value)
        return code or value

    def _places(self, values: Mapping[str, object],
                row: int) -> tuple[tuple[Actor, ...], tuple[str, ...], dict[str, str]]:
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
                    name=name, country=self._country(country, row), city=city or None, nuts_code=code,
                    nuts_version=self.nuts_version if code else None, role="participant",
                )
        return tuple(actors.values()), (), extra
