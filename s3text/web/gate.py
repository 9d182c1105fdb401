"""Store access for the server: one shared read-only connection, short write connections.

DuckDB lets one process write a file or any number of processes read it, never both; within one
process a read-only and a read-write connection to the same file cannot coexist either. The
refresh flow holds ``<store>.lock`` for its whole run and opens the store once per stage. So the
gate:

- takes that same lock before it opens the store and holds it only while requests arrive: after
  ``idle_seconds`` without a request, or after ``lease_seconds`` of continuous use (then pausing
  briefly), it closes the connection and releases the lock, so a refresh waiting for the lock
  gets it and is never broken by a reader;
- raises :class:`StoreBusy` (HTTP 503) when a refresh holds the lock longer than ``wait_seconds``;
- runs each request on its own cursor of the shared connection (opening DuckDB costs ~30 ms);
- lets a decision write wait for the readers, close the shared connection and open a read-write
  one for the length of one transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from s3text.errors import StoreError
from s3text.store import SCHEMA_VERSION, Store

logger = logging.getLogger(__name__)

WAIT_SECONDS = 2.0
LEASE_SECONDS = 5.0
PAUSE_SECONDS = 0.2  # > 2 polls of a FileLock waiting in the refresh flow


class StoreBusy(StoreError):
    """The store is being refreshed (or written by another process); try again shortly."""

    retry_later = True  # the CLI maps it to exit 75 (EX_TEMPFAIL)


class _Cursor(Store):
    """A :class:`Store` over one cursor of the shared connection (no schema work, no migration)."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection) -> None:
        self.path = path
        self.con = con


class StoreGate:
    def __init__(self, path: Path | str, *, idle_seconds: float = 1.0, wait_seconds: float = WAIT_SECONDS,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        self.path = Path(path)
        self.idle_seconds, self.wait_seconds, self.lease_seconds = idle_seconds, wait_seconds, lease_seconds
        self._file_lock = FileLock(str(self.path) + ".lock", thread_local=False)
        self._lock_usable = True
        self._cond = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._readers = 0
        self._writing = False
        self._draining = False
        self._opened_at = self._last_used = 0.0

    # -- start-up -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Fail early on a missing or newer store; bring an older one to this schema (additive)."""
        if not self.path.is_file():
            raise StoreError(f"{self.path}: no store here; run `s3text run` first")
        with self._cond:
            self._acquire_file_lock()
            try:
                con = duckdb.connect(str(self.path), read_only=True)
                try:
                    version = _Cursor(self.path, con).schema_version()
                finally:
                    con.close()
            except duckdb.Error as exc:
                self._release_file_lock()
                kind = StoreBusy if "lock" in str(exc).lower() else StoreError
                raise kind(f"{self.path}: cannot open store: {exc}") from exc
            try:
                if version < SCHEMA_VERSION:
                    try:
                        Store(self.path).close()  # migrates; the review tables are new and empty
                    except StoreError as exc:
                        kind = StoreBusy if "lock" in str(exc).lower() else StoreError
                        raise kind(str(exc).split("] ", 1)[-1]) from exc
                    logger.info("store %s brought to schema %d for the review server", self.path, SCHEMA_VERSION)
                elif version > SCHEMA_VERSION:
                    raise StoreError(f"{self.path}: schema version {version} is newer than this s3text")
            finally:
                self._release_file_lock()

    # -- reads --------------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Store]:
        with self._cond:
            self._wait_for(lambda: not self._writing and not self._draining)
            if self._con is not None and time.monotonic() - self._opened_at > self.lease_seconds:
                # Admit no new reader until the running ones finish: under steady load the reader
                # count would otherwise never reach zero and the lease could not rotate.
                self._draining = True
                try:
                    self._wait_for(lambda: self._readers == 0 and not self._writing)
                    self._close_shared()
                    time.sleep(PAUSE_SECONDS)  # a refresh waiting for the lock takes it now
                finally:
                    self._draining = False
                    self._cond.notify_all()
            if self._con is None:
                self._open_shared()
            assert self._con is not None
            cursor = self._con.cursor()
            self._readers += 1
        try:
            yield _Cursor(self.path, cursor)
        finally:
            cursor.close()
            with self._cond:
                self._readers -= 1
                self._last_used = time.monotonic()
                if self._readers == 0 and self.idle_seconds == 0:
                    self._close_shared()
                self._cond.notify_all()

    def _open_shared(self) -> None:
        self._acquire_file_lock()
        try:
            store = Store(self.path, read_only=True)
        except StoreError as exc:
            self._release_file_lock()
            if "lock" in str(exc).lower():
                raise StoreBusy(f"{self.path}: the store is open for writing elsewhere") from exc
            raise
        self._con = store.con
        self._opened_at = self._last_used = time.monotonic()
        if self.idle_seconds > 0:
            threading.Thread(target=self._reaper, name="s3text-store-reaper", daemon=True).start()

    def _reaper(self) -> None:
        with self._cond:
            while self._con is not None:
                idle = time.monotonic() - self._last_used
                if self._readers == 0 and not self._writing and idle >= self.idle_seconds:
                    self._close_shared()
                    return
                self._cond.wait(timeout=max(self.idle_seconds - idle, 0.05))

    def _close_shared(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._release_file_lock()
            self._cond.notify_all()

    def close(self) -> None:
        """Close the shared connection (server shutdown; tests before they write the store)."""
        with self._cond:
            self._wait_for(lambda: self._readers == 0 and not self._writing)
            self._close_shared()

    # -- writes -------------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Store]:
        with self._cond:
            self._wait_for(lambda: not self._writing)
            self._writing = True
            try:
                self._wait_for(lambda: self._readers == 0)
                if self._con is not None:
                    self._con.close()  # keep the file lock: the write follows at once
                    self._con = None
                else:
                    self._acquire_file_lock()
            except BaseException:
                self._writing = False
                self._cond.notify_all()
                raise
        try:
            try:
                store = Store(self.path)
            except StoreError as exc:
                raise StoreBusy(f"{self.path}: the store cannot be opened for writing now") from exc
            try:
                yield store
            finally:
                store.close()
        finally:
            with self._cond:
                self._release_file_lock()
                self._writing = False
                self._cond.notify_all()

    # -- helpers ------------------------------------------------------------------------------
    def _wait_for(self, ready: Callable[[], bool]) -> None:
        if not self._cond.wait_for(ready, timeout=self.wait_seconds):
            raise StoreBusy(f"{self.path}: the store is busy")

    def _acquire_file_lock(self) -> None:
        if not self._lock_usable:
            return
        try:
            self._file_lock.acquire(timeout=self.wait_seconds)
        except Timeout as exc:
            raise StoreBusy(f"{self.path}: a refresh is writing the store") from exc
        except OSError as exc:  # a read-only folder: no refresh can write there either
            logger.warning("cannot use %s.lock (%s); reading without it", self.path, exc)
            self._lock_usable = False

    def _release_file_lock(self) -> None:
        if self._lock_usable and self._file_lock.is_locked:
            self._file_lock.release()
