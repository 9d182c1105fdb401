"""A crawl end to end on real saved pages: documents, versions on recrawl, duplicates, limits, traps, sitemaps."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from s3text.crawl import CrawlConfig, CrawlReport, stored_report
from s3text.records import content_hash
from s3text.store import Store
from tests.crawl.conftest import write_seeds
from tests.crawl.webserver import Site, fixture, html, words

PAGES = {"/ueber-uns": "prof-pc.de.html", "/produkte/energiezaehler": "de.induux.com.energiezaehler.html",
         "/produkte/joghurt": "minusl.de.joghurt.html", "/energie": "propellets.at.energie.html",
         "/news/camping": "auto-wirtschaft.ch-camping.html"}


def company_site(make_site: Callable[..., Site]) -> Site:
    site = make_site()
    site.page("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    site.page("/", html("Alpine Energy Systems", words(30, "home"), [*PAGES, "/index.html", "/kontakt#form"]))
    for path, name in PAGES.items():
        site.page(path, fixture(name))
    site.page("/index.html", html("Alpine Energy Systems", words(30, "home"), list(PAGES)))  # same text as /
    site.page("/kontakt", html("Kontakt", "<p>Tel.</p>"))  # too little text
    return site


def test_crawl_stores_pages_as_web_documents(make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
                                             run_crawl: Callable[..., CrawlReport], tmp_path: Path) -> None:
    site = company_site(make_site)
    report = run_crawl(settings(max_depth=1), site)  # the saved pages link to their own sites' pages
    assert report.documents_new == 6 and report.totals["new_versions"] == 6
    skipped = report.totals["skipped"]
    assert (skipped["duplicate"], skipped["too_little_text"], skipped["max_depth"] > 10) == (1, 1, True)
    assert report.totals["failed"] == {}
    with Store(tmp_path / "store.duckdb") as store:
        docs = store.query("SELECT * FROM documents ORDER BY url")
        actors = store.query("SELECT a.name, a.country, a.city, a.source_nuts, a.kind, l.role FROM actors a "
                             "JOIN document_actors l USING (actor_id)")
        classes = store.query("SELECT DISTINCT scheme, code FROM document_classes")
        saved = stored_report(store, report.crawl_id or "")
        crawl_row = store.query("SELECT status, report FROM crawls")
    assert set(docs["source"]) == {"web"} and set(docs["source_kind"]) == {"website"}
    assert set(actors.itertuples(index=False, name=None)) == {
        ("Company 0", "AT", "Innsbruck", "AT33", "company", "company")}
    assert list(classes.itertuples(index=False, name=None)) == [("sector", "machinery")]
    energy = docs[docs["url"] == f"{site.url}/produkte/energiezaehler"].iloc[0]
    extra = json.loads(energy["extra"])
    assert extra["http_status"] == "200" and extra["version"] == "1" and extra["language"] == "de"
    assert extra["content_hash"] == energy["content_hash"] == content_hash(energy["title"], energy["text"])
    assert energy["native_id"] == f"127.0.0.1:{site.port}/produkte/energiezaehler@{extra['content_hash'][:16]}"
    assert "0,5s Genauigkeitsklasse" in energy["text"] and energy["title"].startswith("Neue Energiezähler")
    assert extra["fetched_at"].startswith(str(energy["date"])[:10]) and energy["first_run"] == report.crawl_id
    assert saved is not None and saved["totals"]["new_versions"] == 6 and crawl_row["status"][0] == "completed"
    assert saved["sites"] == report.to_dict()["sites"]
    (site_meta,) = report.sites
    assert site_meta["hosts"] == [f"127.0.0.1:{site.port}"] and site_meta["status"] == "done"
    assert site_meta["ignored"]["offsite"] > 0  # the saved pages link to their own sites
    assert len(site.hits("/kontakt")) == 1  # the fragment was dropped: one page


def test_crawl_recrawl_stores_one_new_version_for_one_changed_page(
        make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
        run_crawl: Callable[..., CrawlReport], tmp_path: Path) -> None:
    site = company_site(make_site)
    cfg = settings(robots_cache_hours=0, max_depth=1)
    first = run_crawl(cfg, site)
    second = run_crawl(cfg, site)
    assert second.documents_new == 0 and second.totals["unchanged"] == 6 and second.totals["new_versions"] == 0
    site.page("/energie", fixture("propellets.at.energie.html").replace(b"Soziale Energie", b"Soziale Energie 2030"))
    third = run_crawl(cfg, site)
    assert third.documents_new == 1 and third.totals["new_versions"] == 1 and third.totals["unchanged"] == 5
    with Store(tmp_path / "store.duckdb") as store:
        versions = store.query("SELECT v.version, v.crawl_id, d.title FROM web_page_versions v "
                               "JOIN documents d USING (doc_id) WHERE v.url_key LIKE '%/energie' ORDER BY version")
        page = store.query("SELECT version, last_crawl FROM web_pages WHERE url_key LIKE '%/energie'")
        same = store.query("SELECT version, changed, last_fetched, last_crawl, doc_id FROM web_pages "
                           "WHERE url_key LIKE '%/ueber-uns'")
        first_doc = store.query("SELECT v.doc_id FROM web_page_versions v WHERE v.url_key LIKE '%/ueber-uns'")
        n_docs = store.count("documents")
        n_pages = store.count("web_pages")
    assert list(versions["version"]) == [1, 2]
    assert list(versions["crawl_id"]) == [first.crawl_id, third.crawl_id]
    assert versions["title"][1] == "Soziale Energie 2030"
    assert (page["version"][0], page["last_crawl"][0]) == (2, third.crawl_id)
    # an unchanged page keeps its first version and document, and is known to have been fetched again
    assert (same["version"][0], same["last_crawl"][0], same["doc_id"][0]) == (1, third.crawl_id,
                                                                              first_doc["doc_id"][0])
    assert same["last_fetched"][0] > same["changed"][0]
    assert n_docs == 7  # the history: six pages, one of them twice
    assert n_pages == 6


def test_crawl_limits_traps_and_preferred_pages(make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
                                                run_crawl: Callable[..., CrawlReport], tmp_path: Path) -> None:
    site = make_site()
    links = ["/misc/a", "/misc/b", "/misc/c", "/produkte", "/about-us", "/events/calendar?month=2031-01",
             "/s/x/s/x/s/x/s", "/deep1"]
    site.page("/", html("Home", words(20, "home"), links))
    for path in ("/misc/a", "/misc/b", "/misc/c", "/produkte", "/about-us"):
        site.page(path, html(path, words(20, path)))
    for i in range(1, 6):  # a chain deeper than max_depth
        site.page(f"/deep{i}", html(f"d{i}", words(20, f"deep{i}"), [f"/deep{i + 1}"]))
    # a calendar whose every page links to the next month, forever
    site.handler("/events/calendar?month=2031-01", lambda h: h.send(200, b"<a href='?month=2031-02'>next</a>"))
    report = run_crawl(settings(max_pages_per_site=4, max_depth=2), site)
    fetched = [p for p in site.paths() if p != "/robots.txt"]
    assert fetched[:3] == ["/", "/produkte", "/about-us"]  # preferred pages first
    assert len(fetched) == 4
    assert report.totals["skipped"]["trap_calendar"] == 1
    assert report.totals["skipped"]["trap_repeated_segment"] == 1
    assert report.totals["skipped"]["max_pages"] >= 3


def test_crawl_depth_limit_and_sitemap(make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
                                       run_crawl: Callable[..., CrawlReport]) -> None:
    site = make_site()
    site.page("/robots.txt", f"Sitemap: http://127.0.0.1:{site.port}/sitemap_index.xml\n",
              headers={"Content-Type": "text/plain"})
    site.page("/sitemap_index.xml", f"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://127.0.0.1:{site.port}/sitemap-pages.xml</loc></sitemap></sitemapindex>""",
              headers={"Content-Type": "application/xml"})
    site.page("/sitemap-pages.xml", f"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://127.0.0.1:{site.port}/orphan</loc></url>
<url><loc>https://elsewhere.example/not-ours</loc></url></urlset>""", headers={"Content-Type": "application/xml"})
    site.page("/", html("Home", words(20, "home"), ["/d1"]))
    site.page("/orphan", html("Orphan", words(20, "orphan")))
    for i in range(1, 5):
        site.page(f"/d{i}", html(f"d{i}", words(20, f"d{i}"), [f"/d{i + 1}"]))
    report = run_crawl(settings(use_sitemaps=True, max_depth=2), site)
    assert "/orphan" in site.paths()  # known only from the sitemap
    assert "/d3" not in site.paths()
    assert report.totals["skipped"] == {"max_depth": 1}
    assert report.totals["fetched"] == 4


def test_crawl_lets_readers_of_the_store_in(make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
                                            run_crawl: Callable[..., CrawlReport], tmp_path: Path) -> None:
    """A long crawl holds <store>.lock in short leases: a reader taking the lock (as the review server
    does) gets it within its 2-second wait while the crawl goes on (pages still queued when it reads)."""
    import threading
    import time

    from filelock import FileLock

    site = make_site()
    site.page("/", html("Home", words(20, "home"), [f"/p{i}" for i in range(8)]))
    for i in range(8):
        site.page(f"/p{i}", html(f"p{i}", words(20, f"p{i}")))
    store_path = tmp_path / "store.duckdb"
    seen: list[tuple[int, int]] = []  # (frontier rows, rows still queued) at each read

    def reader() -> None:
        time.sleep(1.0)
        for _ in range(3):
            lock = FileLock(str(store_path) + ".lock", thread_local=False)
            lock.acquire(timeout=2.0)
            try:
                with Store(store_path, read_only=True) as store:
                    queued = store.con.execute(
                        "SELECT count(*) FROM crawl_frontier WHERE status = 'queued'").fetchall()[0][0]
                    seen.append((store.count("crawl_frontier"), queued))
            finally:
                lock.release()
            time.sleep(0.3)

    thread = threading.Thread(target=reader)
    thread.start()
    report = run_crawl(settings(request_delay=0.5), site)  # 9 gaps of 0.5 s: the crawl outlasts the first read
    thread.join()
    assert len(seen) == 3 and report.totals["fetched"] == 9
    assert seen[0][1] > 0, seen  # the reader got in while the crawl had pages left, not after it


def test_a_page_reached_from_another_seed_continues_its_own_history(
        make_site: Callable[..., Site], settings: Callable[..., CrawlConfig],
        run_crawl: Callable[..., CrawlReport], tmp_path: Path) -> None:
    # A page's versions belong to the page, not to the site that reached it: another company's
    # website that redirects into the first one's site must not restart the page's history at 1.
    site = company_site(make_site)
    cfg = settings(robots_cache_hours=0, max_depth=1)
    run_crawl(cfg, site)
    site.page("/energie", fixture("propellets.at.energie.html").replace(b"Soziale Energie", b"Soziale Energie 2030"))
    partner = make_site(host="127.0.0.2")
    partner.page("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    partner.page("/", b"", status=301, headers={"Location": site.url + "/energie"})
    other = write_seeds(tmp_path, ("Energie Partner", partner.url + "/", "AT", "AT33", "Innsbruck", "energy"))
    again = run_crawl(cfg, seeds=other)
    assert again.totals["new_versions"] == 1
    with Store(tmp_path / "store.duckdb") as store:
        versions = store.query("SELECT v.version, d.title, d.extra FROM web_page_versions v JOIN documents d "
                               "USING (doc_id) WHERE v.url_key LIKE '%/energie' ORDER BY version")
    assert list(versions["version"]) == [1, 2]
    assert versions["title"][1] == "Soziale Energie 2030"
    assert json.loads(versions["extra"][1])["version"] == "2"
