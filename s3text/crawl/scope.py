"""Which links of a page become frontier rows of its site, and in what order they are fetched.

Pure bookkeeping on a :class:`~s3text.crawl.frontier.SiteState`, no network and no store: a link
is cleaned, kept to the site's hosts, matched against the include and exclude patterns, counted
against the frontier cap, checked for traps (calendars, repeating or deep paths, endless query
variants) and the depth limit, and given a priority: pages about the company first.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from s3text.crawl.frontier import FrontierRow, SiteState
from s3text.crawl.settings import CrawlConfig
from s3text.crawl.urls import BadURL, authority, clean, page_key, site_host, trap_reason

PREFERRED, OTHER = 1, 2  # frontier priorities: lower is fetched first


class Scope:
    """A crawl's link rules, compiled once."""

    def __init__(self, cfg: CrawlConfig) -> None:
        self.cfg = cfg
        self._include = [re.compile(p) for p in cfg.include_patterns]
        self._exclude = [re.compile(p, re.IGNORECASE) for p in cfg.exclude_patterns]
        self._preferred = {w.casefold() for w in cfg.preferred_words}

    def preferred(self, url: str) -> bool:
        """A path segment (or its stem before ``.`` or ``_``) is one of the preferred words."""
        for seg in urlsplit(url).path.casefold().split("/"):
            seg = unquote(seg)
            if seg in self._preferred or re.split(r"[._]", seg, maxsplit=1)[0] in self._preferred:
                return True
        return False

    def links(self, state: SiteState, hrefs: list[str], *, depth: int) -> list[FrontierRow]:
        """New frontier rows for ``hrefs`` found at ``depth``: queued, or skipped with a trap or depth reason.

        Links that never become rows (bad, offsite, excluded, already seen, frontier full) are only
        counted in ``state.ignored``."""
        rows = []
        for href in hrefs:
            try:
                url = clean(href, strip_params=self.cfg.strip_params, max_length=self.cfg.max_url_length)
            except BadURL:
                state.ignore("bad_url")
                continue
            if authority(url) not in state.hosts and site_host(url) != site_host(state.seed.url):
                state.ignore("offsite")
                continue
            key = page_key(url)
            if key in state.seen:
                continue
            why = self._filtered(url) or ("frontier_full" if len(state.seen) >= self.cfg.max_frontier_per_site
                                          else None)
            if why is not None:
                state.ignore(why)
                continue
            state.seen.add(key)
            state.hosts.add(authority(url))
            row = FrontierRow(key, url, authority(url), depth, PREFERRED if self.preferred(url) else OTHER,
                              state.take_seq())
            reason = self._trap(state, url, key) or ("max_depth" if depth > self.cfg.max_depth else None)
            if reason is not None:
                row.status, row.reason = "skipped", reason
            rows.append(row)
        return rows

    def _filtered(self, url: str) -> str | None:
        """Why the include or exclude patterns (on path and query) keep ``url`` out, or None."""
        parts = urlsplit(url)
        where = parts.path + (f"?{parts.query}" if parts.query else "")
        if self._include and not any(p.search(where) for p in self._include):
            return "not_included"
        if any(p.search(where) for p in self._exclude):
            return "excluded"
        return None

    def _trap(self, state: SiteState, url: str, key: str) -> str | None:
        trap = trap_reason(url, max_path_segments=self.cfg.max_path_segments,
                           max_repeated_segment=self.cfg.max_repeated_segment)
        if trap is None and "?" in key:
            path = key.split("?", 1)[0]
            state.query_variants[path] = state.query_variants.get(path, 0) + 1
            if state.query_variants[path] > self.cfg.max_query_variants:
                trap = "trap_query_variants"
        return trap
