"""Helpers shared by test packages: the small end-to-end corpus and a store holding one real run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3text import steps
from s3text.config import PipelineConfig, load_config
from s3text.runinfo import new_run_id, utc_now
from s3text.store import Store

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "e2e" / "config_small.yaml"
PREPARE = (steps.ingest, steps.regions, steps.organisations, steps.normalise, steps.embed)
ANALYSE = (steps.topics, steps.emergence, steps.capacity, steps.candidates, steps.stability)


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
        store.finish_run(run_id, "completed", utc_now(), {
            "run_id": run_id, "status": "completed", "config_hash": cfg.config_hash(), "stages": summary,
            "config": cfg.model_dump(mode="json")})
    return run_id
