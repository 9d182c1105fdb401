"""Convert NUTS codes between versions (2013, 2016, 2021, 2024) with the bundled correspondence
``data/nuts/nuts_correspondence.csv`` (built by ``scripts/build_nuts_correspondence.py``; sources
and method in ``data/nuts/SOURCE.md``).

Each row of the correspondence is a *link*: the piece of territory that region ``from_code`` of
one version shares with region ``to_code`` of the next version, with the share of each region's
population that lies in that piece (``from_share``, ``to_share``; empty where the source gives
none) and ``exact`` when both regions are the same territory. Only adjacent versions are linked;
:meth:`NutsConverter.convert` chains them (2016 -> 2021 -> 2024 and back).

How a region is converted one step, in order:

* not a code of the source version, or one the correspondence does not link to the next version
  (the UK's 2016 codes to 2013): ``unknown``, no code;
* linked to nothing: ``discontinued`` (forward, e.g. the UK after 2020) or ``new`` (backward,
  e.g. Kosovo before 2024), no code;
* pieces under 1 % of the region's population are ignored: digitising slivers, and boundary
  shifts Eurostat itself does not count as NUTS amendments (art. 5(2a) of Regulation 1059/2003);
* one target left, or one holding at least 90 % of the population: that target. The change is
  ``unchanged``/``recoded`` when the link is exact, ``merged`` when the target also took in
  the whole of another region, else ``boundary shift``;
* several targets (a split): no single target contains the region, so the answer is their
  deepest common parent that exists in the target version (e.g. ITG27 Cagliari 2016, split into
  ITG2F and ITG2H, gives ITG2 Sardegna), ``exact=False``, with the targets as ``candidates``.
  Shares the source does not give count as equal, so such a split never looks dominant.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from s3text.errors import InputError
from s3text.refdata import read_columns

VERSIONS = ("2013", "2016", "2021", "2024")
CHANGES = ("unchanged", "recoded", "boundary shift", "merged", "split", "new", "discontinued", "unknown")
COLUMNS = ("from_version", "from_code", "to_version", "to_code", "level", "change", "exact",
           "from_share", "to_share", "source")
# Below this share a piece is noise for placing an organisation (see the module docstring).
NOISE = 0.01
# A target holding this share of the population is where an organisation most likely is.
DOMINANT = 0.9
_CODE = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")
_RANK = {change: i for i, change in enumerate(CHANGES)}


@dataclass(frozen=True, slots=True)
class Link:
    """A piece of territory shared by a region of one version and a region of the next."""

    from_version: str
    from_code: str | None  # None: the region is new in to_version
    to_version: str
    to_code: str | None  # None: the region was discontinued
    exact: bool
    from_share: float | None = None  # share of from_code's population in this piece
    to_share: float | None = None  # share of to_code's population in this piece
    change: str = ""
    source: str = ""


@dataclass(frozen=True)
class Conversion:
    """A code in another version: ``code`` is None when no region of that version contains it."""

    code: str | None
    version: str
    exact: bool
    change: str
    candidates: tuple[str, ...]


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def _parse(path: Path, i: int, rec: dict[str, str]) -> Link:
    def fail(field: str, why: str) -> InputError:
        return InputError(f"{why}: {rec[field]!r}", file=str(path), row=i, field=field)

    for field in ("from_version", "to_version"):
        if rec[field] not in VERSIONS:
            raise fail(field, f"not a NUTS version {VERSIONS}")
    if rec["from_version"] >= rec["to_version"]:
        raise fail("to_version", "links go from an older to a newer version")
    codes = {}
    for field in ("from_code", "to_code"):
        if rec[field] and not _CODE.match(rec[field]):
            raise fail(field, "not a NUTS code")
        codes[field] = rec[field] or None
    if not (codes["from_code"] or codes["to_code"]):
        raise fail("to_code", "a link needs a code on at least one side")
    level = len((codes["from_code"] or codes["to_code"]) or "") - 2
    if rec["level"] != str(level):
        raise fail("level", f"level of a {level + 2}-character code is {level}")
    if rec["exact"] not in ("true", "false"):
        raise fail("exact", "expected true or false")
    if rec["change"] not in CHANGES:
        raise fail("change", f"not one of {CHANGES}")
    shares: dict[str, float | None] = {}
    for field in ("from_share", "to_share"):
        try:
            shares[field] = float(rec[field]) if rec[field] else None
        except ValueError:
            raise fail(field, "not a number") from None
        share = shares[field]
        if share is not None and not 0 <= share <= 1:
            raise fail(field, "a share lies between 0 and 1")
    return Link(rec["from_version"], codes["from_code"], rec["to_version"], codes["to_code"],
                rec["exact"] == "true", shares["from_share"], shares["to_share"], rec["change"], rec["source"])


class NutsConverter:
    """NUTS codes of one version in another, from links between adjacent versions."""

    def __init__(self, links: Iterable[Link]) -> None:
        self._out: dict[tuple[str, str], list[Link]] = {}  # (from_version, from_code) -> links
        self._in: dict[tuple[str, str], list[Link]] = {}  # (to_version, to_code) -> links
        self.codes: dict[str, set[str]] = {}  # version -> its codes
        pairs = set()
        for link in links:
            pairs.add((link.from_version, link.to_version))
            if link.from_code:
                self._out.setdefault((link.from_version, link.from_code), []).append(link)
                self.codes.setdefault(link.from_version, set()).add(link.from_code)
            if link.to_code:
                self._in.setdefault((link.to_version, link.to_code), []).append(link)
                self.codes.setdefault(link.to_version, set()).add(link.to_code)
        self.versions = tuple(sorted({v for pair in pairs for v in pair}))
        if gaps := pairs - set(zip(self.versions, self.versions[1:], strict=False)):
            raise ValueError(f"links must join adjacent versions of {self.versions}, not {sorted(gaps)}")

    @classmethod
    def load(cls, path: Path | str) -> NutsConverter:
        """Read a correspondence CSV (gzip'd when the name ends in .gz); errors name file, row, field."""
        path = Path(path)
        links = [_parse(path, i, dict(zip(COLUMNS, values, strict=True))) for i, values in read_columns(path, COLUMNS)]
        try:
            return cls(links)
        except ValueError as exc:
            raise InputError(str(exc), file=str(path)) from None

    def knows(self, code: str, version: str) -> bool:
        return normalise_code(code) in self.codes.get(version, ())

    def convert(self, code: str, from_version: str, to_version: str) -> Conversion:
        """``code`` of ``from_version`` as a code of ``to_version`` (see the module docstring)."""
        for version in (from_version, to_version):
            if version not in VERSIONS:
                raise ValueError(f"not a NUTS version: {version!r} (known: {', '.join(VERSIONS)})")
        code = normalise_code(code)
        if code not in self.codes.get(from_version, ()) or to_version not in self.codes:
            return Conversion(None, to_version, False, "unknown", ())
        path = [v for v in self.versions if min(from_version, to_version) <= v <= max(from_version, to_version)]
        if from_version > to_version:
            path.reverse()
        result, exact, worst = code, True, "unchanged"
        parts: tuple[str, ...] = (code,)
        for a, b in itertools.pairwise(path):
            step = self._step(result, a, b)
            # A split's parts travel on one by one, so the candidates stay the finest regions known.
            parts = step.candidates if parts == (result,) else tuple(
                sorted({c for p in parts for c in self._step(p, a, b).candidates}))
            exact &= step.exact
            worst = max(worst, step.change, key=_RANK.__getitem__)
            if step.code is None:
                return Conversion(None, to_version, False, worst, parts)
            result = step.code
        if exact:
            worst = "unchanged" if result == code else "recoded"
        return Conversion(result, to_version, exact, worst, parts)

    def _step(self, code: str, a: str, b: str) -> Conversion:
        """One step between adjacent versions ``a`` and ``b`` (forward or backward)."""
        forward = a < b
        if code not in self.codes.get(a, ()):
            return Conversion(None, b, False, "unknown", ())
        links = (self._out if forward else self._in).get((a, code), [])
        if not links:  # a code of version a the correspondence does not link to b (UK 2016 -> 2013)
            return Conversion(None, b, False, "unknown", ())
        targets = [(link.to_code if forward else link.from_code, link.from_share if forward else link.to_share, link)
                   for link in links]
        targets = [t for t in targets if t[0]]
        if not targets:
            return Conversion(None, b, False, "discontinued" if forward else "new", ())
        if any(share is None for _, share, _ in targets):
            targets = [(t, 1 / len(targets), link) for t, _, link in targets]
        targets.sort(key=lambda t: -(t[1] or 0))
        kept = [t for t in targets if (t[1] or 0) >= NOISE] or targets[:1]
        candidates = tuple(sorted(str(t) for t, _, _ in kept))
        top, share, link = kept[0]
        assert top is not None
        if len(kept) > 1 and (share or 0) < DOMINANT:
            return Conversion(self._parent(candidates, b), b, False, "split", candidates)
        if link.exact:
            change = "unchanged" if top == code else "recoded"
        else:
            change = "merged" if self._takes_in_others(top, code, a, b) else "boundary shift"
        return Conversion(top, b, link.exact, change, candidates)

    def _takes_in_others(self, target: str, code: str, a: str, b: str) -> bool:
        """Whether ``target`` (of ``b``) also took in the whole of a region other than ``code``.

        Taking in a piece of a neighbour is a boundary shift; taking in a whole region is a merger.
        """
        back = (self._in if a < b else self._out).get((b, target), [])
        for link in back:
            other, whole = (link.from_code, link.from_share) if a < b else (link.to_code, link.to_share)
            if other and other != code and whole is not None and whole >= DOMINANT:
                return True
        return False

    def _parent(self, codes: tuple[str, ...], version: str) -> str | None:
        """Deepest region of ``version`` containing all ``codes`` (their longest common prefix)."""
        prefix = codes[0]
        for code in codes[1:]:
            while not code.startswith(prefix):
                prefix = prefix[:-1]
        known = self.codes.get(version, ())
        while len(prefix) > 2 and prefix not in known:
            prefix = prefix[:-1]
        return prefix if len(prefix) >= 2 and prefix in known else None
