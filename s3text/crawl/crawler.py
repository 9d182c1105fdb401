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

This module is the scheduling; :mod:`~s3text.crawl.scope` decides which links become pages,
:mod:`~s3text.crawl.frontier` keeps the state in the store, :mod:`~s3text.crawl.report` sums it up.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from s3text.crawl import frontier
from s3text.crawl.extract import Extracted, extract
from s3text.crawl.fetch import Fetched, Fetcher, FetchError, HostGates, gunzip_capped
from s3text.crawl.frontier import FrontierRow, Outcome, SiteState, StoreLease
from s3text.crawl.guard import Resolver, system_resolver
from s3text.crawl.report import CrawlReport, build_report
from s3text.crawl.robots import RobotsRules
from s3text.crawl.scope import Scope
from s3text.crawl.seeds import read_seeds
from s3text.crawl.settings import CrawlConfig
from s3text.crawl.sitemaps import SITEMAP_TYPES, parse_sitemap
from s3text.crawl.urls import BadURL, authority, clean, origin, page_key, site_host
from s3text.errors import ConfigError
from s3text.records import Document, content_hash

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Refusals that mean a page could not be fetched (failed); every other refusal is the crawler's
# choice (robots.txt, scope, traps: skipped), on the page itself and on a redirect to it alike.
UNREACHABLE = ("blocked_address", "dns_error")


def _hop_error(target: str, refused: tuple[str, str]) -> FetchError:
    """A redirect to ``target`` refused for (reason, detail)."""
    reason, detail = refused
    return FetchError(reason, f"redirect to {target}: {detail}", skip=reason not in UNREACHABLE)


def crawl(store_path: Path | str, cfg: CrawlConfig, *, seeds: Path | str | None = None, resume: bool = False,
          config_hash: str | None = None, resolver: Resolver = system_resolver) -> CrawlReport:
    """Crawl the seed list into the store, or continue the interrupted crawl (``resume``).

    With both, an interrupted crawl is continued when there is one, else the seeds are crawled.
    ``config_hash`` defaults to :meth:`CrawlConfig.config_hash`.
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
                                    max_url_length=cfg.max_url_length, encoding=cfg.seeds_encoding)
            digest = config_hash if config_hash is not None else cfg.config_hash()
            crawl_id = _new_crawl_id(digest)
            store.add_quarantine(bad, run_id=crawl_id)
            frontier.create_crawl(store, crawl_id, str(seeds), digest, cfg.model_dump(mode="json"), found)
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
        self.scope = Scope(cfg)
        self._robots: dict[str, asyncio.Task[RobotsRules]] = {}  # per origin: fetched once per crawl
        self._preflight: dict[str, str | None] = {}  # per host: the SSRF guard's verdict
        self._db_lock = asyncio.Lock()  # one store call at a time (one DuckDB connection)

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self._db_lock:
            return await asyncio.to_thread(lambda: fn(self.lease.get(), *args, **kwargs))

    async def run(self) -> None:
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
            return Outcome(row, "failed" if refused[0] in UNREACHABLE else "skipped", *refused)
        try:
            fetched = await self.fetcher.fetch(
                row.url, accept=cfg.content_types, max_decoded=cfg.max_decoded_bytes,
                check_hop=lambda target: self._check_hop(state, target, seed_page=row.depth == 0))
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
                                state.take_seq())
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
            base.links = self.scope.links(state, ex.links, depth=target.depth + 1)
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
        base.document = self._document(state, target, fetched, ex, digest, base.version)
        return base

    def _document(self, state: SiteState, row: FrontierRow, fetched: Fetched, ex: Extracted, digest: str,
                  version: int) -> Document:
        seed, url, resp = state.seed, fetched.final_url, fetched.response
        extra = {"url": url, "url_key": row.url_key, "http_status": str(resp.status),
                 "fetched_at": resp.fetched_at.isoformat(), "content_hash": digest, "version": str(version),
                 "crawl_id": self.crawl_id, "site_id": state.site_id, "company": seed.name}
        if seed.sector:
            extra["sector"] = seed.sector
        if ex.language:
            extra["language"] = ex.language  # documents keep no language column; normalise detects again
        return Document(
            source=self.cfg.source_name, source_kind="website", native_id=f"{row.url_key}@{digest[:16]}",
            title=ex.title or url, text=ex.text, date=resp.fetched_at.date(), provenance_file=seed.file,
            provenance_row=seed.row, actors=(seed.actor(),), language=ex.language, url=url, extra=extra,
            classes=(("sector", seed.sector),) if seed.sector else ())

    # -- rules: robots.txt, SSRF pre-flight, scope ---------------------------------------------------
    async def _blocked(self, url: str) -> tuple[str, str] | None:
        """The SSRF guard's (reason, detail) not to contact the host of ``url`` (looked up once per host), or None."""
        host = authority(url)
        if host not in self._preflight:
            self._preflight[host] = await self.fetcher.preflight(url)
        why = self._preflight[host]
        return None if why is None else (why.split(" ", 1)[0], why)

    async def _refusal(self, url: str) -> tuple[str, str] | None:
        """Why ``url`` must not be requested (reason, detail), from the guard and robots.txt."""
        blocked = await self._blocked(url)
        if blocked is not None:
            return blocked
        rules = await self._rules(url)
        if rules.outcome == "disallow_all":
            return "robots_unreachable", rules.why
        if not rules.allowed(url, self.token):
            return "robots", "disallowed by robots.txt"
        delay = rules.delay(self.token)
        if delay is not None and delay > self.cfg.max_crawl_delay:
            return "crawl_delay_too_long", f"Crawl-delay {delay:g} s > {self.cfg.max_crawl_delay:g} s"
        return None

    async def _check_hop(self, state: SiteState, target: str, *, seed_page: bool) -> FetchError | None:
        """Why a redirect to ``target`` must not be followed, or None (its host then joins the site)."""
        blocked = await self._blocked(target)  # the guard first: a hop to an internal address is reported as such
        if blocked is not None:
            return _hop_error(target, blocked)
        host = authority(target)
        if host not in state.hosts:
            if seed_page or site_host(target) == site_host(state.seed.url):
                state.hosts.add(host)  # the seed moved (x.ch -> www.x.com): the site moved with it
            else:
                return _hop_error(target, ("offsite_redirect", "another site"))
        refused = await self._refusal(target)
        return None if refused is None else _hop_error(target, refused)

    async def _robots_hop(self, target: str) -> FetchError | None:
        blocked = await self._blocked(target)
        return None if blocked is None else _hop_error(target, blocked)

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

    # -- sitemaps ------------------------------------------------------------------------------------
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
                                                   check_hop=lambda t: self._check_hop(state, t, seed_page=False))
                if fetched.response.status != 200:
                    continue
                body = fetched.response.body
                if body[:2] == b"\x1f\x8b":
                    body = gunzip_capped(body, cfg.max_decoded_bytes)
                pages, nested = parse_sitemap(body)
            except (FetchError, ValueError) as exc:
                state.ignore("sitemap_error")
                logger.info("sitemap %s not used: %s", url, exc)
                continue
            queue.extend(nested)
            entries.extend(pages[: cfg.max_sitemap_urls - len(entries)])
        rows = self.scope.links(state, entries, depth=1)
        if rows:
            await self._db(frontier.add_rows, self.crawl_id, state.site_id, rows)
            state.rows.extend(r for r in rows if r.status == frontier.QUEUED)
