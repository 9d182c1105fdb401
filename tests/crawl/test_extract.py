"""Main text of real saved pages against their gold snippets; language; robots meta tags; links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s3text.crawl.extract import extract

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "web"
GOLD = json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("url", sorted(GOLD))
def test_extract_keeps_main_text_and_drops_boilerplate(url: str) -> None:
    gold = GOLD[url]
    page = extract((FIXTURES / gold["file"]).read_bytes(), url)
    assert page is not None
    for snippet in gold["with"]:
        assert snippet in page.text, snippet
    for snippet in gold["without"]:
        assert snippet not in page.text, snippet
    assert page.title
    assert page.language == ("fr" if ".com/son/" in url else "de")
    assert page.links and all(link.startswith(("http://", "https://")) for link in page.links)


def test_extract_robots_meta_and_nofollow_links() -> None:
    body = """<html><head><base href="https://x.ch/de/"><meta name="robots" content="noindex"></head>
    <body><a href="produkte">P</a><a rel="nofollow" href="/login">L</a><a href="mailto:a@x.ch">M</a>
    <p>Unsere Firma stellt Präzisionsteile für die Medizintechnik her, seit vielen Jahren in Tirol.</p>
    </body></html>""".encode()
    page = extract(body, "https://x.ch/de/start")
    assert page is not None and page.noindex and not page.nofollow
    assert page.links == ["https://x.ch/de/produkte"]
    none = extract(b'<html><head><meta name="robots" content="none"></head><body><a href="/a">a</a></body></html>',
                   "https://x.ch/")
    assert none is not None and none.noindex and none.nofollow and none.links == []
    header = extract(b"<html><body><a href='/a'>a</a></body></html>", "https://x.ch/", x_robots_tag="nofollow")
    assert header is not None and header.links == []
