"""Scheduling a crawl: many sites at once, one request at a time per host, state in the store.

Why asyncio (not threads): a crawl is almost all waiting, on the network and on politeness delays.
One event loop holds thousands of idle connections and sleeping per-host timers at no cost, a
wall-clock deadline per request is one ``asyncio.timeout``, and cancelling is clean. The CPU work
(HTML parsing, trafilatura, language detection) and the DuckDB writes run in worker threads
(``asyncio.to_thread``) so they never stall the timers of other hosts.

Each seed is a *site* (its host, the ``www.`` variant, and the host its home page redirects to).
At most ``max_parallel_hosts`` sites are crawled at once; within a site pages are fetched one after
the other, preferred pages (about, products, research, ... in five languages) first, then by depth.
:class:`~s3text.crawl.fetch.HostGates` serialises and paces requests per host across all sites.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from s3text.crawl import frontier
from s3text.crawl.extract import extract
from s3text.crawl.fetch import Fetcher, FetchError, HostGates, gunzip_capped
from s3text.crawl.frontier import FrontierRow, Outcome, SiteState, StoreLease
from s3text.crawl.guard import Resolver, system_resolver
from s3text.crawl.robots import RobotsRules
from s3text.crawl.seeds import read_seeds
from s3text.crawl.settings import CrawlConfig
from s3text.crawl.urls import BadURL, authority, clean, origin, page_key, site_host, trap_reason
from s3text.errors import ConfigError
from s3text.records import Document, content_hash
from s3text.store import Store

logger = logging.getLogger(__name__)
T = TypeVar("T")
SITEMAP_TYPES = ("application/xml", "text/xml", "application/x-xml", "application/gzip", "application/x-gzip",
                 "application/octet-stream", "text/plain")
FETCHED_SKIPS = ("noindex", "too_little_text")  # a page came back but is not stored


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


def crawl(store_path: Path | str, cfg: CrawlConfig, *, seeds: Path | str | None = None, resume: bool = False,
          config_hash: str = "", resolver: Resolver = system_resolver) -> CrawlReport:
    """Crawl the seed list into the store, or continue the interrupted crawl (``resume``).

    With both, an interrupted crawl is continued when there is one, else the seeds are crawled.
    """
    if cfg.contact_url is None:
        raise ConfigError("crawl.contact_url is not set: site owners must be able to reach whoever crawls them "
                          "(a web page or mailto: address for the User-Agent)")
    if seeds is None and not resume:
        raise ConfigError("give a seed list (crawl.seeds or --seeds) or resume an interrupted crawl")
    began = time.monotonic()
    lease = StoreLease(store_path, first_wait=cfg.lock_timeout)
    try:
        store = lease.get()
        crawl_id = frontier.resumable_crawl(store) if resume else None
        resumed = crawl_id is not None
        n_seeds = quarantined = 0
        if crawl_id is None:
            if seeds is None:
                return CrawlReport(None, "nothing_to_resume")
            found, bad = read_seeds(seeds, source=cfg.source_name, strip_params=cfg.strip_params,
                                    max_url_length=cfg.max_url_length)
            crawl_id = _new_crawl_id(config_hash)
            store.add_quarantine(bad, run_id=crawl_id)
            frontier.create_crawl(store, crawl_id, str(seeds), config_hash, cfg.model_dump(mode="json"), found,
                                  {s.url: authority(s.url) for s in found}, {s.url: page_key(s.url) for s in found})
            n_seeds, quarantined = len(found), len(bad)
            logger.info("crawl %s: %d sites, %d seed rows quarantined", crawl_id, n_seeds, quarantined)
        else:
            n_seeds = len(frontier.site_ids(store, crawl_id))
            frontier.flush_pending(store, crawl_id)  # documents a killed run had committed as pending
            logger.info("crawl %s resumed", crawl_id)
        asyncio.run(Crawler(cfg, lease, crawl_id, resolver).run())
        store = lease.get()
        frontier.flush_pending(store, crawl_id)
        report = build_report(store, crawl_id, resumed=resumed, seconds=time.monotonic() - began,
                              seeds=n_seeds, quarantined=quarantined)
        frontier.finish_crawl(store, crawl_id, "completed", report.to_dict())
        return report
    finally:
        lease.close()


def _new_crawl_id(config_hash: str) -> str:
    from s3text.runinfo import new_run_id

    return "crawl-" + new_run_id(config_hash or "00000000")


class Crawler:
    """One crawl's scheduler; :meth:`run` crawls every unfinished site of ``crawl_id``."""

    def __init__(self, cfg: CrawlConfig, lease: StoreLease, crawl_id: str, resolver: Resolver) -> None:
        self.cfg, self.lease, self.crawl_id, self.resolver = cfg, lease, crawl_id, resolver
        self.gates = HostGates(cfg.request_delay, cfg.max_crawl_delay)
        self.token = cfg.product_token
        self._include = [re.compile(p) for p in cfg.include_patterns]
        self._exclude = [re.compile(p, re.IGNORECASE) for p in cfg.exclude_patterns]
        self._preferred = {w.casefold() for w in cfg.preferred_words}
        self._robots: dict[str, asyncio.Task[RobotsRules]] = {}
        self._preflight: dict[str, str | None] = {}

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self._db_lock:
            return await asyncio.to_thread(lambda: fn(self.lease.get(), *args, **kwargs))

    async def run(self) -> None:
        self._db_lock = asyncio.Lock()
        sites = await self._db(frontier.site_ids, self.crawl_id)
        slots = asyncio.Semaphore(self.cfg.max_parallel_hosts)

        async def one(site_id: str) -> None:
            async with slots:
                try:
                    await self._site(site_id)
                except FetchError as exc:  # pragma: no cover - every fetch error is recorded per page
                    logger.error("site %s stopped: %s", site_id, exc)

        async with Fetcher(self.cfg, self.gates, resolver=self.resolver) as self.fetcher:
            await asyncio.gather(*(one(site_id) for site_id, status in sites if status != "done"))

    # -- one site --------------------------------------------------------------------------------------
    async def _site(self, site_id: str) -> None:
        cfg = self.cfg
        state = await self._db(frontier.load_site, self.crawl_id, site_id)
        if state.status == "new":
            await self._sitemaps(state)
            await self._db(frontier.update_site, self.crawl_id, state, "crawling")
        heap = [(r.priority, r.depth, r.seq, r) for r in state.rows]
        heapq.heapify(heap)
        done: set[str] = set()
        started, close_reason, pending = time.monotonic(), "site_done", 0
        while heap:
            if state.requested >= cfg.max_pages_per_site:
                close_reason = "max_pages"
                break
            if time.monotonic() - started > cfg.site_time_budget:
                close_reason = "site_time_budget"
                break
            row = heapq.heappop(heap)[3]
            if row.url_key in done:
                continue
            hosts_before = len(state.hosts)
            outcome = await self._page(state, row, done)
            await self._db(frontier.record, self.crawl_id, site_id, outcome)
            done.add(row.url_key)
            target = outcome.final or row
            done.add(target.url_key)
            state.requested += outcome.requested
            if outcome.content_hash and outcome.status in ("stored", "unchanged"):
                state.hashes[outcome.content_hash] = target.url_key
            if outcome.document is not None and outcome.version is not None and outcome.content_hash:
                state.latest[target.url_key] = (outcome.content_hash, outcome.version)
                pending += 1
            for link in outcome.links:
                if link.status == frontier.QUEUED:
                    heapq.heappush(heap, (link.priority, link.depth, link.seq, link))
            if len(state.hosts) != hosts_before:
                await self._db(frontier.update_site, self.crawl_id, state, "crawling")
            if pending >= cfg.flush_every:
                await self._db(frontier.flush_pending, self.crawl_id)
                pending = 0
        await self._db(frontier.update_site, self.crawl_id, state, "done", close_reason=close_reason)
        logger.info("site %s (%s) done: %d page requests", state.seed.name, state.seed.url, state.requested)

    async def _page(self, state: SiteState, row: FrontierRow, done: set[str]) -> Outcome:
        cfg = self.cfg
        refused = await self._refusal(row.url)
        if refused is not None:
            status = "failed" if refused[0] == "blocked_address" else "skipped"
            return Outcome(row, status, refused[0], refused[1])
        try:
            fetched = await self.fetcher.fetch(
                row.url, accept=cfg.content_types, max_decoded=cfg.max_decoded_bytes,
                check_hop=lambda target: self._check_hop(state, row, target))
        except FetchError as exc:
            return Outcome(row, "skipped" if exc.skip else "failed", exc.reason, exc.detail, attempts=1,
                           requested=True)
        resp = fetched.response
        final: FrontierRow | None = None
        if fetched.final_url != row.url and page_key(fetched.final_url) != row.url_key:
            key = page_key(fetched.final_url)
            if key in done:
                return Outcome(row, "redirected", detail=f"to {fetched.final_url}, already fetched",
                               http_status=resp.status, attempts=resp.attempts, requested=True)
            final = FrontierRow(key, fetched.final_url, authority(fetched.final_url), row.depth, row.priority,
                                self._next_seq(state))
            state.seen.add(key)
        base = Outcome(row, "failed", final=final, http_status=resp.status, attempts=resp.attempts, requested=True)
        if not 200 <= resp.status < 300:
            base.reason = f"http_{resp.status}"
            return base
        ex = await asyncio.to_thread(extract, resp.body, fetched.final_url, languages=cfg.detect_languages,
                                     x_robots_tag=resp.headers.get("x-robots-tag"), token=self.token)
        if ex is None:
            base.reason = "unparsable"
            return base
        target = final or row
        if not (cfg.respect_meta_robots and ex.nofollow):
            base.links = self._links(state, ex.links, depth=target.depth + 1)
        base.status = "skipped"
        if cfg.respect_meta_robots and ex.noindex:
            base.reason = "noindex"
            return base
        if len(ex.text) < cfg.min_text_chars:
            base.reason, base.detail = "too_little_text", f"{len(ex.text)} characters"
            return base
        digest = content_hash(ex.title, ex.text)
        base.content_hash = digest
        previous = state.latest.get(target.url_key)
        if previous is not None and previous[0] == digest:
            base.status, base.reason = "unchanged", None
            return base
        twin = state.hashes.get(digest)
        if twin is not None and twin != target.url_key:
            base.status, base.reason, base.detail = "duplicate", "duplicate", f"same text as {twin}"
            return base
        base.status, base.reason = "stored", None
        base.version = previous[1] + 1 if previous is not None else 1
        base.document = self._document(state, target, fetched.final_url, resp.status, resp.fetched_at.isoformat(),
                                       digest, base.version, ex.title, ex.text, ex.language)
        return base

    def _document(self, state: SiteState, row: FrontierRow, url: str, status: int, fetched_at: str, digest: str,
                  version: int, title: str, text: str, language: str | None) -> Document:
        seed = state.seed
        extra = {"url": url, "url_key": row.url_key, "http_status": str(status), "fetched_at": fetched_at,
                 "content_hash": digest, "version": str(version), "crawl_id": self.crawl_id,
                 "site_id": state.site_id, "company": seed.name}
        if seed.sector:
            extra["sector"] = seed.sector
        if language:
            extra["language"] = language  # documents keep no language column; normalise detects again
        return Document(
            source=self.cfg.source_name, source_kind="website", native_id=f"{row.url_key}@{digest[:16]}",
            title=title or url, text=text, date=frontier.now().date(), provenance_file=seed.file,
            provenance_row=seed.row, actors=(seed.actor(),), language=language, url=url, extra=extra,
            classes=(("sector", seed.sector),) if seed.sector else ())

    # -- rules: robots.txt, SSRF pre-flight, scope ---------------------------------------------------
    async def _refusal(self, url: str) -> tuple[str, str] | None:
        """Why ``url`` must not be requested (reason, detail), from the guard and robots.txt."""
        host = authority(url)
        if host not in self._preflight:
            self._preflight[host] = await self.fetcher.preflight(url)
        why = self._preflight[host]
        if why is not None:
            return why.split(" ", 1)[0], why
        rules = await self._rules(url)
        if rules.outcome == "disallow_all":
            return "robots_unreachable", rules.why
        if not rules.allowed(url, self.token):
            return "robots", "disallowed by robots.txt"
        delay = rules.delay(self.token)
        if delay is not None and delay > self.cfg.max_crawl_delay:
            return "crawl_delay_too_long", f"Crawl-delay {delay:g} s > {self.cfg.max_crawl_delay:g} s"
        return None

    async def _check_hop(self, state: SiteState, row: FrontierRow, target: str) -> str | None:
        host = authority(target)
        if host not in self._preflight:  # the guard first: a hop to an internal address is reported as such
            self._preflight[host] = await self.fetcher.preflight(target)
        if self._preflight[host] is not None:
            return self._preflight[host]
        if host not in state.hosts:
            if row.depth == 0 or site_host(target) == site_host(state.seed.url):
                state.hosts.add(host)  # the seed moved (x.ch -> www.x.com): the site moved with it
            else:
                return "offsite_redirect"
        refused = await self._refusal(target)
        return None if refused is None else f"{refused[0]} {refused[1]}"

    async def _rules(self, url: str) -> RobotsRules:
        key = origin(url)
        if key not in self._robots:
            self._robots[key] = asyncio.create_task(self._load_robots(key))
        return await asyncio.shield(self._robots[key])

    async def _load_robots(self, key: str) -> RobotsRules:
        cfg = self.cfg
        cached = await self._db(frontier.cached_robots, key, cfg.robots_cache_hours)
        if cached is not None:
            rules = RobotsRules.from_cache(*cached)
        else:
            try:
                fetched = await self.fetcher.fetch(key + "/robots.txt", accept=None, max_decoded=cfg.robots_max_bytes,
                                                   truncate=True, check_hop=self._robots_hop)
                status = fetched.response.status
                if 300 <= status < 400:  # a redirect without Location: unavailable (RFC 9309 2.3.1.2)
                    status = 404
                rules = RobotsRules.from_response(status, fetched.response.body, max_bytes=cfg.robots_max_bytes)
            except FetchError as exc:
                if exc.reason in ("too_many_redirects", "redirect_loop"):
                    rules = RobotsRules.from_response(404, None)  # RFC 9309 2.3.1.2: may assume unavailable
                else:
                    rules = RobotsRules.from_response(None, None, error=f"{exc.reason}: {exc.detail}")
            if rules.cacheable:
                await self._db(frontier.cache_robots, key, rules.outcome, rules.status, rules.body)
        delay = rules.delay(self.token)
        if delay is not None:
            self.gates.set_delay(authority(key), delay)
        if rules.outcome == "disallow_all":
            logger.warning("robots.txt of %s unreachable (%s): nothing fetched there", key, rules.why)
        return rules

    async def _robots_hop(self, target: str) -> str | None:
        return await self.fetcher.preflight(target)

    # -- links and sitemaps --------------------------------------------------------------------------
    def _next_seq(self, state: SiteState) -> int:
        state.next_seq += 1
        return state.next_seq - 1

    def _preferred_page(self, url: str) -> bool:
        for seg in urlsplit(url).path.casefold().split("/"):
            seg = unquote(seg)
            stem = re.split(r"[._]", seg, maxsplit=1)[0]
            if seg in self._preferred or stem in self._preferred:
                return True
        return False

    def _ignore(self, state: SiteState, reason: str) -> None:
        state.ignored[reason] = state.ignored.get(reason, 0) + 1

    def _links(self, state: SiteState, hrefs: list[str], *, depth: int) -> list[FrontierRow]:
        cfg, rows = self.cfg, []
        seed_site = site_host(state.seed.url)
        for href in hrefs:
            try:
                url = clean(href, strip_params=cfg.strip_params, max_length=cfg.max_url_length)
            except BadURL:
                self._ignore(state, "bad_url")
                continue
            host = authority(url)
            if host not in state.hosts:
                if site_host(url) != seed_site:
                    self._ignore(state, "offsite")
                    continue
                state.hosts.add(host)
            key = page_key(url)
            if key in state.seen:
                continue
            parts = urlsplit(url)
            where = parts.path + (f"?{parts.query}" if parts.query else "")
            if self._include and not any(p.search(where) for p in self._include):
                self._ignore(state, "not_included")
                continue
            if any(p.search(where) for p in self._exclude):
                self._ignore(state, "excluded")
                continue
            if len(state.seen) >= cfg.max_frontier_per_site:
                self._ignore(state, "frontier_full")
                continue
            state.seen.add(key)
            row = FrontierRow(key, url, host, depth, 1 if self._preferred_page(url) else 2, self._next_seq(state))
            trap = trap_reason(url, max_path_segments=cfg.max_path_segments,
                               max_repeated_segment=cfg.max_repeated_segment)
            if trap is None and "?" in key:
                path = key.split("?", 1)[0]
                state.query_variants[path] = state.query_variants.get(path, 0) + 1
                if state.query_variants[path] > cfg.max_query_variants:
                    trap = "trap_query_variants"
            if trap is not None:
                row.status, row.reason = "skipped", trap
            elif depth > cfg.max_depth:
                row.status, row.reason = "skipped", "max_depth"
            rows.append(row)
        return rows

    async def _sitemaps(self, state: SiteState) -> None:
        cfg, seed = self.cfg, state.seed.url
        if not cfg.use_sitemaps or cfg.max_depth < 1 or cfg.max_sitemaps == 0 or await self._refusal(seed):
            return
        rules = await self._rules(seed)
        queue = [u for u in rules.sitemaps() if site_host(u) == site_host(seed)] or [origin(seed) + "/sitemap.xml"]
        entries: list[str] = []
        read = 0
        while queue and read < cfg.max_sitemaps and len(entries) < cfg.max_sitemap_urls:
            try:
                url = clean(queue.pop(0), strip_params=cfg.strip_params, max_length=cfg.max_url_length)
            except BadURL:
                continue
            if await self._refusal(url) is not None:
                continue
            read += 1
            try:
                fetched = await self.fetcher.fetch(url, accept=SITEMAP_TYPES, max_decoded=cfg.max_decoded_bytes,
                                                   check_hop=lambda t: self._check_hop(state, FrontierRow(
                                                       "", seed, "", 1, 2, 0), t))
                if fetched.response.status != 200:
                    continue
                body = fetched.response.body
                if body[:2] == b"\x1f\x8b":
                    body = gunzip_capped(body, cfg.max_decoded_bytes)
                pages, nested = parse_sitemap(body)
            except (FetchError, ValueError) as exc:
                self._ignore(state, "sitemap_error")
                logger.info("sitemap %s not used: %s", url, exc)
                continue
            queue.extend(nested)
            entries.extend(pages[: cfg.max_sitemap_urls - len(entries)])
        rows = self._links(state, entries, depth=1)
        if rows:
            await self._db(frontier.add_rows, self.crawl_id, state.site_id, rows)
            state.rows.extend(r for r in rows if r.status == frontier.QUEUED)


