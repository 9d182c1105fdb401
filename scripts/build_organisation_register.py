"""Rebuild the bundled organisation register (data/organisations/) from ../shared.

Usage (from the project root)::

    python scripts/build_organisation_register.py [--shared ../shared/data] [--out data/organisations]

Only a maintainer runs this; the pipeline reads the bundled file and never needs ../shared. The
copy keeps the columns placement uses (org_id, name, country, postcode, city) and drops street,
the raw address and the repair bookkeeping, which keeps the repository small (see the folder's
SOURCE.md). Rows keep the source's order (by org_id); the gzip header carries no file name and
mtime 0, so a rebuild from the same input gives identical bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
from pathlib import Path

SOURCE = Path("cordis_organisations_register/organisations.csv.gz")
OUT_NAME = "cordis_fp7_organisations.csv.gz"
COLUMNS = ("org_id", "name", "country", "postcode", "city")


def build(shared: Path, out: Path) -> Path:
    with gzip.open(shared / SOURCE, "rt", encoding="utf-8", newline="") as fh:
        rows = [[row[c] for c in COLUMNS] for row in csv.DictReader(fh)]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    out.mkdir(parents=True, exist_ok=True)
    target = out / OUT_NAME
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                  compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"{target}: {len(rows)} rows, {target.stat().st_size} bytes, sha256 {digest}")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/organisations"))
    args = parser.parse_args()
    build(args.shared, args.out)


if __name__ == "__main__":
    main()
