"""The store gate: reads share one connection, writes exclude them, a refresh's lock is respected."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from s3text.errors import StoreError
from s3text.store import Store
from s3text.web.gate import StoreBusy, StoreGate


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    return path


def test_reads_share_a_connection_and_release_the_lock_when_idle(store_path: Path) -> None:
    gate = StoreGate(store_path, idle_seconds=0.2)
    with gate.read() as a, gate.read() as b:
        assert a.con is not b.con and a.schema_version() == b.schema_version()
    with pytest.raises(Timeout):  # a refresh would wait while requests keep coming
        FileLock(str(store_path) + ".lock").acquire(timeout=0.05)
    deadline = time.monotonic() + 3
    while gate._con is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gate._con is None, "closed after idle_seconds"
    refresh = FileLock(str(store_path) + ".lock")
    refresh.acquire(timeout=1)
    refresh.release()
    with Store(store_path) as writer:  # the file is free for a writer
        assert writer.count("decisions") == 0


def test_a_running_refresh_makes_reads_busy(store_path: Path) -> None:
    refresh = FileLock(str(store_path) + ".lock")
    refresh.acquire(timeout=1)
    try:
        gate = StoreGate(store_path, idle_seconds=0, wait_seconds=0.2)
        with pytest.raises(StoreBusy), gate.read():
            pass
        with pytest.raises(StoreBusy), gate.write():
            pass
    finally:
        refresh.release()
    with gate.read() as store:
        assert store.count("decisions") == 0


def test_a_write_waits_for_readers_and_blocks_new_ones(store_path: Path) -> None:
    gate = StoreGate(store_path, idle_seconds=5)
    order: list[str] = []
    started = threading.Event()

    def reader() -> None:
        with gate.read():
            started.set()
            time.sleep(0.3)
            order.append("read done")

    thread = threading.Thread(target=reader)
    thread.start()
    started.wait(2)
    with gate.write() as store:
        order.append("write")
        store.con.execute("INSERT INTO decisions VALUES ('k', 'accepted', '', 'ana', now(), NULL, NULL)")
    thread.join()
    assert order == ["read done", "write"]
    with gate.read() as store:
        assert store.count("decisions") == 1
    gate.close()
    assert gate._con is None


def test_prepare_refuses_a_missing_store_and_migrates_an_old_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store here"):
        StoreGate(tmp_path / "missing.duckdb").prepare()
    import duckdb

    from s3text.store import MIGRATIONS

    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version in (1, 2):
        con.execute(MIGRATIONS[version])
        con.execute("INSERT INTO schema_version VALUES (?)", [version])
    con.close()
    StoreGate(old).prepare()
    with Store(old, read_only=True) as store:
        assert store.count("decision_log") == 0


def test_the_lease_rotates_under_steady_load_without_refusing_readers(store_path: Path) -> None:
    # Regression: with readers always in flight the count never reached zero, so a reader that
    # found the lease expired waited out wait_seconds and got a 503 (found by bench/bench_web.py).
    gate = StoreGate(store_path, idle_seconds=5, wait_seconds=0.5, lease_seconds=0.05)
    errors: list[BaseException] = []
    opened: set[float] = set()

    def reader() -> None:
        try:
            for _ in range(40):
                with gate.read() as store:
                    opened.add(gate._opened_at)
                    store.count("decisions")
                    time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:1]
    assert len(opened) > 1, "the shared connection was reopened at least once (the lease rotated)"
