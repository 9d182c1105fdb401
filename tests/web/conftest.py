"""A small real store for the web tests: the library steps (no Prefect) on the bundled documents.

The store is built once per session (embedding and topic modelling take most of the time) and
every test module works on its own copy, so decisions and edits never leak between modules.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from s3text import steps
from s3text.config import PipelineConfig, load_config
from s3text.runinfo import new_run_id, utc_now
from s3text.store import Store
from s3text.web import WebConfig, create_app

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "e2e" / "config_small.yaml"
ANA, BEN = "token-ana-0123456789", "token-ben-9876543210"
BASE = "http://127.0.0.1:8484"  # the loopback server refuses other Host headers
PREPARE = (steps.ingest, steps.regions, steps.normalise, steps.embed)
ANALYSE = (steps.topics, steps.emergence, steps.capacity, steps.candidates)


def small_config(folder: Path, *overrides: str) -> PipelineConfig:
    sets = [f"store={folder / 's3text.duckdb'}", f"out_dir={folder / 'out'}", *overrides]
    return load_config(CONFIG, sets).resolve_paths(ROOT)


def record_run(cfg: PipelineConfig, stages: tuple[Callable[[PipelineConfig, str], dict[str, Any]], ...]) -> str:
    """One run of ``stages`` recorded in ``runs`` the way the flow records it."""
    run_id = new_run_id(cfg.config_hash())
    with Store(cfg.store) as store:
        store.start_run(run_id, cfg.config_hash(), utc_now())
    summary = {stage.__name__: stage(cfg, run_id) for stage in stages}
    with Store(cfg.store) as store:
        store.finish_run(run_id, "completed", utc_now(), {"run_id": run_id, "status": "completed",
                                                          "config_hash": cfg.config_hash(), "stages": summary,
                                                          "config": {"store": str(cfg.store)}})
    return run_id


@dataclass
class Built:
    path: Path
    run_id: str


@pytest.fixture(scope="session")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("web-store")
    cfg = small_config(folder)
    run_id = record_run(cfg, PREPARE + ANALYSE)
    return Built(cfg.store, run_id)


@dataclass
class Site:
    client: TestClient
    folder: Path
    store: Path
    run_id: str

    def config(self, *overrides: str) -> PipelineConfig:
        return small_config(self.folder, *overrides)


def web_config(**changes: Any) -> WebConfig:
    values: dict[str, Any] = {"reviewers": {"ana": SecretStr(ANA), "ben": SecretStr("env:S3TEXT_TEST_TOKEN_BEN")},
                              "store_idle_seconds": 0, **changes}
    return WebConfig.model_validate(values)


@pytest.fixture(scope="module")
def site(built_store: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over this module's own copy of the built store (reviewers ana and ben)."""
    folder = tmp_path_factory.mktemp("site")
    shutil.copy(built_store.path, folder / "s3text.duckdb")
    mp = pytest.MonkeyPatch()
    mp.setenv("S3TEXT_TEST_TOKEN_BEN", BEN)
    app = create_app(folder / "s3text.duckdb", web_config(), small_config(folder))
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as client:
        yield Site(client, folder, folder / "s3text.duckdb", built_store.run_id)
    mp.undo()
