"""The workbench's accounts, login, CSRF and anonymous refusals (TestClient, no browser)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

fastapi = pytest.importorskip("fastapi")  # noqa: F841 - a runtime dependency; fails loudly below
from fastapi.testclient import TestClient  # noqa: E402

from bianmin.web import create_app  # noqa: E402
from bianmin.web.accounts import add_user, verify_user  # noqa: E402
from bianmin.web.security import LoginThrottle  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["/dispatch/", "/dispatch/intake", "/dispatch/import", "/dispatch/month",
         "/dispatch/planner", "/dispatch/audit", "/dispatch/export?month=2026-11",
         "/dispatch/download/2026-11-02/routes.xlsx"]
APIS = ["/api/board", "/api/errands", "/api/events", "/api/plan", "/api/jobs/x"]


def _app(url: str, tmp_path: Path):
    return create_app(region=ROOT / "data" / "chengdu", db_url=url, secret_key=b"k" * 32,
                      cache_dir=tmp_path / "cache", pdf_sheets=False)


def _csrf(client: TestClient, page: str = "/dispatch/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text).group(1)


def _login(client: TestClient, name: str, password: str):
    return client.post("/dispatch/login", data={"username": name, "password": password,
                                                "csrf_token": _csrf(client)},
                       follow_redirects=False)


@pytest.fixture
def app(tmp_path):
    a = _app(f"sqlite:///{tmp_path / 'l.db'}", tmp_path)
    add_user(a.state.ledger, "ann", "dispatcher", "correct horse")
    add_user(a.state.ledger, "root", "admin", "battery staple")
    return a


def test_anonymous_refused(app):
    """Every dispatcher page redirects to the login; every API answers 401."""
    c = TestClient(app)
    assert c.get("/healthz").json()["ok"] is True
    for p in PAGES:
        r = c.get(p, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/dispatch/login", p
    for p in APIS:
        assert c.get(p).status_code == 401, p
    for p in ("/dispatch/plan", "/dispatch/intake", "/dispatch/logout"):
        assert c.post(p, data={}, follow_redirects=False).status_code in (303, 422), p


def test_login_and_roles(app):
    """A right password opens the board; a dispatcher may not read the audit; admins may."""
    c = TestClient(app)
    assert _login(c, "ann", "wrong password").status_code == 401
    r = _login(c, "ann", "correct horse")
    assert r.status_code == 303 and r.headers["location"] == "/dispatch/"
    assert c.get("/api/board").json()["counts"]["created"] == 0
    assert c.get("/dispatch/audit").status_code == 403
    a = TestClient(app)
    _login(a, "root", "battery staple")
    page = a.get("/dispatch/audit").text
    assert "login_failed" in page and ">ann<" in page


def test_csrf_required(app):
    """A login or a form without the session's CSRF token is refused with 403."""
    c = TestClient(app)
    c.get("/dispatch/login")
    r = c.post("/dispatch/login", data={"username": "ann", "password": "correct horse"})
    assert r.status_code == 403
    _login(c, "ann", "correct horse")
    assert c.post("/dispatch/plan", data={"mode": "morning"}).status_code == 403
    assert c.post("/dispatch/plan", data={"mode": "morning", "csrf_token": "forged"}
                  ).status_code == 403


def test_throttle_grows():
    """After 5 failures each further failure doubles the wait; a success clears it."""
    now = [0.0]
    th = LoginThrottle(clock=lambda: now[0])
    keys = ["name:a", "ip:1"]
    assert [th.failed(keys) for _ in range(8)] == [0, 0, 0, 0, 0, 1.0, 2.0, 4.0]
    assert th.delay(keys) == 4.0
    now[0] = 3.0
    assert th.delay(keys) == 1.0
    th.succeeded(keys)
    assert th.delay(keys) == 0.0


