"""Runners' pages end to end: a day planned through the ledger, a runner's link opened at
390×844 in Chromium, two stops done and one failed, the ledger's board reflecting it.

The helpers here (:func:`plan_ledger_day`, :func:`serve`) are shared with
``test_web_security.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REGION = ROOT / "data" / "chengdu"
DAY = dt.date(2026, 11, 2)  # a Monday
SECRET = b"webr-test-secret-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def plan_ledger_day(reg, db_url: str, folder: Path, *, n_errands: int = 12, n_runners: int = 3,
                    names: dict[int, str] | None = None) -> dict:
    """Import demo errands and runners into a fresh ledger, plan the day, store the plan.

    ``names`` overrides the contact name of errands by row. Returns ``{"plan", "errands"}``
    (the routing plan and the errands table as imported).
    """
    from routing.demo import demo_errands, demo_runners
    from routing.ledger import IntakeRules, Ledger
    from routing.ledger.store import errand_frame, runner_frame
    from routing.region_day import plan_region_routes, region_outlets

    outlets, bases = region_outlets(reg)
    errands = demo_errands(outlets, reg.demand, n=n_errands, seed=5)
    for row, name in (names or {}).items():
        errands.loc[errands.index[row], "contact_name"] = name
    runners = demo_runners(bases, n=n_runners, seed=5, modes=tuple(reg.network.modes))
    e_path, r_path = folder / "errands.csv", folder / "runners.csv"
    errands.to_csv(e_path, index=False)
    runners.to_csv(r_path, index=False)
    led = Ledger(db_url)
    rules = IntakeRules.from_region(reg)
    led.import_errands(e_path, DAY, rules, actor="test")
    led.import_runners(r_path, rules)
    plan = plan_region_routes(reg, errands=errand_frame(led.errands(DAY)),
                              runners=runner_frame(led.runners()), day=DAY, time_limit=6)
    led.save_plan(plan, actor="test")
    led.close()
    return {"plan": plan, "errands": errands}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free 127.0.0.1 port; yield its base URL.

    Like ``bianmin serve``: uvicorn's own access log off (it would print the runners' tokens);
    the app logs each request itself with the tokens redacted.
    """
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info",
                                           access_log=False, lifespan="off"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    t0 = time.monotonic()
    while not server.started:
        if time.monotonic() - t0 > 30 or not th.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        th.join(timeout=15)


@pytest.fixture(scope="module")
def day(chengdu, tmp_path_factory):
    """A planned day in a fresh SQLite ledger and the app on it."""
    from bianmin.web.app import create_app

    folder = tmp_path_factory.mktemp("webrday")
    url = f"sqlite:///{folder / 'ledger.db'}"
    got = plan_ledger_day(chengdu, url, folder)
    app = create_app(region=REGION, db_url=url, secret_key=SECRET, cache_dir=folder / "cache")
    app.state.clock = lambda: dt.datetime.combine(DAY, dt.time(9, 30))  # the links' "now"
    yield {**got, "app": app, "url": url}
    app.state.ledger.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _busiest(plan):
    return max(plan.routes, key=lambda r: len({s.errand_id for s in r.stops}))


def test_runner_link_shows_own_stops_in_order(day) -> None:
    """The page lists exactly this runner's stops, in the plan's order, masked phones."""
    from fastapi.testclient import TestClient

    from bianmin.web.tokens import runner_link

    route = _busiest(day["plan"])
    with TestClient(day["app"]) as c:
        r = c.get(runner_link(day["app"], route.runner_id, DAY))
    assert r.status_code == 200
    html = r.text
    shown = re.findall(r'<li class="stop" id="s-(\d+)" data-ref="([^"]*)"', html)
    assert shown == [(str(s.order), s.errand_id) for s in sorted(route.stops,
                                                                key=lambda s: s.order)]
    others = {s.errand_id for r in day["plan"].routes if r.runner_id != route.runner_id
              for s in r.stops}
    mine = {s.errand_id for s in route.stops}
    assert all(f'data-ref="{ref}"' in html for ref in mine)
    assert not any(f'data-ref="{ref}"' in html for ref in others - mine)
    phones = {str(p) for p in day["errands"]["contact_phone"] if str(p)}
    assert not any(p in html for p in phones if len(p) >= 7)  # masked, and no call link
    assert "tel:" not in html
    assert "uri.amap.com/navigation" in html and "api.map.baidu.com/marker" in html


