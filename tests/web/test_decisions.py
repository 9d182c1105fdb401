"""Decisions through the web: identity, CSRF, validation, the audit log, and refreshes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from s3text import steps
from tests.web.conftest import ANA, ANALYSE, BASE, BEN, Site, record_run

pytestmark = pytest.mark.slow


def form_of(client: TestClient, key: str, **kwargs: object) -> dict[str, str]:
    html = client.get(f"/candidates/{key}", **kwargs).text  # type: ignore[arg-type]
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    seen = re.search(r'name="seen" value="([^"]+)"', html)
    assert token is not None and seen is not None, "the decision form is shown to a reviewer"
    return {"csrf_token": token.group(1), "seen": seen.group(1)}


@pytest.fixture(scope="module")
def keys(site: Site) -> list[str]:
    body = site.client.get("/api/v1/candidates", params={"status": "new", "limit": 40}, auth=("ana", ANA)).json()
    keys = [c["candidate_key"] for c in body["items"] if len(c["evidence"]) >= 2]  # fewer evidence = a change
    assert len(keys) >= 5
    return keys


def test_deciding_needs_identity(site: Site, keys: list[str]) -> None:
    form = form_of(site.client, keys[0], auth=("ana", ANA))
    anonymous = site.client.post(f"/candidates/{keys[0]}/decision", data={**form, "status": "accepted"})
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic")
    assert "Sign in" in anonymous.text
    wrong = site.client.post(f"/candidates/{keys[0]}/decision", data={**form, "status": "accepted"},
                             auth=("ana", BEN))
    assert wrong.status_code == 401
    unknown = site.client.post(f"/candidates/{keys[0]}/decision", data={**form, "status": "accepted"},
                               headers={"Authorization": "Bearer not-a-token-at-all"})
    assert unknown.status_code == 401
    assert site.client.get(f"/api/v1/candidates/{keys[0]}", auth=("ana", ANA)).json()["candidate"]["status"] == "new"


def test_deciding_needs_the_csrf_token(site: Site, keys: list[str]) -> None:
    form = form_of(site.client, keys[0], auth=("ana", ANA))
    url = f"/candidates/{keys[0]}/decision"
    missing = site.client.post(url, data={"seen": form["seen"], "status": "accepted"}, auth=("ana", ANA))
    assert missing.status_code == 403 and "expired or did not come from this site" in missing.text
    forged = site.client.post(url, data={**form, "csrf_token": "0" * 64, "status": "accepted"}, auth=("ana", ANA))
    assert forged.status_code == 403
    cross = site.client.post(url, data={**form, "status": "accepted"}, auth=("ana", ANA),
                             headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    other = TestClient(site.client.app, base_url=BASE)  # a token from another browser's cookie does not fit this one
    other.get("/")
    assert other.post(url, data={**form, "status": "accepted"}, auth=("ana", ANA)).status_code == 403
    assert site.client.get(f"/api/v1/candidates/{keys[0]}", auth=("ana", ANA)).json()["candidate"]["status"] == "new"


def test_a_decision_redirects_and_shows_on_reload(site: Site, keys: list[str]) -> None:
    form = form_of(site.client, keys[0], auth=("ana", ANA))
    done = site.client.post(f"/candidates/{keys[0]}/decision", auth=("ana", ANA), follow_redirects=False,
                            data={**form, "status": "watch", "note": "check <b>partners</b>\r\nsecond line"})
    assert done.status_code == 303 and done.headers["location"] == f"/candidates/{keys[0]}?saved=true#decision"
    page = site.client.get(done.headers["location"]).text
    assert "Decision saved." in page and 'class="badge status-watch">watch' in page
    history = page.split('id="history"')[1]
    assert "ana" in history and "check &lt;b&gt;partners&lt;/b&gt;\nsecond line" in history
    queue = site.client.get("/", params={"status": "watch"}).text
    assert keys[0] in queue


def test_a_session_cookie_signs_in_and_out(site: Site, keys: list[str]) -> None:
    client = TestClient(site.client.app, base_url=BASE)
    login_page = client.get(f"/login?next=/candidates/{keys[1]}").text
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', login_page)
    assert token is not None
    bad = client.post("/login", data={"csrf_token": token.group(1), "name": "ben", "token": ANA,
                                      "next": f"/candidates/{keys[1]}"})
    assert bad.status_code == 401 and "Unknown reviewer or wrong token." in bad.text
    no_csrf = client.post("/login", data={"name": "ben", "token": BEN})
    assert no_csrf.status_code == 403
    good = client.post("/login", data={"csrf_token": token.group(1), "name": "ben", "token": BEN,
                                       "next": f"/candidates/{keys[1]}"}, follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == f"/candidates/{keys[1]}"
    assert "httponly" in good.headers["set-cookie"].lower()
    form = form_of(client, keys[1])  # no Authorization header: the session cookie is the identity
    done = client.post(f"/candidates/{keys[1]}/decision", data={**form, "status": "rejected", "note": "too thin"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert "by ben" in client.get(f"/candidates/{keys[1]}").text
    evil_next = client.post("/login", data={"csrf_token": form["csrf_token"], "name": "ben", "token": BEN,
                                            "next": "//evil.example/x"}, follow_redirects=False)
    assert evil_next.headers["location"] == "/"
    form = form_of(client, keys[1])
    assert client.post("/logout", data={"csrf_token": form["csrf_token"]}, follow_redirects=False).status_code == 303
    assert client.post(f"/candidates/{keys[1]}/decision", data={**form, "status": "accepted"}).status_code == 401


@pytest.mark.parametrize(("fields", "message"), [
    ({"status": "maybe"}, "Choose one of"),
    ({"status": "accepted", "note": "x" * 5001}, "at most 5000"),
    ({"status": "accepted", "note": "bell\x07"}, "control characters"),
])
def test_invalid_decisions_are_shown_as_messages(site: Site, keys: list[str], fields: dict[str, str],
                                                 message: str) -> None:
    form = form_of(site.client, keys[2], auth=("ana", ANA))
    response = site.client.post(f"/candidates/{keys[2]}/decision", data={**form, **fields}, auth=("ana", ANA))
    assert response.status_code == 422 and message in response.text and "Traceback" not in response.text


def test_oversized_or_foreign_forms_are_refused(site: Site, keys: list[str]) -> None:
    url = f"/candidates/{keys[2]}/decision"
    assert site.client.post(url, content=b"x" * 70_000, auth=("ana", ANA),
                            headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 413
    assert site.client.post(url, json={"status": "accepted"}, auth=("ana", ANA)).status_code == 415


def test_a_stale_form_is_a_conflict(site: Site, keys: list[str]) -> None:
    form = form_of(site.client, keys[3], auth=("ana", ANA))
    first = site.client.post(f"/candidates/{keys[3]}/decision", data={**form, "status": "accepted"},
                             auth=("ben", BEN), follow_redirects=False)
    assert first.status_code == 303
    late = site.client.post(f"/candidates/{keys[3]}/decision", data={**form, "status": "rejected", "note": "mine"},
                            auth=("ana", ANA))
    assert late.status_code == 409 and "changed while you were reviewing" in late.text
    assert ">mine</textarea>" in late.text, "the note typed is kept"


def test_decisions_survive_a_refresh_and_changes_are_flagged(site: Site, keys: list[str]) -> None:
    form = form_of(site.client, keys[4], auth=("ana", ANA))
    site.client.post(f"/candidates/{keys[4]}/decision", data={**form, "status": "accepted", "note": "keep"},
                     auth=("ana", ANA))
    before = site.client.get(f"/api/v1/candidates/{keys[4]}", auth=("ana", ANA)).json()["candidate"]
    cfg = site.config()
    second = record_run(cfg, ANALYSE)  # a refit: new run, same lineage ids, same candidate keys
    after = site.client.get(f"/api/v1/candidates/{keys[4]}", auth=("ana", ANA))
    assert after.json()["run_id"] == second != site.run_id
    c = after.json()["candidate"]
    assert (c["status"], c["reviewer"], c["note"], c["changed_since_review"]) == ("accepted", "ana", "keep", False)
    assert c["decided_at"] == before["decided_at"]
    page = site.client.get(f"/candidates/{keys[4]}").text
    assert "changed since review" not in page and 'status-accepted">accepted' in page
    # The same run's candidates recomputed with less evidence: what the analyst judged has changed.
    steps.candidates(site.config("candidates.evidence_documents=1"), second)
    changed = site.client.get(f"/api/v1/candidates/{keys[4]}", auth=("ana", ANA)).json()["candidate"]
    assert changed["status"] == "accepted" and changed["changed_since_review"] is True
    assert "changed since review" in site.client.get(f"/candidates/{keys[4]}").text
    flagged = site.client.get("/api/v1/candidates", params={"changed": "true", "status": "accepted"},
                              auth=("ana", ANA)).json()
    assert keys[4] in {c["candidate_key"] for c in flagged["items"]}
    assert "changed since review" in site.client.get("/", params={"changed": "true"}).text