def test_ten_wrong_passwords_slow_down(app):
    """The sixth and later wrong passwords are slowed; then even the right one waits (429)."""
    import time

    c = TestClient(app)
    t0 = time.monotonic()
    codes = [_login(c, "ann", f"wrong {i}").status_code for i in range(10)]
    # 6th failure: locked 1 s; the 7th (0.5 s later) refused; the 8th tried, locked 2 s; …
    assert codes == [401] * 6 + [429, 401, 429, 429]
    assert time.monotonic() - t0 >= 5 * 0.5  # the 6th to 10th answers were held back
    assert _login(c, "ann", "correct horse").status_code == 429


def test_intake_errors_next_to_fields(app):
    """A typed errand with a bad phone-free point is refused field by field; a good one stored."""
    c = TestClient(app)
    _login(c, "ann", "correct horse")
    tok = _csrf(c, "/dispatch/intake")
    bad = {"csrf_token": tok, "id": "H1", "kind": "home_visit", "pickup_lon": "abc",
           "pickup_lat": "30.66", "pickup_latest": "17:00", "priority": "1", "service_minutes": "20",
           "contact_name": "<script>alert(1)</script>"}
    r = c.post("/dispatch/intake?day=2026-11-02", data=bad)
    assert r.status_code == 422
    assert 'data-field="pickup_lon"' in r.text
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    good = dict(bad, pickup_lon="104.065", contact_name="O'Brien'; DROP TABLE errands;--")
    r = c.post("/dispatch/intake?day=2026-11-02", data=good)
    assert r.status_code == 200, r.text[-2000:]
    (e,) = app.state.ledger.errands(__import__("datetime").date(2026, 11, 2))
    assert e.contact_name == "O'Brien'; DROP TABLE errands;--"


def test_accounts_on_postgresql(ledger_url, tmp_path):
    """Users and the audit work alike on SQLite and PostgreSQL (migration 0002)."""
    a = _app(ledger_url, tmp_path)
    try:
        add_user(a.state.ledger, "pg", "dispatcher", "long enough")
        assert verify_user(a.state.ledger, "pg", "long enough").role == "dispatcher"
        assert verify_user(a.state.ledger, "pg", "nope") is None
        c = TestClient(a)
        assert _login(c, "pg", "long enough").status_code == 303
        assert c.get("/api/board").status_code == 200
    finally:
        a.state.ledger.close()


def test_planning_map_built_once_served_read_only(app, tmp_path, chengdu):
    """The planner's map: login required, built on first open, no file outside its folder."""
    import json

    from bianmin.web.planner_map import MAP_CSP

    app.state.region = chengdu  # loaded once per session already
    cache = tmp_path / "cache"
    (cache / "secret.txt").write_text("not for the browser")
    c = TestClient(app)
    for p in ("/dispatch/planner/map/", "/dispatch/planner/map/index.html",
              "/dispatch/planner/map"):
        r = c.get(p, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/dispatch/login", p
    assert not (cache / "planning-map").exists()  # anonymous requests build nothing
    assert _login(c, "ann", "correct horse").status_code == 303
    assert 'href="/dispatch/planner/map/"' in c.get("/dispatch/planner").text
    page = c.get("/dispatch/planner/map/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == MAP_CSP
    folder = cache / "planning-map" / "planning"
    assert page.text == (folder / "index.html").read_text(encoding="utf-8")
    assert "leaflet" in page.text.lower()
    assert not list((cache / "planning-map").glob(".*tmp*"))  # the staging folder is gone
    layer = sorted(folder.glob("*.geojson"))[0]
    got = c.get(f"/dispatch/planner/map/{layer.name}")
    assert got.status_code == 200
    assert json.loads(got.text)["type"] == "FeatureCollection"
    stamp = (folder / "index.html").stat().st_mtime_ns
    assert c.get("/dispatch/planner/map/index.html").text == page.text
    assert (folder / "index.html").stat().st_mtime_ns == stamp  # not rebuilt
    (folder / "out.txt").symlink_to(cache / "secret.txt")
    for p in ("..%2F..%2Fsecret.txt", "%2E%2E/%2E%2E/secret.txt", "%2Fetc%2Fpasswd",
              "..%2F..%2F..%2Fl.db", "out.txt", "nope.html", "assets"):
        r = c.get(f"/dispatch/planner/map/{p}")
        assert r.status_code == 404 and "not for the browser" not in r.text, p
