"""The seed list: one company per row of a CSV (name, website, country, [nuts | city], [sector]).

Errors name the file, the row (line number, header = 1) and the field. A file without the
required columns is an :class:`~s3text.errors.InputError`; a bad row is quarantined (returned as a
:class:`~s3text.records.QuarantineRecord`) and the others are crawled.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from s3text.crawl.urls import BadURL, clean, site_host
from s3text.errors import InputError
from s3text.records import Actor, QuarantineRecord, stable_id

REQUIRED = ("name", "website", "country")
OPTIONAL = ("nuts", "nuts_code", "city", "sector")
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
               max_url_length: int = 2083) -> tuple[list[Seed], list[QuarantineRecord]]:
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read the seed list: {exc.strerror or exc}", file=str(path)) from exc
    seeds: list[Seed] = []
    bad: list[QuarantineRecord] = []
    seen: dict[str, int] = {}
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in reader.fieldnames or []]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"not a CSV file: {exc}", file=str(path), row=1) from exc
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}; the header is {', '.join(header) or '(empty)'}",
                             file=str(path), row=1, field=missing[0])
        reader.fieldnames = header
        try:
            for record in reader:
                row = reader.line_num
                values = {k: (v or "").strip() for k, v in record.items() if k is not None}

                def quarantine(field: str, reason: str, row: int = row, values: dict[str, str] = values) -> None:
                    raw = ",".join(values.get(c, "") for c in header)
                    bad.append(QuarantineRecord(source, str(path), row, field, reason, raw))

                if not any(values.values()):
                    continue
                if not values["name"]:
                    quarantine("name", "empty company name")
                    continue
                website = values["website"]
                if website and "://" not in website:
                    website = "https://" + website
                try:
                    url = clean(website, strip_params=strip_params, max_length=max_url_length)
                except BadURL as exc:
                    quarantine("website", f"not a usable website URL ({exc})")
                    continue
                country = values["country"].upper()
                if not _COUNTRY.match(country):
                    quarantine("country", f"{values['country']!r} is not a two-letter country code")
                    continue
                nuts = (values.get("nuts") or values.get("nuts_code") or "").upper() or None
                if nuts is not None and (not _NUTS.match(nuts) or nuts[:2] != country.replace("GR", "EL")
                                         .replace("GB", "UK")):
                    quarantine("nuts", f"{nuts!r} is not a NUTS code of country {country}")
                    continue
                host = site_host(url)
                if host in seen:
                    quarantine("website", f"same website as row {seen[host]}")
                    continue
                seen[host] = row
                seeds.append(Seed(values["name"], url, country, row, str(path), nuts, values.get("city") or None,
                                  values.get("sector") or None))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"unreadable CSV: {exc}", file=str(path), row=reader.line_num) from exc
    return seeds, bad
