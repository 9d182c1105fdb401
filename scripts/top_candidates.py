"""Write the "Top candidates of the default run" section of docs/METHODS.md from a store.

Usage: ``.venv/bin/python scripts/top_candidates.py STORE [RUN_ID]`` on a store built with
configs/default.yaml (the latest completed run by default). Every figure in the section comes from
the store: flagged and below-minimum counts, and the top ten candidates with their support.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.docsection import write_section  # noqa: E402
from s3text.diagnosis import recorded_reasons  # noqa: E402
from s3text.exports import resolve_run, run_info  # noqa: E402
from s3text.store import Store  # noqa: E402

DOC = ROOT / "docs" / "METHODS.md"
START, END = "<!-- top-candidates:start -->", "<!-- top-candidates:end -->"
TOP = 10


def section(store: Store, run_id: str) -> str:
    flagged = [json.loads(r) for r in store.query(
        "SELECT record FROM candidates WHERE run_id = ? ORDER BY score DESC, candidate_key", [run_id])["record"]]
    below = store.query("SELECT count(*) AS n FROM candidates_below_minimum WHERE run_id = ?", [run_id])["n"][0]
    single = sum(r["count"] <= 1 for r in flagged)
    held = recorded_reasons(run_info(store, run_id)["manifest"])
    lines = [
        START, "", "### 3.1 Top candidates of the default run (written by `scripts/top_candidates.py`)", "",
        f"Run `{run_id}`: {len(flagged)} flagged candidates, {int(below)} below minimum evidence (not flagged). "
        f"{single} flagged candidates have at most one document in the topic itself; their support comes "
        "from the related topics the region is specialised in.", "",
        "| # | region | topic | kind | score | specialisation | RCA raw / shrunk / 5 % bound | density "
        "| documents in topic | support documents / organisations | related strengths (strongest first) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(flagged[:TOP], start=1):
        name = r.get("region_name") or ""
        where = f"{r['region']} ({name})" if name and name != r["region"] else r["region"]
        lines.append(f"| {i} | {where} | {r['topic_label']} | {r['kind']} | "
                     f"{r['score']:.3f} | {r['specialisation']:.2f} | {r['rca']:.2f} / {r['rca_shrunk']:.2f} / "
                     f"{r['rca_lower']:.2f} | {r['density']:.2f} | {r['count']} | {r['support_documents']} / "
                     f"{r['support_organisations']} | {'; '.join(r['related_topic_labels'][:3]) or '–'} |")
    if held:
        lines += ["", "Emerging topics without a candidate, and why (`stages.candidates.no_candidate_topics`):", ""]
        lines += [f"- {t} ({r['label']}): {r['text']}." for t, r in sorted(held.items())]
    return "\n".join([*lines, "", END])


def main(argv: list[str]) -> None:
    with Store(argv[0], read_only=True) as store:
        run_id = resolve_run(store, argv[1] if len(argv) > 1 else None)
        write_section(section(store, run_id), START, END, doc=DOC)


if __name__ == "__main__":
    main(sys.argv[1:])
