"""A crawl killed with SIGKILL in mid-crawl, then ``s3text crawl --resume``: nothing fetched twice, no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from s3text.store import Store
from tests.crawl.conftest import CONTACT, write_seeds
from tests.crawl.webserver import Site, html, words

ROOT = Path(__file__).resolve().parent.parent.parent
PAGES = [f"/page{i}" for i in range(12)]


@pytest.mark.slow
def test_resume_after_kill_fetches_nothing_twice(make_site: Callable[..., Site], tmp_path: Path) -> None:
    site = make_site()
    hanging, release = threading.Event(), threading.Event()
    served: list[str] = []  # pages whose response was completely written before the kill
    state = {"hang_after": 5}

    def page(path: str) -> Callable[..., None]:
        def handle(h: object) -> None:
            from tests.crawl.webserver import _Handler

            assert isinstance(h, _Handler)
            if len(served) >= state["hang_after"]:  # the hook: from here on the server never answers
                hanging.set()
                release.wait(30)
                return
            links = PAGES if path == "/" else []
            h.send(200, html(path, words(20, path.strip("/") or "home"), links).encode())
            served.append(path)

        return handle

    for path in ["/", *PAGES]:
        site.handler(path, page(path))
    seeds = write_seeds(tmp_path, ("Kill Test AG", site.url + "/", "AT", "AT33", "Innsbruck", "machinery"))
    store = tmp_path / "store.duckdb"
    args = [sys.executable, "-m", "pipeline.cli", "crawl", "--config", "tests/e2e/config_small.yaml",
            "--set", f"store={store}", "--set", f"crawl.contact_url={CONTACT}",
            "--set", "crawl.allow_private_addresses=true", "--set", "crawl.request_delay=0.05",
            "--set", "crawl.use_sitemaps=false", "--set", "crawl.flush_every=2", "--set", "crawl.retries=0"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (tmp_path / "first.log").open("wb") as log:
        first = subprocess.Popen([*args, "--seeds", str(seeds)], cwd=ROOT, env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
    try:
        assert hanging.wait(90), "the crawl never reached the hook"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    before_kill = list(served)
    state["hang_after"] = 10**6
    release.set()
    requested_before = [h.path for h in site.hits()]

    second = subprocess.run([*args, "--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "(resumed)" in second.stdout
    after = [h.path for h in site.hits()][len(requested_before):]
    pages = ["/", *PAGES]
    assert len(before_kill) == 5
    assert not set(before_kill) & set(after), (before_kill, after)  # stored pages are not fetched again
    assert sorted(set(before_kill) | set(after)) == sorted(pages)  # and every page was fetched
    assert all(after.count(p) == 1 for p in pages if p in after)
    with Store(store) as db:
        n_docs = db.count("documents")
        distinct = db.con.execute("SELECT count(DISTINCT url) FROM documents").fetchall()[0][0]
        left = db.con.execute("SELECT count(*) FROM crawl_frontier WHERE status = 'queued'").fetchall()[0][0]
        pending = db.count("crawl_pending_documents")
        status = db.con.execute("SELECT status FROM crawls").fetchall()
    assert n_docs == distinct == len(pages)
    assert (left, pending, status) == (0, 0, [("completed",)])

    third = subprocess.run([*args, "--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and "No interrupted crawl to resume" in third.stdout