def parse_sitemap(body: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index; entity expansion is refused."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise ValueError(f"not a sitemap: {exc}") from exc
    locs = [el.text.strip() for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "loc" and el.text]
    if root.tag.rsplit("}", 1)[-1] == "sitemapindex":
        return [], locs
    return locs, []


# -- report ------------------------------------------------------------------------------------------------
def build_report(store: Store, crawl_id: str, *, resumed: bool = False, seconds: float = 0.0, seeds: int = 0,
                 quarantined: int = 0) -> CrawlReport:
    counts = frontier.outcome_counts(store, crawl_id)
    hosts: dict[str, dict[str, Any]] = {}
    for host, status, reason, n in counts.itertuples(index=False):
        h = hosts.setdefault(host, {"host": host, "fetched": 0, "new_versions": 0, "unchanged": 0, "redirected": 0,
                                    "queued": 0, "skipped": {}, "failed": {}})
        n = int(n)
        if status in ("stored", "unchanged", "duplicate") or (status == "skipped" and reason in FETCHED_SKIPS):
            h["fetched"] += n
        if status == "stored":
            h["new_versions"] += n
        elif status == "unchanged":
            h["unchanged"] += n
        elif status in ("redirected", "queued"):
            h[status] += n
        elif status in ("skipped", "duplicate"):
            h["skipped"][reason or status] = h["skipped"].get(reason or status, 0) + n
        elif status == "failed":
            h["failed"][reason or "unknown"] = h["failed"].get(reason or "unknown", 0) + n
    totals: dict[str, Any] = {"fetched": 0, "new_versions": 0, "unchanged": 0, "redirected": 0, "queued": 0,
                              "skipped": {}, "failed": {}}
    for h in hosts.values():
        for k in ("fetched", "new_versions", "unchanged", "redirected", "queued"):
            totals[k] += h[k]
        for k in ("skipped", "failed"):
            for reason, n in h[k].items():
                totals[k][reason] = totals[k].get(reason, 0) + n
    new_docs = int(store.con.execute("SELECT count(*) FROM documents WHERE first_run = ?", [crawl_id]).fetchall()[0][0])
    totals["pages_per_second"] = round(totals["fetched"] / seconds, 2) if seconds else None
    return CrawlReport(crawl_id, "completed", resumed, round(seconds, 2), seeds, quarantined, new_docs, totals,
                       sorted(hosts.values(), key=lambda h: h["host"]), frontier.site_meta(store, crawl_id))


def stored_report(store: Store, crawl_id: str) -> dict[str, Any] | None:
    """The report a finished crawl stored, as a dict."""
    info = frontier.crawl_info(store, crawl_id)
    return json.loads(info["report"]) if info.get("report") else None


