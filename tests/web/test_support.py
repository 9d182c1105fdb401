"""Evidence minimums through the web: below-minimum pairs show on their topic page, never in the
queue, the API or the decision form; the queue shows every candidate's support."""

from __future__ import annotations

import json

import pytest
from markupsafe import escape

from s3text import steps
from s3text.store import Store
from tests.web.conftest import ANA, Site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minimum(site: Site) -> int:
    """A document minimum only the best-supported candidates of the run reach, taken from the run
    itself, so both groups exist whatever the run's numbers are."""
    with Store(site.store, read_only=True) as store:
        support = [json.loads(r)["support_documents"] for r in store.query(
            "SELECT record FROM candidates WHERE run_id = ?", [site.run_id])["record"]]
    assert len(set(support)) > 1, "candidates with different support"
    return int(max(support))


@pytest.fixture(scope="module")
def split(site: Site, minimum: int) -> dict[str, list[dict[str, object]]]:
    """The run's candidates recomputed with that minimum."""
    steps.candidates(site.config(f"candidates.min_support_documents={minimum}"), site.run_id)
    with Store(site.store, read_only=True) as store:
        groups = {t: [json.loads(r) for r in store.query(f"SELECT record FROM {t} WHERE run_id = ?",
                                                        [site.run_id])["record"]]
                  for t in ("candidates", "candidates_below_minimum")}
    assert groups["candidates"] and groups["candidates_below_minimum"], "both groups are present"
    return groups


def _api_keys(site: Site, minimum: int) -> set[str]:
    keys: set[str] = set()
    offset, total = 0, 1
    while offset < total:
        body = site.client.get("/api/v1/candidates", auth=("ana", ANA), params={
            "limit": 200, "offset": offset, "status": ["new", "accepted", "rejected", "watch"]}).json()
        total, offset = body["total"], offset + 200
        assert all(c["support_documents"] >= minimum and not c["below_minimum"] for c in body["items"])
        keys |= {c["candidate_key"] for c in body["items"]}
    return keys


def test_below_minimum_pairs_stay_out_of_review(site: Site, split: dict[str, list[dict[str, object]]],
                                                minimum: int) -> None:
    keys = _api_keys(site, minimum)
    assert keys == {str(c["candidate_key"]) for c in split["candidates"]}
    weak = split["candidates_below_minimum"][0]
    assert site.client.get(f"/api/v1/candidates/{weak['candidate_key']}", auth=("ana", ANA)).status_code == 404
    assert site.client.get(f"/candidates/{weak['candidate_key']}").status_code == 404


def test_topic_page_lists_below_minimum_pairs_with_their_reasons(
        site: Site, split: dict[str, list[dict[str, object]]], minimum: int) -> None:
    weak = split["candidates_below_minimum"][0]
    html = site.client.get(f"/topics/{weak['topic_id']}").text
    section = html.split('id="below-minimum"', 1)[1].split("</section>", 1)[0]
    assert f">{weak['region']}</a>" in section
    assert str(escape(f"fewer than the minimum {minimum}")) in section
    assert f'<td class="num">{weak["support_documents"]}</td>' in section


def test_queue_shows_support(site: Site, split: dict[str, list[dict[str, object]]]) -> None:
    top = max(split["candidates"], key=lambda c: (float(c["score"]), str(c["candidate_key"])))  # type: ignore[arg-type]
    html = site.client.get("/", params={"sort": "-score", "region": top["region"]}).text
    assert f"{top['support_documents']} docs · {top['support_organisations']} orgs" in html
