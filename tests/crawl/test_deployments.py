"""The Prefect deployments: served against a real ``prefect server start`` on loopback, run once by hand.

The test starts the server itself (CI has no background services), serves ``pipeline.deployments``
in a second process, checks both deployments and their schedules exist, then triggers the weekly
crawl by hand with parameters pointing at a local site and waits for the run to complete.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from s3text.store import Store
from tests.crawl.conftest import CONTACT, write_seeds
from tests.crawl.webserver import Site, html, words

ROOT = Path(__file__).resolve().parent.parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", None)
    log = (home / "server.log").open("wb")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("prefect server did not start:\n" + (home / "server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield env
    finally:
        _stop(server)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def test_deployments_are_served_and_a_manual_run_executes(prefect_server: dict[str, str], tmp_path: Path,
                                                           make_site: Callable[..., Site]) -> None:
    env = prefect_server
    serve_log = (tmp_path / "serve.log").open("wb")
    serving = subprocess.Popen([sys.executable, "-m", "pipeline.deployments"], cwd=ROOT, env=env, stdout=serve_log,
                               stderr=subprocess.STDOUT)
    try:
        api = env["PREFECT_API_URL"]
        deadline = time.monotonic() + 90
        found: dict[str, dict[str, object]] = {}
        while len(found) < 2:
            response = httpx.post(f"{api}/deployments/filter", json={}, timeout=10)
            found = {d["name"]: d for d in response.json()}
            if serving.poll() is not None or time.monotonic() > deadline:
                pytest.fail("deployments not created:\n" + (tmp_path / "serve.log").read_text()[-3000:])
            time.sleep(0.5)
        assert set(found) == {"weekly-crawl", "monthly-refresh"}
        crons = {name: [s["schedule"]["cron"] for s in d["schedules"]] for name, d in found.items()}  # type: ignore[union-attr]
        assert crons == {"weekly-crawl": ["0 2 * * 1"], "monthly-refresh": ["0 4 1 * *"]}

        site = make_site()
        site.page("/", html("Scheduled AG", words(20, "scheduled"), ["/produkte"]))
        site.page("/produkte", html("Produkte", words(20, "produkte")))
        seeds = write_seeds(tmp_path, ("Scheduled AG", site.url + "/", "AT", "AT33", "Innsbruck", "machinery"))
        store = tmp_path / "store.duckdb"
        params = {"config_path": "tests/e2e/config_small.yaml", "seeds": str(seeds), "resume": False,
                  "overrides": [f"store={store}", f"crawl.contact_url={CONTACT}", "crawl.allow_private_addresses=true",
                                "crawl.request_delay=0.01", "crawl.use_sitemaps=false"]}
        run = subprocess.run([PREFECT, "deployment", "run", "crawl/weekly-crawl", "--params", json.dumps(params),
                              "--watch", "--watch-timeout", "120"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=180)
        assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "serve.log").read_text()[-3000:]
        assert "Completed" in run.stdout + run.stderr
        assert sorted(site.paths()) == ["/", "/produkte", "/robots.txt"]
        with Store(store) as db:
            assert db.count("documents") == 2
            assert db.con.execute("SELECT status FROM crawls").fetchall() == [("completed",)]
    finally:
        _stop(serving)
        serve_log.close()
