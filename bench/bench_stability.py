"""Stability of a refresh: how many earlier documents keep their lineage topic, and how much of the
candidate set survives, when a few or 5 % new documents arrive (issue 11, item 1).

Usage: ``.venv/bin/python bench/bench_stability.py [--config configs/default.yaml] [--share 0.05] [--few 3]
[--work DIR] [--embeddings-from STORE] [--print]``. Holds out documents of the config's sources
deterministically (the first by sha256 of their doc ids), writes filtered copies of the source files
(whole records dropped, every other line copied byte for byte) into a temporary folder, runs every
stage but the export once on the data minus the held-out documents, then copies that store (its
embedding cache included) and refreshes each copy with (i) the ``--few`` first held-out documents and
(ii) all of them, once with the default policy (``topics.refit: auto``) and once forced to refit
(``topics.refit=always``). Writes its section of docs/BENCHMARKS.md between the bench_stability
markers (``--print``: only prints it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.docsection import write_section  # noqa: E402
from bench.holdout import held_out, without  # noqa: E402
from s3text import steps  # noqa: E402
from s3text.config import PipelineConfig, load_config  # noqa: E402
from s3text.embed import Embedder  # noqa: E402
from s3text.lineage import OUTLIER  # noqa: E402
from s3text.refit import assign_nearest  # noqa: E402
from s3text.runinfo import git_sha, new_run_id, package_versions, utc_now  # noqa: E402
from s3text.store import Store  # noqa: E402

START, END = "<!-- bench_stability:start -->", "<!-- bench_stability:end -->"
# Every stage of the refresh flow but the export, in the flow's order (pipeline/flows.py).
STAGES = (steps.ingest, steps.regions, steps.organisations, steps.normalise, steps.embed, steps.topics,
          steps.emergence, steps.capacity, steps.candidates, steps.stability)
THRESHOLDS = (0.45, 0.5, 0.55, 0.6, 0.65)  # topics.assign_min_similarity values compared on the first fit
TARGETS = {"few": (0.99, 0.9), "share": (0.95, 0.8)}  # issue 11: kept share, candidate Jaccard


def run(cfg: PipelineConfig) -> dict[str, Any]:
    """One run of every stage but the export, recorded in ``runs`` as the flow records it."""
    run_id = new_run_id(cfg.config_hash())
    with Store(cfg.store) as store:
        store.start_run(run_id, cfg.config_hash(), utc_now())
    began = time.perf_counter()
    summary = {stage.__name__: stage(cfg, run_id) for stage in STAGES}
    with Store(cfg.store) as store:
        store.finish_run(run_id, "completed", utc_now(), {"run_id": run_id, "status": "completed", "stages": summary})
    summary["seconds"] = round(time.perf_counter() - began, 1)
    return summary


def threshold_agreement(cfg: PipelineConfig, thresholds: tuple[float, ...]) -> list[dict[str, float]]:
    """Assign the last fit's own documents back to its centroids (the refresh rule, s3text.refit) at each
    threshold: the share agreeing with the fit's label, of members given their own topic, of outliers."""
    with Store(cfg.store, read_only=True) as store:
        run_id = store.latest_run()
        fitted = store.query("SELECT content_hash, topic_id FROM doc_topics WHERE run_id = ? ORDER BY doc_id", [run_id])
        ref = store.query("SELECT topic_id, vector FROM topic_reference WHERE run_id = ?", [run_id])
        vectors = store.get_embeddings(Embedder.from_config(cfg.embed).model_id, fitted["content_hash"].tolist())
    centroids = pd.DataFrame(np.stack(ref["vector"].to_numpy()), index=pd.Index(ref["topic_id"].astype(int)))
    truth = fitted["topic_id"].to_numpy(dtype=int)
    members = truth != OUTLIER
    rows = []
    for threshold in thresholds:
        got, _ = assign_nearest(vectors, centroids, threshold)
        rows.append({"threshold": threshold, "agreement": round(float(np.mean(got == truth)), 3),
                     "members_in_own_topic": round(float(np.mean(got[members] == truth[members])), 3),
                     "outlier_share": round(float(np.mean(got == OUTLIER)), 3)})
    return rows


