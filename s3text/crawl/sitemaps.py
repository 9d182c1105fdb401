"""Sitemaps: the page URLs of a ``urlset`` and the nested sitemaps of a ``sitemapindex``.

Parsed with defusedxml (no entity expansion, no external entities); a gzipped sitemap is
decompressed with the same bounded decoder as page bodies (:func:`s3text.crawl.fetch.gunzip_capped`).
"""

from __future__ import annotations

# Sitemaps come with any of these types in the wild (a .xml.gz often as octet-stream).
SITEMAP_TYPES = ("application/xml", "text/xml", "application/x-xml", "application/gzip", "application/x-gzip",
                 "application/octet-stream", "text/plain")


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
