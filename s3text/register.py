"""A register of organisations with addresses, to place actors that come with a name only.

ERC host institutions, patent assignees or a scrape with country only carry a name (and perhaps a
country) but no city. The register (bundled: ``data/organisations/cordis_fp7_organisations.csv.gz``,
30,399 CORDIS FP7 organisations, see that folder's SOURCE.md) gives the city of an organisation,
and the gazetteer turns the city into a NUTS-3 region. Names meet through
:func:`s3text.organisations.normalise_name`, the key that groups actor records into organisations,
so legal forms, accents, punctuation and a trailing acronym do not matter.

Rules (:meth:`OrganisationRegister.match`), chosen to refuse rather than misplace:

* An actor with a country is matched only with entries of that country.
* An actor without a country is matched only with entries of the same legal form
  (:func:`~s3text.organisations.legal_form`): "Microsoft Corporation" is the US parent, not
  "MICROSOFT NV" in Belgium, which the register holds. The same name in several countries then
  counts as several places.
* Entries whose places (NUTS-3 through the gazetteer, else their country) disagree are ambiguous:
  nothing is placed, and the candidates are named in the note.

The register keeps one address per organisation, its legal seat (CNRS is in Paris, Fraunhofer in
Munich), so a multi-site body is placed at its seat; an actor's own city always wins over it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from s3text.countries import canonical_country
from s3text.errors import InputError
from s3text.gazetteer import Gazetteer
from s3text.organisations import legal_form, normalise_name
from s3text.refdata import read_columns

__all__ = ["REGISTER_COLUMNS", "OrganisationRegister", "RegisterEntry", "RegisterMatch"]

REGISTER_COLUMNS = ("org_id", "name", "country", "postcode", "city")
_NOTE_CANDIDATES = 3  # candidates named in the note of an ambiguous match


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    org_id: str
    name: str
    country: str  # as the pipeline writes it (EL, UK)
    postcode: str
    city: str

    def describe(self) -> str:
        where = " ".join(filter(None, (self.postcode, self.city))) or "no city"
        return f"register org {self.org_id} {self.name!r}, {where} ({self.country})"


@dataclass(frozen=True, slots=True)
class RegisterMatch:
    """``placed``: ``code`` is the NUTS-3 region (or, without a usable city, the country) of the
    entries found; otherwise why not. ``note`` is the evidence, or the reason in words."""

    outcome: Literal["placed", "not_found", "ambiguous"]
    code: str | None
    note: str


class OrganisationRegister:
    """Register entries indexed by normalised name; load once per run with :meth:`load`."""

    def __init__(self, entries: list[RegisterEntry], path: str = "") -> None:
        self.path = path
        self._by_key: dict[str, list[RegisterEntry]] = defaultdict(list)
        for entry in entries:
            if key := normalise_name(entry.name):
                self._by_key[key].append(entry)
        self.size = len(entries)

    @classmethod
    def load(cls, path: Path | str) -> OrganisationRegister:
        """Read a register CSV (gzip'd when the name ends in .gz) with :data:`REGISTER_COLUMNS`.

        Raises InputError naming the file, row and field for a missing column, a ragged row, an
        empty org_id, name or country, or an org_id listed twice."""
        path = Path(path)
        entries: list[RegisterEntry] = []
        seen: dict[str, int] = {}
        for row, (org_id, name, country, postcode, city) in read_columns(path, REGISTER_COLUMNS):
            for field, value in (("org_id", org_id), ("name", name), ("country", country)):
                if not value.strip():
                    raise InputError(f"empty {field}", file=str(path), row=row, field=field)
            if (first := seen.setdefault(org_id, row)) != row:
                raise InputError(f"org_id {org_id} already on row {first}", file=str(path), row=row, field="org_id")
            entries.append(RegisterEntry(org_id.strip(), name.strip(), canonical_country(country) or "",
                                         postcode.strip(), city.strip()))
        return cls(entries, str(path))

    def candidates(self, name: str, country: str | None) -> list[RegisterEntry]:
        """Entries under the name's key: of ``country`` when given, else of the same legal form."""
        found = self._by_key.get(normalise_name(name), [])
        cc = canonical_country(country)
        if cc:
            return [e for e in found if e.country == cc]
        form = legal_form(name)
        return [e for e in found if legal_form(e.name) == form]

    def match(self, name: str, country: str | None, gazetteer: Gazetteer) -> RegisterMatch:
        """Place a name through the register and the gazetteer (rules in the module docstring)."""
        found = self.candidates(name, country)
        if not found:
            where = f" in {canonical_country(country)}" if canonical_country(country) else " with its legal form"
            return RegisterMatch("not_found", None, f"{name!r} not in the organisation register{where}")
        places = {e: gazetteer.lookup(e.country, e.city) or e.country for e in found}
        if len(set(places.values())) > 1:
            named = "; ".join(f"{e.describe()} -> {places[e]}" for e in found[:_NOTE_CANDIDATES])
            more = f" and {len(found) - _NOTE_CANDIDATES} more" if len(found) > _NOTE_CANDIDATES else ""
            return RegisterMatch("ambiguous", None, f"{name!r} matches register entries in different places: "
                                                    f"{named}{more}")
        first = found[0]
        also = f" (+{len(found) - 1} entries, same place)" if len(found) > 1 else ""
        return RegisterMatch("placed", places[first], f"{first.describe()}{also}")
