"""The ``refresh`` flow: one Prefect task per stage, each a call into :mod:`s3text.steps`.

Tasks pass the run id and the validated config, never data: each step reads and writes the
store itself, so a task runner (Dask, Ray) may run steps elsewhere without shipping frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from prefect import flow, task
from prefect.cache_policies import NONE

from s3text import steps
from s3text.config import PipelineConfig, load_config
from s3text.errors import StoreError
from s3text.outputs import export
from s3text.runinfo import git_sha, new_run_id, numeric_settings, package_versions, utc_now
from s3text.store import Store
from s3text.writers import write_json

ROOT = Path(__file__).resolve().parent.parent


def _embed_with_progress(cfg: PipelineConfig, run_id: str) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        job = bar.add_task("embedding new texts", total=None)
        return steps.embed(cfg, run_id, progress=lambda done, total: bar.update(job, completed=done, total=total))


StageFn = Callable[[PipelineConfig, str], dict[str, Any]]
STAGE_FUNCTIONS: dict[str, StageFn] = {
    "ingest": steps.ingest, "regions": steps.regions, "organisations": steps.organisations,
    "normalise": steps.normalise, "embed": _embed_with_progress,
    "topics": steps.topics, "emergence": steps.emergence, "capacity": steps.capacity,
    "candidates": steps.candidates, "stability": steps.stability, "export": export,
}
# The store holds the results: Prefect must not cache or persist task outputs across runs.
STAGE_TASKS = {name: task(name=name, cache_policy=NONE)(fn) for name, fn in STAGE_FUNCTIONS.items()}


@flow(name="refresh", log_prints=True)
def refresh(config_path: str = "configs/default.yaml", overrides: list[str] | None = None,
            lock_timeout: float = 10.0) -> dict[str, Any]:
    """Ingest, normalise, embed, model topics, score and flag candidates; write the exports."""
    path = Path(config_path)
    as_written = load_config(path if path.is_absolute() else ROOT / path, overrides or [])
    # Hash the config as written: resolved absolute paths would differ between checkouts.
    config_hash = as_written.config_hash()
    cfg = as_written.resolve_paths(ROOT)
    run_id = new_run_id(config_hash)
    cfg.store.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(cfg.store) + ".lock")
    try:
        lock.acquire(timeout=lock_timeout)
    except Timeout as exc:
        raise StoreError(f"{cfg.store} is locked by another run; retry later") from exc
    started = utc_now()
    summary: dict[str, Any] = {}
    try:
        with Store(cfg.store) as store:
            store.start_run(run_id, config_hash, started)
        for name, stage in STAGE_TASKS.items():
            began = time.perf_counter()
            summary[name] = stage(cfg, run_id)
            summary[name]["seconds"] = round(time.perf_counter() - began, 2)
        status = "completed"
    except BaseException:
        status = "failed"
        raise
    finally:
        manifest = _manifest(cfg, run_id, config_hash, started, status, summary)
        with Store(cfg.store) as store:
            store.finish_run(run_id, status, manifest["finished"], manifest)
        write_json(manifest, cfg.out_dir / "run.json")
        lock.release()
    return manifest


def _manifest(cfg: PipelineConfig, run_id: str, config_hash: str, started: Any, status: str,
              summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run_id, "status": status, "started": started.isoformat(), "finished": utc_now().isoformat(),
        "config_hash": config_hash, "git_sha": git_sha(ROOT), "versions": package_versions(),
        "embedding_model": summary.get("embed", {}).get("model"),
        "seeds": {"topics": cfg.topics.seed}, "reproducibility": numeric_settings(),
        "config": cfg.model_dump(mode="json"), "stages": summary,
    }
