"""Schedules of the project office: the weekly crawl and the monthly refresh, served by one process.

    prefect server start                       # the API, the scheduler and the UI (http://127.0.0.1:4200)
    PREFECT_API_URL=http://127.0.0.1:4200/api python -m pipeline.deployments
    prefect deployment run 'crawl/weekly-crawl'    # a run by hand, now

``serve`` registers both deployments with their cron schedules and runs each scheduled or manual
run in a subprocess of this process (docs/CRAWLER.md, "Schedules"). Times are in ``TIMEZONE``.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import serve
from prefect.schedules import Cron

from pipeline.crawl_flow import crawl
from pipeline.flows import refresh

TIMEZONE = os.environ.get("S3TEXT_TIMEZONE", "Europe/Vienna")
WEEKLY_CRAWL = os.environ.get("S3TEXT_CRAWL_CRON", "0 2 * * 1")  # Mondays 02:00: quiet hours for the sites
MONTHLY_REFRESH = os.environ.get("S3TEXT_REFRESH_CRON", "0 4 1 * *")  # the 1st of the month, 04:00
CONFIG = os.environ.get("S3TEXT_CONFIG", "configs/default.yaml")


def deployments(config_path: str = CONFIG, *, crawl_parameters: dict[str, Any] | None = None) -> list[Any]:
    """The two deployments (``RunnerDeployment``), not yet registered."""
    weekly = crawl.to_deployment(
        name="weekly-crawl", schedules=[Cron(WEEKLY_CRAWL, timezone=TIMEZONE)],
        parameters={"config_path": config_path, "resume": True, **(crawl_parameters or {})},
        description="Crawl the company websites of crawl.seeds; continues an interrupted crawl first.",
        tags=["s3text", "crawl"], concurrency_limit=1)
    monthly = refresh.to_deployment(
        name="monthly-refresh", schedules=[Cron(MONTHLY_REFRESH, timezone=TIMEZONE)],
        parameters={"config_path": config_path},
        description="Ingest, normalise, embed, model topics, score and flag candidates; write the exports.",
        tags=["s3text", "refresh"], concurrency_limit=1)
    return [weekly, monthly]


def main() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not os.environ.get("PREFECT_API_URL"):
        raise SystemExit("Set PREFECT_API_URL to a running `prefect server start` (e.g. http://127.0.0.1:4200/api):"
                         " a temporary server cannot schedule runs.")
    serve(*deployments())


if __name__ == "__main__":
    main()
