"""What a run records about itself, so its results can be reproduced and compared."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from s3text.kernels import cpu_field, kernel_mode

PACKAGES = (
    "s3text", "sentence-transformers", "torch", "bertopic", "umap-learn", "hdbscan", "numba", "scikit-learn", "scipy",
    "spacy", "spacy-lookups-data", "simplemma", "lingua-language-detector", "duckdb", "pandas", "numpy",
    "prefect",
)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# The settings under which the same inputs give bitwise the same vectors and topics: the CPU
# kernels and thread counts of torch (with MKL), numba (UMAP, pynndescent) and numpy's BLAS.
# docs/BENCHMARKS.md ("What varies between machines") shows which of them change results.
NUMERIC_ENV = ("S3TEXT_KERNELS", "ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_NUM_THREADS", "OMP_NUM_THREADS",
               "NUMBA_CPU_NAME", "NUMBA_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS")


def numeric_settings() -> dict[str, object]:
    """What the numbers of this process depend on beyond data, config and versions: the CPU, the
    kernels torch chose, thread counts and the BLAS libraries in use. Nothing is imported that the
    run did not load itself (a run that embeds nothing never loads torch)."""
    out: dict[str, object] = {
        "machine": platform.machine(), "processor": cpu_field("model name") or platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "kernels": kernel_mode(), "env": {name: os.environ[name] for name in NUMERIC_ENV if name in os.environ},
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads()}
    try:
        from threadpoolctl import threadpool_info

        out["blas"] = [{k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                       for pool in threadpool_info()]
    except ImportError:  # threadpoolctl comes with scikit-learn; a trimmed install still records the rest
        out["blas"] = None
    return out


def git_sha(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def new_run_id(config_hash: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S%f}-{config_hash[:8]}"


def utc_now() -> datetime:
    return datetime.now(UTC)