def test_runner_marks_two_done_one_failed_in_chromium(day, browser) -> None:
    """At 390×844: two stops delivered and one failed; the ledger's board and statuses agree."""
    from bianmin.web.tokens import runner_link

    plan, app = day["plan"], day["app"]
    route = _busiest(plan)
    refs = list(dict.fromkeys(s.errand_id for s in route.stops))
    assert len(refs) >= 3, "the busiest runner needs three errands"
    done, failed = refs[:2], refs[2]
    led = app.state.ledger
    before = led.board(DAY)
    with serve(app) as base:
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
        page = ctx.new_page()
        errors: list[str] = []
        outside: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
        page.goto(runner_link(app, route.runner_id, DAY, base_url=base))
        for ref in done:
            li = page.locator(f'li[data-ref="{ref}"]')
            pick = li.locator("button:has-text('Picked up')")
            if pick.count():
                pick.first.click()
                page.wait_for_load_state()
            page.locator(f'li[data-ref="{ref}"] button:has-text("Delivered")').first.click()
            page.wait_for_load_state()
        li = page.locator(f'li[data-ref="{failed}"]').first
        li.locator("summary").click()
        li.locator("select[name=reason]").select_option(index=0)
        li.locator("input[name=reason_text]").fill("敲门无人 no answer")
        li.locator("button.fail").click()
        page.wait_for_load_state()
        width = page.evaluate("document.documentElement.scrollWidth")
        texts = [page.locator(f'li[data-ref="{r}"] .st').first.inner_text() for r in refs[:3]]
        ctx.close()
    assert errors == [] and outside == []
    assert width <= 390  # nothing wider than the phone
    assert texts[0].endswith("delivered") and texts[1].endswith("delivered")
    assert texts[2].endswith("failed")
    st = led.statuses(DAY)
    assert [st[r] for r in refs[:3]] == [("delivered", route.runner_id)] * 2 + [
        ("failed", route.runner_id)]
    after = led.board(DAY)
    assert after["delivered"] == before["delivered"] + 2
    assert after["failed"] == before["failed"] + 1
    ev = [e for e in led.events(DAY) if e.actor == f"runner:{route.runner_id}"]
    assert {(e.errand_ref, e.kind) for e in ev if e.kind != "picked_up"} == {
        (done[0], "delivered"), (done[1], "delivered"), (failed, "failed")}
    assert [e.reason for e in ev if e.kind == "failed"][0].endswith("敲门无人 no answer")


def test_rating_once(day) -> None:
    """A delivered errand's citizen rates once; the second time the page says already rated."""
    from fastapi.testclient import TestClient

    from bianmin.web.tokens import csrf_for, rating_link

    app, led = day["app"], day["app"].state.ledger
    ref = next(r for r, (s, _) in led.statuses(DAY).items() if s == "assigned")
    led.record(DAY, ref, "delivered", actor="test")
    link = rating_link(app, DAY, ref)
    csrf = csrf_for(SECRET, link.rsplit("/", 1)[1])
    with TestClient(app) as c:
        assert 'name="rating"' in c.get(link).text
        r1 = c.post(link, data={"rating": "4", "comment": "很好", "csrf_token": csrf})
        r2 = c.post(link, data={"rating": "1", "comment": "again", "csrf_token": csrf})
        again = c.get(link).text
    assert r1.status_code == 200 and 'id="thanks"' in r1.text
    assert r2.status_code == 409 and 'id="already"' in r2.text and 'id="already"' in again
    rated = [e for e in led.events(DAY, ref) if e.kind == "rated"]
    assert [(e.rating, e.comment, e.actor) for e in rated] == [(4, "很好", "citizen")]


