"""Which links become frontier rows: scope, filters, caps, traps and priorities, without a server or store."""

from __future__ import annotations

from s3text.crawl.frontier import QUEUED, SiteState
from s3text.crawl.scope import OTHER, PREFERRED, Scope
from s3text.crawl.seeds import Seed
from s3text.crawl.settings import CrawlConfig


def _state() -> SiteState:
    seed = Seed("Alpha GmbH", "https://www.alpha.at/", "AT", 2, "seeds.csv")
    return SiteState(seed.site_id, seed, {"www.alpha.at"}, "crawling", {}, [], {"alpha.at/"}, 0, 1, {}, {}, {})


def test_scope_keeps_the_site_filters_and_orders_its_links() -> None:
    scope = Scope(CrawlConfig(max_depth=2, max_query_variants=2))
    state = _state()
    rows = scope.links(state, [
        "https://www.alpha.at/ueber-uns/", "https://alpha.at/news/item", "https://www.alpha.at/produkte.html",
        "https://shop.alpha.at/", "https://www.beta.at/produkte", "mailto:office@alpha.at", "ftp://alpha.at/x", "https://www.alpha.at/a.pdf",
        "https://www.alpha.at/login", "https://www.alpha.at/news/item/", "https://www.alpha.at/#top",
        "https://www.alpha.at/p?id=1", "https://www.alpha.at/p?id=2", "https://www.alpha.at/p?id=3",
        "https://www.alpha.at/kalender/2031/05/"], depth=1)
    assert [(r.url, r.priority, r.status, r.reason) for r in rows] == [
        ("https://www.alpha.at/ueber-uns/", PREFERRED, QUEUED, None),
        ("https://alpha.at/news/item", OTHER, QUEUED, None),
        ("https://www.alpha.at/produkte.html", PREFERRED, QUEUED, None),  # a subdomain is the same site
        ("https://www.alpha.at/p?id=1", OTHER, QUEUED, None),
        ("https://www.alpha.at/p?id=2", OTHER, QUEUED, None),
        ("https://www.alpha.at/p?id=3", OTHER, "skipped", "trap_query_variants"),
        ("https://www.alpha.at/kalender/2031/05/", OTHER, "skipped", "trap_calendar")]
    assert [r.seq for r in rows] == list(range(1, 8)) and state.next_seq == 8
    # another host of the domain and another domain are offsite; mailto: and ftp: are no http(s) URLs;
    # /news/item/ and / are seen already (one page key), the PDF and the login page excluded
    assert state.ignored == {"offsite": 2, "bad_url": 2, "excluded": 2}
    assert state.hosts == {"www.alpha.at", "alpha.at"}
    assert scope.links(state, ["https://www.alpha.at/deeper"], depth=3)[0].reason == "max_depth"


def test_scope_frontier_cap_and_include_patterns() -> None:
    state = _state()
    rows = Scope(CrawlConfig(max_frontier_per_site=3)).links(
        state, [f"https://www.alpha.at/p{i}" for i in range(5)], depth=1)
    assert len(rows) == 2 and state.ignored == {"frontier_full": 3}  # the seed counts against the cap
    only = Scope(CrawlConfig(include_patterns=(r"^/produkte",)))
    rows = only.links(_state(), ["https://www.alpha.at/produkte/a", "https://www.alpha.at/team"], depth=1)
    assert [r.url for r in rows] == ["https://www.alpha.at/produkte/a"]
