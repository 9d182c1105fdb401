"""The JSON API on a real store: every endpoint, filters, pagination, visibility, caching."""

from __future__ import annotations

from typing import Any

import pytest

from s3text.review import decide
from s3text.store import Store
from tests.web.conftest import ANA, BEN, Site

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {ANA}"}


def page(site: Site, **params: Any) -> dict[str, Any]:
    """One page of candidates of every status, as a reviewer sees them."""
    response = site.client.get("/api/v1/candidates", params={"status": "new,accepted,rejected,watch",
                                                             "limit": 200, **params}, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def all_candidates(site: Site, **params: Any) -> dict[str, Any]:
    """Every matching candidate, page after page: no test may depend on how many a run has."""
    first = page(site, **params)
    items = list(first["items"])
    while len(items) < first["total"]:
        more = page(site, **params, offset=len(items))["items"]
        assert more, "the API stopped before its total"
        items += more
    return {**first, "items": items}


@pytest.fixture(scope="module")
def accepted(site: Site) -> list[str]:
    """Three candidates accepted, one rejected, straight through the review layer."""
    items = all_candidates(site)["items"]
    with Store(site.store) as store:
        for c in items[:3]:
            decide(store, candidate_key=c["candidate_key"], status="accepted", reviewer="ana", note="internal",
                   record=c, run_id=site.run_id)
        decide(store, candidate_key=items[3]["candidate_key"], status="rejected", reviewer="ben", record=items[3])
    return [c["candidate_key"] for c in items[:3]]


def test_public_list_shows_only_accepted_without_notes(site: Site, accepted: list[str]) -> None:
    body = site.client.get("/api/v1/candidates").json()
    assert body["schema_version"] == 1 and body["run_id"] == site.run_id
    assert body["statuses"] == ["accepted"] and body["total"] == 3
    assert sorted(c["candidate_key"] for c in body["items"]) == sorted(accepted)
    assert all(c["reviewer"] is None and c["note"] is None for c in body["items"])
    assert all(e["link"].startswith("https://cordis.europa.eu/project/id/") for c in body["items"]
               for e in c["evidence"])


def test_other_statuses_need_a_reviewer(site: Site, accepted: list[str]) -> None:
    denied = site.client.get("/api/v1/candidates", params={"status": "new"})
    assert denied.status_code == 401 and denied.json()["error"]["status"] == 401
    assert denied.headers["www-authenticate"].startswith("Basic")
    wrong = site.client.get("/api/v1/candidates", headers={"Authorization": "Bearer nope-nope-nope"})
    assert wrong.status_code == 401
    mine = site.client.get("/api/v1/candidates", params={"status": ["rejected"]}, auth=("ben", BEN)).json()
    assert mine["total"] == 1 and mine["items"][0]["reviewer"] == "ben"
    default = site.client.get("/api/v1/candidates", headers=AUTH).json()
    assert default["statuses"] == ["accepted"] and default["items"][0]["note"] == "internal"


def test_pagination_is_stable_and_counts_all(site: Site) -> None:
    everything = all_candidates(site)
    total = everything["total"]
    assert total >= 4, "the accepted fixture needs four candidates"
    size = max(1, total // 3)  # several pages whatever the run's size, the last one partial or full
    pages = [page(site, limit=size, offset=o) for o in range(0, total, size)]
    assert {p["total"] for p in pages} == {total}
    assert all(len(p["items"]) == min(size, total - o) for p, o in zip(pages, range(0, total, size), strict=True))
    keys = [c["candidate_key"] for p in pages for c in p["items"]]
    assert len(keys) == len(set(keys)) == total
    assert keys == [c["candidate_key"] for c in everything["items"]]
    assert len(page(site)["items"]) == min(total, 200), "limit 200 at most"
    scores = [c["score"] for c in everything["items"]]
    assert scores == sorted(scores, reverse=True)
    beyond = page(site, offset=total + 5)
    assert beyond["items"] == [] and beyond["total"] == total
    assert site.client.get("/api/v1/candidates", params={"limit": 0}).status_code == 422
    assert site.client.get("/api/v1/candidates", params={"limit": 201}).status_code == 422
    assert site.client.get("/api/v1/candidates", params={"offset": -1}).status_code == 422


@pytest.mark.parametrize("sort", ["density", "-rca", "region", "-emergence"])
def test_sorting(site: Site, sort: str) -> None:
    items = all_candidates(site, sort=sort)["items"]
    key = {"density": "density", "rca": "rca", "region": "region", "emergence": "emergence"}[sort.lstrip("-")]
    values = [c[key] for c in items]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_filters(site: Site) -> None:
    items = all_candidates(site)["items"]
    region, topic = items[0]["region"], items[0]["topic_id"]
    by_region = all_candidates(site, region=region)["items"]
    assert by_region and {c["region"] for c in by_region} == {region}
    by_topic = all_candidates(site, topic=topic)["items"]
    assert by_topic and {c["topic_id"] for c in by_topic} == {topic}
    for kind in ("strengthen", "diversify"):
        assert {c["kind"] for c in all_candidates(site, kind=kind)["items"]} <= {kind}
    middle = sorted(c["score"] for c in items)[len(items) // 2]
    ranged = all_candidates(site, min_score=middle, max_score=1)["items"]
    assert ranged and all(middle <= c["score"] <= 1 for c in ranged)
    country = region[:2]
    grouped = all_candidates(site, group=country)["items"]
    assert grouped and all(c["region"].startswith(country) for c in grouped)
    assert len(grouped) == sum(c["region"].startswith(country) for c in items)
    assert all_candidates(site, q=items[0]["topic_label"].split(",")[0].upper())["total"] >= 1
    news = all_candidates(site, status="new")["items"]
    assert news and {c["status"] for c in news} == {"new"}


@pytest.mark.parametrize("params", [{"kind": "grow"}, {"min_score": "x"}, {"min_score": 2, "max_score": 1},
                                    {"sort": "drop table"}, {"region": "<script>"}, {"status": "maybe"}])
def test_invalid_filters_are_422_with_fields(site: Site, params: dict[str, Any]) -> None:
    response = site.client.get("/api/v1/candidates", params=params, headers=AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["fields"] and "Traceback" not in response.text


def test_candidate_detail(site: Site, accepted: list[str]) -> None:
    body = site.client.get(f"/api/v1/candidates/{accepted[0]}").json()
    assert body["schema_version"] == 1
    c = body["candidate"]
    assert c["status"] == "accepted" and c["explanation"] and c["evidence"]
    assert {"score", "emergence", "specialisation", "density", "mass", "rca"} <= c.keys()
    assert "actor_ids" not in c, "internal organisation ids stay out of the API, as out of the exports"
    first = c["evidence"][0]
    assert first["title"] and first["date"] and first["actors"] and first["link"]
    assert site.client.get("/api/v1/candidates/0000000000000000").status_code == 404
    new_key = all_candidates(site, status="new")["items"][0]["candidate_key"]
    assert site.client.get(f"/api/v1/candidates/{new_key}").status_code == 404, "not public"
    assert site.client.get(f"/api/v1/candidates/{new_key}", headers=AUTH).status_code == 200
    assert site.client.get("/api/v1/candidates/bad%20key!").status_code == 422


def test_topics_and_one_topic(site: Site) -> None:
    body = site.client.get("/api/v1/topics").json()
    assert body["schema_version"] == 1 and len(body["items"]) >= 5
    topic = body["items"][0]
    assert sum(y["count"] for y in topic["yearly"]) == topic["size"]
    one = site.client.get(f"/api/v1/topics/{topic['topic_id']}").json()["topic"]
    assert one["label"] == topic["label"] and one["series"]["total"] and one["regions"]
    assert sum(p["count"] for pts in one["series"]["by_source"].values() for p in pts) == topic["size"]
    by_lineage = site.client.get(f"/api/v1/topics/{topic['lineage_id']}").json()["topic"]
    assert by_lineage["topic_id"] == topic["topic_id"]
    assert site.client.get("/api/v1/topics/9999").status_code == 404
    assert site.client.get("/api/v1/topics/not-a-topic").status_code == 422


def test_regions_and_one_region(site: Site, accepted: list[str]) -> None:
    body = site.client.get("/api/v1/regions").json()
    assert body["schema_version"] == 1 and len(body["items"]) > 50
    assert sum(r["candidates"] for r in body["items"]) == 3, "public counts only"
    region = site.client.get(f"/api/v1/candidates/{accepted[0]}").json()["candidate"]["region"]
    named = {r["region"]: r for r in body["items"]}[region]
    assert named["name"], "NUTS labels from the pipeline config"
    one = site.client.get(f"/api/v1/regions/{region}").json()
    assert one["topics"] and all(c["status"] == "accepted" for c in one["candidates"])
    assert accepted[0] in {c["candidate_key"] for c in one["candidates"]}
    assert site.client.get("/api/v1/regions/ZZ99").status_code == 404
    assert site.client.get(f"/api/v1/regions/{region}", params={"status": "new"}).status_code == 401


def test_latest_run_has_no_paths(site: Site) -> None:
    response = site.client.get("/api/v1/runs/latest")
    body = response.json()
    assert body["schema_version"] == 1 and body["run"]["run_id"] == site.run_id
    assert body["run"]["stages"]["candidates"]["candidates"] > 0
    assert str(site.folder) not in response.text


def test_etag_and_last_modified(site: Site, accepted: list[str]) -> None:
    first = site.client.get("/api/v1/candidates", params={"limit": 2})
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "public, no-cache"
    again = site.client.get("/api/v1/candidates", params={"limit": 2}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    weak = site.client.get("/api/v1/candidates", params={"limit": 2}, headers={"If-None-Match": f'"x", W/{tag}'})
    assert weak.status_code == 304
    since = site.client.get("/api/v1/candidates", params={"limit": 2}, headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    other = site.client.get("/api/v1/candidates", params={"limit": 3}, headers={"If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag
    private = site.client.get("/api/v1/candidates", params={"limit": 2}, headers=AUTH)
    assert private.headers["etag"] != tag and private.headers["cache-control"].startswith("private")
    with Store(site.store) as store:  # a decision changes what the API says: the old tag is stale
        decide(store, candidate_key=accepted[2], status="watch", reviewer="ana", record=None)
    stale = site.client.get("/api/v1/candidates", params={"limit": 2}, headers={"If-None-Match": tag})
    assert stale.status_code == 200 and stale.headers["etag"] != tag
    for path in ("/api/v1/topics", "/api/v1/regions", "/api/v1/runs/latest", f"/api/v1/topics/{0}"):
        tagged = site.client.get(path)
        assert tagged.status_code == 200 and tagged.json()["schema_version"] == 1
        assert site.client.get(path, headers={"If-None-Match": tagged.headers["etag"]}).status_code == 304


def test_openapi_document(site: Site) -> None:
    doc = site.client.get("/api/v1/openapi.json").json()
    paths = set(doc["paths"])
    assert paths == {"/api/v1/candidates", "/api/v1/candidates/{key}", "/api/v1/topics", "/api/v1/topics/{ref}",
                     "/api/v1/regions", "/api/v1/regions/{code}", "/api/v1/runs/latest"}
    names = {p["name"] for p in doc["paths"]["/api/v1/candidates"]["get"]["parameters"]}
    assert {"region", "group", "topic", "kind", "status", "min_score", "max_score", "sort", "limit", "offset"} <= names
    assert "schema_version" in doc["components"]["schemas"]["CandidatePage"]["properties"]
    assert site.client.get("/docs").status_code == 404, "no Swagger UI: it would load scripts from a CDN"
