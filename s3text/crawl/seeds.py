"""The seed list: one company per row of a CSV (name, website, country, [nuts | city], [sector]).

The file is read like every other input, through :func:`s3text.ingest._common.read_csv`: plain,
``.gz`` or ``.zip``, its encoding checked (UTF-8, a BOM, or a code page told with confidence), and
each row numbered by the physical line where it starts (header = 1), so a quoted field with a line
break does not shift the numbers. Column names are matched case-insensitively.

A file without the required columns is an :class:`~s3text.errors.InputError` naming file, row and
field; a bad row is quarantined (a :class:`~s3text.records.QuarantineRecord` with file, row, field
and ``code: message``) and the other rows are crawled.
"""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from s3text.crawl.urls import BadURL, clean, site_host
from s3text.ingest._common import Problem, Quarantine, read_csv, require_columns
from s3text.records import Actor, QuarantineRecord, stable_id

REQUIRED = ("name", "website", "country")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")


@dataclass(frozen=True, slots=True)
class Seed:
    name: str
    url: str  # cleaned start URL
    country: str
    row: int
    file: str
    nuts_code: str | None = None
    city: str | None = None
    sector: str | None = None

    @property
    def site_id(self) -> str:
        """One id per company website (host without www.), stable across crawls and seed files."""
        return stable_id("website", site_host(self.url))

    def actor(self) -> Actor:
        return Actor(name=self.name, country=self.country, city=self.city, nuts_code=self.nuts_code,
                     kind="company", role="company", native_id=site_host(self.url), id_scheme="website")


def read_seeds(path: Path | str, *, source: str = "web", strip_params: tuple[str, ...] = (),
               max_url_length: int = 2083, encoding: str = "auto") -> tuple[list[Seed], list[QuarantineRecord]]:
    path = Path(path)
    seeds: list[Seed] = []
    bad: list[QuarantineRecord] = []
    quarantine = Quarantine(source, str(path))
    seen: dict[str, int] = {}
    with closing(read_csv(path, required=(), encoding=encoding)) as table:
        header = [h.lower() for h in table.header]
        require_columns(str(path), header, REQUIRED, row=1)
        for rec in table.records:
            if rec.error is not None:
                bad.append(quarantine(rec.line, ("*", "csv_error", rec.error), rec.raw))
                continue
            values = {k: v.strip() for k, v in rec.get(header).items()}
            if not any(values.values()):
                continue
            found = _seed(values, rec.line, str(path), strip_params, max_url_length, seen)
            if isinstance(found, Seed):
                seeds.append(found)
            else:
                bad.append(quarantine(rec.line, found, rec.raw.rstrip("\r\n")))
    return seeds, bad


def _seed(values: dict[str, str], row: int, file: str, strip_params: tuple[str, ...], max_url_length: int,
          seen: dict[str, int]) -> Seed | Problem:
    """The seed of a row, or the (field, code, message) of its first problem."""
    name = values.get("name", "")
    if not name:
        return "name", "missing_name", "empty company name"
    website = values.get("website", "")
    if website and "://" not in website:
        website = "https://" + website
    try:
        url = clean(website, strip_params=strip_params, max_length=max_url_length)
    except BadURL as exc:
        return "website", "bad_website", f"not a usable website URL ({exc})"
    country = values.get("country", "").upper()
    if not _COUNTRY.match(country):
        return "country", "bad_country", f"{values.get('country', '')!r} is not a two-letter country code"
    nuts = (values.get("nuts") or values.get("nuts_code") or "").upper() or None
    if nuts is not None and (not _NUTS.match(nuts) or nuts[:2] != country.replace("GR", "EL").replace("GB", "UK")):
        return "nuts", "bad_nuts", f"{nuts!r} is not a NUTS code of country {country}"
    host = site_host(url)
    if host in seen:
        return "website", "duplicate_website", f"same website as row {seen[host]}"
    seen[host] = row
    return Seed(name, url, country, row, file, nuts, values.get("city") or None, values.get("sector") or None)
