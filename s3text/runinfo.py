"""What a run records about itself, so its results can be reproduced and compared."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

PACKAGES = (
    "s3text", "sentence-transformers", "torch", "bertopic", "umap-learn", "hdbscan", "scikit-learn",
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