def _shown(path: Path | None) -> str | None:
    """A path as the section shows it: relative to the repository where it lies inside it."""
    if path is None:
        return None
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def at(cfg: PipelineConfig, folder: Path, *overrides: str) -> PipelineConfig:
    topics = cfg.topics.model_copy(update=dict(o.split("=", 1) for o in overrides))
    return cfg.model_copy(update={"store": folder / "s3text.duckdb", "out_dir": folder / "out", "topics": topics})


def measure(config: Path, share: float, few: int, work: Path, embeddings_from: Path | None) -> dict[str, Any]:
    cfg = load_config(config).resolve_paths(ROOT)
    held, total = held_out(cfg, share=share)
    base_cfg = at(without(cfg, held, work / "data-base"), work / "base")
    if embeddings_from is not None:  # vectors keyed by model and content hash: the same as computing them
        with Store(base_cfg.store) as store:
            store.import_embeddings(embeddings_from)
    first = run(base_cfg)
    agreement = threshold_agreement(base_cfg, THRESHOLDS)
    results: dict[str, Any] = {"embeddings_from": _shown(embeddings_from), "documents_read": total,
                               "held_out": len(held), "few": few,
                               "first": {"documents_modelled": first["topics"]["documents_modelled"],
                                         "topics": first["topics"]["topics"],
                                         "candidates": first["stability"]["candidates"],
                                         "seconds": first["seconds"]},
                               "agreement": agreement, "assign_min_similarity": cfg.topics.assign_min_similarity,
                               "fit_outlier_share": first["topics"]["outlier_share"], "scenarios": []}
    variants = {"few": without(cfg, held[few:], work / "data-few"), "share": cfg}
    for name, data_cfg in variants.items():
        for policy in ("auto", "always"):
            folder = work / f"{name}-{policy}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(base_cfg.store, folder / "s3text.duckdb")
            out = run(at(data_cfg, folder, f"refit={policy}"))
            results["scenarios"].append({
                "scenario": name, "policy": policy, "documents_new": out["ingest"]["documents_new"],
                "modelled_new": out["topics"]["documents_modelled"] - first["topics"]["documents_modelled"],
                "mode": out["topics"]["mode"],
                "reasons": out["topics"]["reasons"], "drift": out["topics"]["drift"],
                "topics": out["topics"]["topics"], "stability": out["stability"], "seconds": out["seconds"]})
    return results


