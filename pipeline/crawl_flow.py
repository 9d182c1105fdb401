"""The ``crawl`` flow: the website crawler (``s3text.crawl``) as one Prefect task.

The flow does not cache or persist the task's result (the store holds everything) and takes paths
and overrides, never data, like ``refresh``. Its retries are the library's resume: a crawl that
crashed or was stopped is continued by the next run, which passes ``resume=True`` by default
(an interrupted crawl is continued, else the seed list starts a new one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE

from s3text.config import load_config
from s3text.crawl import crawl as run_crawl

ROOT = Path(__file__).resolve().parent.parent


@task(name="crawl-sites", cache_policy=NONE)
def crawl_sites(config_path: str, overrides: list[str], seeds: str | None, resume: bool) -> dict[str, Any]:
    path = Path(config_path)
    cfg = load_config(path if path.is_absolute() else ROOT / path, overrides).resolve_paths(ROOT)
    settings = cfg.crawl
    seed_file = (Path(seeds) if Path(seeds).is_absolute() else ROOT / seeds) if seeds else settings.seeds
    report = run_crawl(cfg.store, settings, seeds=seed_file, resume=resume)
    return report.to_dict()


@flow(name="crawl", log_prints=True)
def crawl(config_path: str = "configs/default.yaml", overrides: list[str] | None = None, seeds: str | None = None,
          resume: bool = True) -> dict[str, Any]:
    """Crawl the company websites of the seed list (``seeds``, else ``crawl.seeds`` of the config)."""
    report = crawl_sites(config_path, list(overrides or []), seeds, resume)
    if report["status"] == "nothing_to_resume":
        print("No interrupted crawl and no seed list: nothing to do.")
        return report
    totals = report["totals"]
    print(f"crawl {report['crawl_id']}: {totals['fetched']} pages fetched, {totals['new_versions']} new versions, "
          f"{totals['unchanged']} unchanged, skipped {totals['skipped']}, failed {totals['failed']}; "
          f"{report['documents_new']} new documents in {report['seconds']} s")
    return report
