"""``s3text serve`` and the app on a store without any run yet (no store build needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pipeline.cli import app as cli
from s3text.store import Store
from s3text.web import create_app
from tests.web.conftest import BASE, web_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def empty_store(tmp_path: Path) -> Path:
    path = tmp_path / "empty.duckdb"
    Store(path).close()
    return path


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(app=app, **kwargs))
    return seen


def test_serve_defaults_to_loopback(empty_store: Path, served: dict[str, Any]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--config", str(ROOT / "configs/default.yaml"),
                                      "--store", str(empty_store)])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8484)
    assert "No reviewers configured" in result.output


def test_serve_options_and_web_config(empty_store: Path, served: dict[str, Any], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3TEXT_TOKEN_ANA", "a-secret-token-value")
    web = tmp_path / "web.yaml"
    web.write_text("web:\n  port: 9100\n  reviewers:\n    ana: env:S3TEXT_TOKEN_ANA\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["serve", "--store", str(empty_store), "--web-config", str(web),
                                      "--host", "0.0.0.0", "--port", "9200"])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("0.0.0.0", 9200)
    assert "open to anyone" in result.output and "a-secret-token-value" not in result.output


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--web-config", "{bad}"], 78, "web.prot"),
    (["--port", "70000"], 78, "port"),
    (["--store", "{missing}"], 1, "no store here"),
])
def test_serve_errors_exit_with_codes(empty_store: Path, served: dict[str, Any], tmp_path: Path, args: list[str],
                                      code: int, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("web:\n  prot: 1\n", encoding="utf-8")
    args = [a.format(bad=bad, missing=tmp_path / "none.duckdb") for a in args]
    if "--store" not in args:
        args += ["--store", str(empty_store)]
    result = CliRunner().invoke(cli, ["serve", *args])
    assert result.exit_code == code and message in " ".join(result.output.split())
    assert "app" not in served


def test_a_store_without_runs(empty_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3TEXT_TEST_TOKEN_BEN", "token-ben-9876543210")
    client = TestClient(create_app(empty_store, web_config()), base_url=BASE)
    assert "No completed run in the store yet" in client.get("/").text
    for path in ("/topics", "/regions"):
        assert client.get(path).status_code == 200
    body = client.get("/api/v1/candidates").json()
    assert (body["run_id"], body["total"], body["items"]) == (None, 0, [])
    assert client.get("/api/v1/topics").json()["items"] == []
    assert client.get("/api/v1/runs/latest").status_code == 404
    assert client.get("/candidates/0123456789abcdef").status_code == 404
    assert client.get("/login").status_code == 200
