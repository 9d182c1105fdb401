"""Rebuild the bundled NUTS tables in data/nuts/ from the read-only copies in ../shared.

Usage (from the project root)::

    python scripts/build_gazetteer.py [--shared ../shared/data] [--out data/nuts]

Only a maintainer runs this; the pipeline reads the bundled files and never needs ../shared.
The output is byte-for-byte reproducible: rows are sorted and the gzip header carries no
file name and mtime 0, so a rebuild from the same inputs gives identical bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import logging
import shutil
from collections import Counter, defaultdict
from pathlib import Path

log = logging.getLogger("build_gazetteer")

COPIED = ("nuts2021.csv", "alpine_space_2021_2027_nuts2.csv")
GAZETTEER = "gazetteer_lau2020_nuts2021.csv.gz"
COLUMNS = ("country", "name", "nuts3_code", "population")
# The FR file carries 107 names with C1 control characters U+009C/U+008C where œ/Œ belong
# (their Windows-1252 byte values, e.g. "Marcq-en-Bar\x9cul"); map them back.
C1_FIXES = str.maketrans({"\x9c": "œ", "\x8c": "Œ"})


# French overseas departments, by the INSEE code prefix of the commune: the source puts most of
# their communes (Fort-de-France, Cayenne, Saint-Denis de La Réunion, ...) into FRY50 Mayotte.
FR_OVERSEAS = {"971": "FRY10", "972": "FRY20", "973": "FRY30", "974": "FRY40", "976": "FRY50"}

Row = tuple[str, str, str, str]  # country, name, nuts3_code, population


def read_lau_rows(combo_dir: Path) -> list[tuple[str, str, str, str, str]]:
    """(country, name, nuts3_code, population, lau_id) from the per-country EDJNet files.

    The per-country files are used (not the joined all-countries file) because only they carry
    population, which the resolver needs to break ties between homonymous municipalities.
    """
    files = sorted(combo_dir.glob("*_lau_2020_nuts_2021_concordance_combo.csv"))
    if not files:
        raise SystemExit(f"no per-country concordance files under {combo_dir}")
    rows = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as fh:
            for rec in csv.DictReader(fh):
                name = " ".join(rec["lau_name"].translate(C1_FIXES).split())
                pop = rec["population"].strip()
                # "NA" in CH/IS/MK/UK/CY/FR: keep the row, leave the population empty.
                pop = pop if pop.isdigit() else ""
                rows.append((rec["country"].strip(), name, rec["nuts_3"].strip(), pop, rec["lau_id"].strip()))
        log.info("%s: %d rows so far", path.name, len(rows))
    return rows


def correct(rows: list[tuple[str, str, str, str, str]]) -> list[Row]:
    """Fix the two systematic NUTS-3 errors found in the source; log every change."""
    # In Italy NUTS-3 = province = the first 3 digits of the ISTAT code; the source's area-overlap
    # method misplaces municipalities that changed province (Torre de' Busi, Sappada).
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for country, _, nuts3, _, lau in rows:
        if country == "IT":
            votes[lau[:3]][nuts3] += 1
    out: set[Row] = set()
    for country, name, nuts3, pop, lau in rows:
        fixed = nuts3
        if country == "FR" and lau[:3] in FR_OVERSEAS:
            fixed = FR_OVERSEAS[lau[:3]]
        elif country == "IT":
            fixed = votes[lau[:3]].most_common(1)[0][0]
        if fixed != nuts3:
            log.info("corrected %s %s %s: %s -> %s", country, lau, name, nuts3, fixed)
        out.add((country, name, fixed, pop))
    # Exact duplicates add nothing; sorting makes the output independent of file order.
    return sorted(out)


def gzip_csv(rows: list[Row]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    out = io.BytesIO()
    # filename="" and mtime=0 keep the header free of anything that changes between builds.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=root.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=root / "data" / "nuts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    args.out.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copyfile(args.shared / "nuts2021" / name, args.out / name)
        log.info("copied %s", name)

    rows = correct(read_lau_rows(args.shared / "nuts_gazetteer" / "lau_2020_nuts_2021_concordance_combo"))
    blob = gzip_csv(rows)
    (args.out / GAZETTEER).write_bytes(blob)
    digest = hashlib.sha256(blob).hexdigest()
    log.info("%s: %d rows, %d bytes, sha256 %s", GAZETTEER, len(rows), len(blob), digest)


if __name__ == "__main__":
    main()