def section(results: dict[str, Any], config: Path, share: float, few: int) -> str:
    v = package_versions()
    seeded = f" --embeddings-from {results['embeddings_from']}" if results.get("embeddings_from") else ""
    seeded_note = (" The first run's embedding cache was seeded from that store (vectors keyed by model and content "
                   "hash: the ones the run would compute)." if seeded else "")
    rows = []
    for s in results["scenarios"]:
        st = s["stability"]
        target_kept, target_jac = TARGETS[s["scenario"]]
        met = (st["kept_share"] is not None and st["kept_share"] >= target_kept
               and st["candidate_jaccard"] is not None and st["candidate_jaccard"] >= target_jac)
        added = f"{few} held out" if s["scenario"] == "few" else f"{share:.0%} held out"
        drift = s["drift"] or {}
        rows.append(
            f"| {added} | {s['policy']} | {s['documents_new']} (modelled: net {s['modelled_new']:+d}) | {s['mode']} | "
            f"{st['kept_documents']} / {st['earlier_documents']} = {st['kept_share']} | "
            f"{st['shared_candidates']} of {st['previous_candidates']} → {st['candidates']}: "
            f"{st['candidate_jaccard']} | "
            f"{s['topics']} | {drift.get('new_share', '–')} / {drift.get('new_outlier_share', '–')} / "
            f"{drift.get('min_centroid_similarity', '–')} | ≥ {target_kept:.0%}, ≥ {target_jac} | "
            f"{'yes' if met else 'no'} |")
    reasons = [f"- {s['scenario']} / {s['policy']}: {'; '.join(s['reasons']) or 'no refit trigger'}"
               for s in results["scenarios"]]
    first = results["first"]
    return "\n".join([
        START,
        "## Stability of a refresh (`bench/bench_stability.py`)",
        "",
        f"Command: `.venv/bin/python bench/bench_stability.py --config {config.relative_to(ROOT)} --share {share} "
        f"--few {few}{seeded}` (`make bench`).{seeded_note} "
        f"Data: the config's sources ({results['documents_read']} documents read); "
        f"{results['held_out']} documents of its CORDIS and PatentsView CSV files held out by sha256 of the doc id "
        "(filtered copies of the files in a temporary folder; data/ untouched). "
        f"First run on the rest: {first['documents_modelled']} "
        f"documents modelled, {first['topics']} topics, {first['candidates']} candidates ({first['seconds']} s). "
        "Each refresh starts from a copy of that store (embeddings cached), adds the held-out documents and runs "
        "every stage but the export; `auto` is the default policy (assign to the reference fit unless a "
        "trigger fires), `always` forces a refit whose lineage is matched as before (`match_lineage`).",
        "",
        "New documents: ingested by the refresh (modelled: the net change in modelled documents; a returning "
        "document can make an earlier one an exact duplicate). Kept: earlier documents (modelled in the first "
        "run) whose topic has the same lineage id after the refresh (outlier → outlier counts as kept). "
        "Jaccard: of the candidate key sets. Drift: share of documents new since the fit / outlier share among "
        "them / smallest centroid cosine to the fit (assigning runs only).",
        "",
        "| added | policy | new documents | mode | kept | candidates: shared of before → after: Jaccard | topics | "
        "drift | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Refit decisions:",
        *reasons,
        "",
        f"Assignment threshold (`topics.assign_min_similarity`, {results['assign_min_similarity']} in the config): "
        f"the first fit's own documents ({first['documents_modelled']}, {results['fit_outlier_share']:.0%} HDBSCAN "
        "outliers) assigned back to its centroids by the refresh rule; agreement with the fit's label (topic or "
        "outlier), share of members given their own topic, share of outliers.",
        "",
        "| threshold | agreement | members in own topic | outlier share |",
        "|---|---|---|---|",
        *[f"| {a['threshold']} | {a['agreement']} | {a['members_in_own_topic']} | {a['outlier_share']} |"
          for a in results["agreement"]],
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {v['python']}; bertopic {v['bertopic']}, "
        f"umap-learn {v['umap-learn']}, hdbscan {v['hdbscan']}, sentence-transformers {v['sentence-transformers']}, "
        f"torch {v['torch']}, numpy {v['numpy']}; commit {(git_sha(ROOT) or 'unknown')[:12]}.",
        END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "default.yaml")
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--few", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="keep the stores here (default: a temporary folder)")
    parser.add_argument("--print", action="store_true", help="only print the section")
    parser.add_argument("--embeddings-from", type=Path, default=None,
                        help="a store whose cached embeddings seed the first run's (e.g. out/s3text.duckdb)")
    args = parser.parse_args()
    config = args.config.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-stability-") as tmp:
        work = args.work or Path(tmp)
        results = measure(config, args.share, args.few, work, args.embeddings_from)
    (work if args.work else Path(tempfile.gettempdir())).joinpath("bench_stability.json").write_text(
        json.dumps(results, indent=2, default=str))
    text = section(results, config, args.share, args.few)
    print(text)
    if not args.print:
        write_section(text, START, END)


if __name__ == "__main__":
    main()
