"""The crawl report: per host the pages fetched, new versions, unchanged, skipped and failed with reasons.

Built from the frontier (every URL of a crawl has one row with its status and reason), so a resumed
crawl reports its whole run, and stored with the crawl (``crawls.report``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from s3text.crawl import frontier
from s3text.store import Store

FETCHED_SKIPS = ("noindex", "too_little_text")  # a page came back but is not stored
COUNTS = ("fetched", "new_versions", "unchanged", "redirected", "queued")


@dataclass(slots=True)
class CrawlReport:
    """Pages fetched, stored, unchanged, skipped and failed, per host and in all."""

    crawl_id: str | None
    status: str  # completed, nothing_to_resume
    resumed: bool = False
    seconds: float = 0.0
    seeds: int = 0
    seeds_quarantined: int = 0
    documents_new: int = 0
    totals: dict[str, Any] = field(default_factory=dict)
    hosts: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _empty() -> dict[str, Any]:
    return {**dict.fromkeys(COUNTS, 0), "skipped": {}, "failed": {}}


def _count(into: dict[str, Any], status: str, reason: str, n: int) -> None:
    """Add ``n`` frontier rows of one status and reason to a host's (or the totals') counts."""
    if status in ("stored", "unchanged", "duplicate") or (status == "skipped" and reason in FETCHED_SKIPS):
        into["fetched"] += n
    if status == "stored":
        into["new_versions"] += n
    elif status in ("unchanged", "redirected", "queued"):
        into[status] += n
    elif status in ("skipped", "duplicate", "failed"):
        kind = "failed" if status == "failed" else "skipped"
        key = reason or ("unknown" if status == "failed" else status)
        into[kind][key] = into[kind].get(key, 0) + n


def build_report(store: Store, crawl_id: str, *, resumed: bool = False, seconds: float = 0.0, seeds: int = 0,
                 quarantined: int = 0) -> CrawlReport:
    hosts: dict[str, dict[str, Any]] = {}
    totals = _empty()
    for host, status, reason, n in frontier.outcome_counts(store, crawl_id).itertuples(index=False):
        for into in (hosts.setdefault(host, {"host": host, **_empty()}), totals):
            _count(into, status, reason, int(n))
    totals["pages_per_second"] = round(totals["fetched"] / seconds, 2) if seconds else None
    return CrawlReport(crawl_id, "completed", resumed, round(seconds, 2), seeds, quarantined,
                       frontier.new_documents(store, crawl_id), totals, sorted(hosts.values(), key=lambda h: h["host"]),
                       frontier.site_meta(store, crawl_id))


def stored_report(store: Store, crawl_id: str) -> dict[str, Any] | None:
    """The report a finished crawl stored, as a dict."""
    info = frontier.crawl_info(store, crawl_id)
    return json.loads(info["report"]) if info.get("report") else None