def test_record_checks_assignee_and_audits_in_one_transaction(ledger_url) -> None:
    """`record(expect_runner=, audit=)`: wrong runner refused, event and audit line together."""
    import pandas as pd
    import sqlalchemy as sa

    from routing.ledger import Ledger, LedgerError
    from routing.ledger.models import AuditRow
    from routing.ledger.store import NotAssignee
    from routing.tables import errands_from_frame, runners_from_frame

    led = Ledger(ledger_url, pool_size=3)
    led.add_runners(runners_from_frame(pd.DataFrame(
        [{"id": r, "name": r, "base_outlet_id": "B0", "shift_start": "08:00",
          "shift_end": "18:00", "mode": "walk"} for r in ("R1", "R2")], dtype=object),
        file="t", base_ids=["B0"]))
    led.add_errands(errands_from_frame(pd.DataFrame(
        [{"id": "H1", "kind": "home_visit", "pickup_lon": "104.0", "pickup_lat": "30.6",
          "service_minutes": "10", "priority": "2"}], dtype=object), file="t"), DAY)
    led.record(DAY, "H1", "assigned", runner_id="R1")
    begins = []
    sa.event.listen(led.engine, "begin", lambda conn: begins.append(1))

    def audits() -> list[tuple]:
        with led.session() as s:
            return [(a.actor, a.action, a.day, a.errand_ref)
                    for a in s.scalars(sa.select(AuditRow).order_by(AuditRow.pk))]

    with pytest.raises(NotAssignee):
        led.record(DAY, "H1", "picked_up", runner_id="R2", actor="runner:R2",
                   expect_runner="R2", audit="picked_up")
    with pytest.raises(NotAssignee):
        led.record(DAY, "nope", "picked_up", runner_id="R1", expect_runner="R1")
    begins.clear()
    led.record(DAY, "H1", "picked_up", runner_id="R1", actor="runner:R1", expect_runner="R1",
               audit="picked_up")
    assert len(begins) == 1  # the check, the event and the audit line: one transaction
    with pytest.raises(LedgerError, match="picked_up: cannot record picked_up"):
        led.record(DAY, "H1", "picked_up", runner_id="R1", actor="runner:R1",
                   expect_runner="R1", audit="picked_up")
    assert audits() == [("runner:R1", "picked_up", DAY, "H1")]  # refused ones left none
    assert [e.kind for e in led.events(DAY, "H1")] == ["created", "assigned", "picked_up"]
    assert led.statuses(DAY)["H1"] == ("picked_up", "R1")
    led.close()


def test_runner_post_is_one_transaction(day) -> None:
    """A runner's accepted post opens exactly one database transaction and audits itself."""
    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from bianmin.web.tokens import csrf_for, make_runner_token
    from routing.ledger.models import AuditRow

    app = day["app"]
    led = app.state.ledger
    ref, (_, runner) = next((r, v) for r, v in led.statuses(DAY).items()
                            if v[0] == "assigned" and v[1])
    tok = make_runner_token(SECRET, runner, DAY)
    begins = []
    listener = lambda conn: begins.append(1)  # noqa: E731
    sa.event.listen(led.engine, "begin", listener)
    try:
        with TestClient(app) as c:
            r = c.post(f"/r/{tok}/event", data={"ref": ref, "kind": "picked_up",
                                                 "csrf_token": csrf_for(SECRET, tok)},
                       follow_redirects=False)
    finally:
        sa.event.remove(led.engine, "begin", listener)
    assert r.status_code == 303 and len(begins) == 1
    assert led.statuses(DAY)[ref] == ("picked_up", runner)
    with led.session() as s:
        last = s.scalars(sa.select(AuditRow).order_by(AuditRow.pk.desc())).first()
    assert (last.actor, last.action, last.errand_ref) == (f"runner:{runner}", "picked_up", ref)
