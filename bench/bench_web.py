"""Latency of the review queue and the JSON API with 10,000 candidates in the store, on loopback.

Usage: ``make bench`` (or ``.venv/bin/python bench/bench_web.py [--store out/s3text.duckdb]``) after
``make run``. The store is copied; the latest run's real candidate records are cloned under new
keys up to 10,000 (with 1,000 decisions), then a uvicorn server on 127.0.0.1 is loaded by an
asyncio httpx client (8 connections, a fixed number of requests per endpoint). The section between
the bench_web markers of docs/BENCHMARKS.md is rewritten.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import pandas as pd  # noqa: E402
import uvicorn  # noqa: E402

from bench.docsection import write_section  # noqa: E402
from s3text.config import load_config  # noqa: E402
from s3text.records import stable_id  # noqa: E402
from s3text.review import decide  # noqa: E402
from s3text.store import Store  # noqa: E402
from s3text.web import WebConfig, create_app  # noqa: E402

N_CANDIDATES, N_DECISIONS, REQUESTS, CONCURRENCY = 10_000, 1_000, 400, 8
START, END = "<!-- bench_web:start -->", "<!-- bench_web:end -->"


def scale_store(path: Path) -> tuple[str, list[str], list[str]]:
    with Store(path) as store:
        run = store.latest_run()
        assert run, "no completed run: make run first"
        rows = store.query("SELECT record FROM candidates WHERE run_id = ?", [run])
        records = [json.loads(r) for r in rows["record"]]
        clones = []
        for i in range(N_CANDIDATES):
            rec = dict(records[i % len(records)])
            rec["candidate_key"] = stable_id("bench", str(i))
            rec["score"] = round(rec["score"] * (1 - (i % 97) / 1000), 6)
            clones.append(rec)
        frame = pd.DataFrame({
            "candidate_key": [r["candidate_key"] for r in clones], "region": [r["region"] for r in clones],
            "topic_id": [int(r["topic_id"]) for r in clones], "kind": [r["kind"] for r in clones],
            "score": [float(r["score"]) for r in clones],
            "record": [json.dumps(r, ensure_ascii=False) for r in clones]})
        store.replace_run_table("candidates", run, frame)
        for rec in clones[:N_DECISIONS]:
            decide(store, candidate_key=rec["candidate_key"], status="accepted", reviewer="bench", record=rec)
    return run, [r["candidate_key"] for r in clones], sorted({r["region"] for r in clones})


async def load(base: str, path: str, headers: dict[str, str] | None = None) -> list[float]:
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(10):  # warm-up
            assert (await client.get(path, headers=headers)).status_code in (200, 304)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(REQUESTS):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                t = time.perf_counter()
                response = await client.get(path, headers=headers)
                times.append(time.perf_counter() - t)
                assert response.status_code in (200, 304), (path, response.status_code, response.text[:300])

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, default=ROOT / "out" / "s3text.duckdb")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="s3text-bench-web-"))
    store = work / "s3text.duckdb"
    shutil.copy(args.store, store)
    run, keys, regions = scale_store(store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cfg = load_config(ROOT / "configs/default.yaml").resolve_paths(ROOT)
    app = create_app(store, WebConfig(port=port, store_idle_seconds=1.0), cfg)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    etag = httpx.get(base + "/api/v1/candidates?limit=25&status=accepted").headers.get("etag", "")
    cases = [
        ("queue page 1 (HTML)", "/", None),
        ("queue filtered by region, sorted by score (HTML)", f"/?region={regions[0]}&sort=score", None),
        ("candidate page (HTML)", f"/candidates/{keys[0]}", None),
        ("API candidates, 25 per page", "/api/v1/candidates?limit=25&status=accepted", None),
        ("API candidates, page 20", "/api/v1/candidates?limit=25&offset=475&status=accepted", None),
        ("API candidates, If-None-Match (304)", "/api/v1/candidates?limit=25&status=accepted",
         {"If-None-Match": etag}),
    ]
    rows = []
    for name, path, headers in cases:
        began = time.perf_counter()
        times = asyncio.run(load(base, path, headers))
        wall = time.perf_counter() - began
        q = statistics.quantiles(times, n=20)
        median, p95 = 1000 * statistics.median(times), 1000 * q[18]
        rows.append(f"| {name} | {median:.1f} | {p95:.1f} | {len(times) / wall:.0f} |")
    server.should_exit = True
    with Store(store, read_only=True) as s:
        t = time.perf_counter()
        for _ in range(50):
            s.query("SELECT record FROM candidates WHERE run_id = ? ORDER BY score DESC LIMIT 25", [run])
        plain = 1000 * (time.perf_counter() - t) / 50
    shutil.rmtree(work, ignore_errors=True)
    section = "\n".join([
        START,
        "## Review server and API latency (`bench/bench_web.py`)",
        "",
        f"{N_CANDIDATES:,} candidates in the store (the latest run's real records cloned under new keys), "
        f"{N_DECISIONS:,} of them decided; uvicorn on 127.0.0.1, one process; an asyncio httpx load client "
        f"with {CONCURRENCY} connections, {REQUESTS} requests per row after 10 warm-up requests.",
        "",
        "| request | median (ms) | p95 (ms) | requests/s |",
        "| --- | ---: | ---: | ---: |",
        *rows,
        "",
        f"For scale: the plain DuckDB query for one page of candidates (`ORDER BY score DESC LIMIT 25`, no "
        f"filtering, review state or rendering) takes {plain:.1f} ms.",
        END,
    ])
    write_section(section, START, END)
    print(section)


if __name__ == "__main__":
    main()
