"""Build data/nuts/nuts_correspondence.csv: links between NUTS regions of adjacent versions.

Usage (from the project root)::

    python scripts/build_nuts_correspondence.py [--shared ../shared/data] [--out data/nuts/nuts_correspondence.csv]

Only a maintainer runs this; the pipeline reads the bundled CSV. Sources (details, licences and
caveats in data/nuts/SOURCE.md):

* 2021 <-> 2024: Eurostat's official NUTS2021-NUTS2024 correspondence in ../shared/data/nuts2021
  (the CSV of both sheets, and the workbook's change sheets for the parts of splits).
* 2013 <-> 2016 <-> 2021: the European Commission JRC's NUTS converter matrices (release 2025.08),
  which give the area and population of every piece shared by regions of two versions. Eurostat's
  own NUTS2013-NUTS2016 and NUTS2016-NUTS2021 workbooks are not in the stored public index as
  text; the JRC matrices are, as CSV, in github.com/ropensci/nuts. ``scripts/jrc_nuts_changes.csv``
  holds the rows of those matrices that touch a changed region, transcribed from that copy (see
  ``JRC_FILES``); every other region of a covered country maps to itself. The UK (out of NUTS
  since 2021, and kept in its NUTS 2016 codes by the resolver) comes from the bundled gazetteer's
  NUTS 2016 codes.

The output is reproducible: rows are sorted and written with "\\n" line ends.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import re
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from s3text.nuts_versions import COLUMNS, VERSIONS, Link, NutsConverter
from s3text.refdata import read_columns

log = logging.getLogger("build_nuts_correspondence")

JRC_REPO = "github.com/ropensci/nuts, commit 8637f59e6913ce9d6403a3f96e0c3fdd4b13c8f0"
JRC_FILES = {pair: f"data-raw/_JRC_NUTSconverter_Matrices_rel.2025.08/n{{1,2,3}}_cm_v{pair[0]}_v{pair[1]}.csv"
             for pair in (("2013", "2016"), ("2016", "2021"))}
# Countries the JRC matrices cover; the others (and extra-regio codes, which have no territory)
# are assumed unchanged where the code exists in both versions.
_COVERED = ("AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU",
            "IE", "IS", "IT", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK")
JRC_COUNTRIES = {("2016", "2021"): frozenset(_COVERED), ("2013", "2016"): frozenset((*_COVERED, "LI"))}
# Rows "code_old,code_new,areaKm,pop21" of the JRC matrices (levels 1-3) whose old or new code
# takes part in a change, transcribed into JRC_ROWS with the versions they link, areas rounded to
# 0.001 km²; pop21 is the 2021 resident population (for the French overseas regions and Iceland
# the matrices repeat another figure there; kept as is). The UK's rows are left out: the resolver
# keeps UK codes in NUTS 2016 and never converts them.
JRC_ROWS = Path(__file__).with_name("jrc_nuts_changes.csv")

# Eurostat 2021 -> 2024 mergers, from the sheet "Changes NUTS-3" of NUTS2021-NUTS2024.xlsx:
# "Eisenach (16056000, ex-DEG0N) merged into ex-DEG0P" (now DEG0R), and "Ex-LV006 and ex-LV007
# regions merged to LV00A ... Tukuma novads moved from ex-LV007 to ex-LV003 [now LV00B] ...
# Limbažu, Ogres, Saulkrastu novads moved from ex-LV007 to ex-LV008 [now LV00C]".
MERGED_2024 = {"DEG0N": ("DEG0R",), "LV007": ("LV00A", "LV00B", "LV00C")}
# The change sheets name a split's parts: "PT1A + PT1B = ex-PT17", "NO083 + NO084 + NO085 = ex-NO082".
_SPLIT = re.compile(r"((?:[A-Z]{2}[A-Z0-9]{1,3}\s*\+\s*)+[A-Z]{2}[A-Z0-9]{1,3})\s*=\s*ex-([A-Z]{2}[A-Z0-9]{1,3})")
EXACT = 0.999  # both regions keep 99.9 % of their population: the same territory
UK_GAZETTEER = "gazetteer_lau2020_nuts2021.csv.gz"


def _with_parents(codes: set[str]) -> set[str]:
    return {code[:n] for code in codes for n in range(2, len(code) + 1)}


Flows = dict[tuple[str, str], dict[tuple[str, str], tuple[float, float]]]


def jrc_flows(path: Path = JRC_ROWS) -> Flows:
    """{(old version, new version): {(old code, new code): (km², people)}} from the transcribed rows."""
    flows: Flows = defaultdict(dict)
    columns = ("from_version", "to_version", "code_old", "code_new", "areaKm", "pop21")
    for i, (old, new, a, b, area, pop) in read_columns(path, columns):
        if (a, b) in flows[old, new]:
            raise SystemExit(f"{path}, row {i}: {old}->{new} {a} -> {b} is transcribed twice")
        flows[old, new][a, b] = (float(area), float(pop))
    return flows


def jrc_links(flows: Flows, old: str, new: str, new_codes: set[str], extra_old: set[str]) -> list[Link]:
    """Links from the JRC rows of ``old`` -> ``new``; a region they do not touch keeps its code."""
    out_total: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    in_total: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (a, b), (km2, people) in flows[old, new].items():
        for total in (out_total[a], in_total[b]):
            total[0] += km2
            total[1] += people

    def share(part: tuple[float, float], total: list[float]) -> float:
        # Population where there is any; area for a piece of land nobody lives in.
        return part[1] / total[1] if total[1] else part[0] / total[0]

    if unknown := sorted(set(in_total) - new_codes):  # a slip in the transcription
        raise SystemExit(f"JRC {old}->{new} rows name codes that NUTS {new} lacks: {unknown}")
    links = []
    for (a, b), part in sorted(flows[old, new].items()):
        fs, ts = share(part, out_total[a]), share(part, in_total[b])
        links.append(Link(old, a, new, b, fs >= EXACT and ts >= EXACT, fs, ts, "", "jrc"))
    covered = JRC_COUNTRIES[(old, new)]
    for code in sorted(new_codes - set(in_total) - set(out_total)):
        territorial = code[:2] in covered and not code.endswith("Z")  # extra-regio codes end in Z
        links.append(Link(old, code, new, code, True, 1.0, 1.0, "", "jrc" if territorial else "assumed"))
    for code in sorted(extra_old - new_codes - set(out_total)):
        links.append(Link(old, code, new, None, False, None, None, "", "gazetteer"))
    return links


def eurostat_links(shared: Path) -> list[Link]:
    """2021 -> 2024 links from Eurostat's correspondence CSV and the workbook's change sheets."""
    import openpyxl

    with (shared / "nuts2021" / "nuts2021_nuts2024_correspondence.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    splits: dict[str, tuple[str, ...]] = {}
    book = openpyxl.load_workbook(shared / "nuts2021" / "NUTS2021-NUTS2024.xlsx", read_only=True)
    for sheet in ("Changes NUTS-2", "Changes NUTS-3"):
        for values in book[sheet].iter_rows(values_only=True):
            for text in (v for v in values if isinstance(v, str)):
                for m in _SPLIT.finditer(text):
                    splits[m.group(2)] = tuple(re.split(r"\s*\+\s*", m.group(1)))
    # Eurostat lists a redrawn region twice, old and new code under one name: pair them.
    successor = {(r["country_code"], r["level"], r["label"]): r["code_2024"]
                 for r in rows if r["code_2024"] and not r["code_2021"]}
    targets: dict[str, tuple[str, ...]] = {}
    exact: dict[str, bool] = {}
    for r in rows:
        a, b, change = r["code_2021"], r["code_2024"], r["change_2021_to_2024"]
        if a:
            # "art. 5(2a)": a boundary shift too small to count as an amendment, still a shift.
            exact[a] = bool(b) and change in ("", "Name change", "Code change")
            name = successor.get((r["country_code"], r["level"], r["label"]))
            targets[a] = (b,) if b else splits.get(a) or MERGED_2024.get(a) or ((name,) if name and len(a) == 5 else ())
    # A NUTS-1 or NUTS-2 code that disappears goes where its NUTS-3 regions go (PT16 -> PT19 + PT1D).
    for a in [a for a, t in targets.items() if not t and len(a) < 5]:
        targets[a] = tuple(sorted({t[: len(a)] for c, ts in targets.items() if c.startswith(a) and len(c) == 5
                                   for t in ts}))
    if missing := sorted(a for a, t in targets.items() if not t):
        raise SystemExit(f"no NUTS 2024 successor for {missing}")
    countries = {c[:2] for r in rows for c in (r["code_2021"], r["code_2024"]) if c}
    for cc in countries - set(targets):  # statistical regions list no level-0 row
        if any(a.startswith(cc) for a in targets):
            targets[cc], exact[cc] = (cc,), True
    sources: dict[str, int] = defaultdict(int)
    for ts in targets.values():
        for t in ts:
            sources[t] += 1
    links = [Link("2021", a, "2024", b, exact[a], 1.0 if len(ts) == 1 else None,
                  1.0 if sources[b] == 1 else None, "", "eurostat")
             for a, ts in sorted(targets.items()) for b in ts]
    new_codes = {r["code_2024"] for r in rows if r["code_2024"]} | (countries - set(targets))
    links += [Link("2021", None, "2024", b, False, None, None, "", "eurostat")
              for b in sorted(new_codes - set(sources))]
    return links


def read_codes(path: Path, column: str) -> set[str]:
    return {code for _, (code,) in read_columns(path, (column,)) if code}


def codes_of(links: list[Link], version: str, side: str = "both") -> set[str]:
    """The codes of ``version`` that ``links`` name on their ``from`` side, ``to`` side or both."""
    found = {link.from_code for link in links if side != "to" and link.from_version == version}
    found |= {link.to_code for link in links if side != "from" and link.to_version == version}
    return {code for code in found if code}


def build(shared: Path, nuts_dir: Path) -> list[Link]:
    codes_2021 = _with_parents(read_codes(shared / "nuts2021" / "nuts2021.csv", "nuts_code"))
    uk = {c for c in read_codes(nuts_dir / UK_GAZETTEER, "nuts3_code") if c.startswith("UK")}
    flows = jrc_flows()
    links = jrc_links(flows, "2016", "2021", codes_2021, _with_parents(uk) | {"UKZ", "UKZZ", "UKZZZ"})
    codes_2016 = {code for code in codes_of(links, "2016", "from") if not code.startswith("UK")}
    links += jrc_links(flows, "2013", "2016", codes_2016, set())
    links += eurostat_links(shared)
    if diff := codes_of(links, "2021", "from") ^ codes_of(links, "2021", "to"):
        raise SystemExit(f"the NUTS 2021 codes of the two correspondences differ: {sorted(diff)}")
    log.info("codes: %s", {v: len(codes_of(links, v)) for v in VERSIONS})
    # The change column says, for a reader, what happens to from_code going forward.
    converter = NutsConverter(links)
    out = [replace(link, change="new" if link.from_code is None else
                   converter.convert(link.from_code, link.from_version, link.to_version).change)
           for link in links]
    return sorted(out, key=lambda k: (k.from_version, k.from_code or "", k.to_code or ""))


def write(links: list[Link], path: Path) -> None:
    def share(x: float | None) -> str:
        return "" if x is None else f"{x:.4f}".rstrip("0").rstrip(".")

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for k in links:
            code = k.from_code or k.to_code or ""
            writer.writerow([k.from_version, k.from_code or "", k.to_version, k.to_code or "", len(code) - 2,
                             k.change, "true" if k.exact else "false", share(k.from_share), share(k.to_share),
                             k.source])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/nuts/nuts_correspondence.csv"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    links = build(args.shared, args.out.parent)
    write(links, args.out)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for k in links:
        if k.from_code and k.change != "unchanged":
            counts[k.from_version, k.to_version, k.change] += 1
    for (a, b, change), n in sorted(counts.items()):
        log.info("%s -> %s %-15s %d links", a, b, change, n)
    log.info("%s: %d links, sha256 %s", args.out, len(links), hashlib.sha256(args.out.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
