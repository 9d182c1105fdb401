"""A small real store for the web tests: the library steps (no Prefect) on the bundled documents.

The store is built once per session (embedding and topic modelling take most of the time) and
every test module works on its own copy, so decisions and edits never leak between modules.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from s3text.config import PipelineConfig
from s3text.web import WebConfig, create_app
from tests.support import ANALYSE, CONFIG, PREPARE, ROOT, record_run, small_config

ANA, BEN = "token-ana-0123456789", "token-ben-9876543210"
BASE = "http://127.0.0.1:8484"  # the loopback server refuses other Host headers
__all__ = ["ANALYSE", "CONFIG", "PREPARE", "ROOT", "record_run", "small_config"]


@dataclass
class Built:
    path: Path
    run_id: str


@pytest.fixture(scope="session")
def built_store(small_run_store: tuple[Path, str]) -> Built:
    return Built(*small_run_store)


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
