"""The workbench end to end in Chromium: dispatcher, runner's phone, re-plan, board and ledger.

A server on a free 127.0.0.1 port with a fresh SQLite file; a dispatcher logs in, imports the
day, plans it, reads a runner's link (and its QR code) from the board, the runner marks two
stops delivered and one failed at 390×844, the dispatcher re-plans, and the board, the ledger
and the new plan all agree. No JavaScript error and no request leaves the server.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.test_web_runner import CHROMIUM, CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 11, 2)  # a Monday
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _watch(page, base: str, errors: list[str], outside: list[str]) -> None:
    page.on("request", lambda r: None if r.url.startswith(base + "/") or
            r.url.startswith("data:") else outside.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)


def _wait_job(page) -> None:
    """After a plan form's post: the job's page, then its reload once the job is done."""
    page.wait_for_url(re.compile(r"job="))
    page.wait_for_url(lambda u: "job=" not in u, timeout=60_000)
    page.wait_for_load_state()


def test_dispatcher_runner_replan_end_to_end(chengdu, tmp_path) -> None:
    """Import, plan, two delivered and one failed on the runner's phone, re-plan: all agree."""
    import sqlalchemy as sa
    from playwright.sync_api import sync_playwright

    from bianmin.web import create_app
    from bianmin.web.accounts import add_user
    from routing.demo import demo_errands, demo_runners
    from routing.ledger.models import PlanRow
    from routing.region_day import region_outlets

    outlets, bases = region_outlets(chengdu)
    e_csv, r_csv = tmp_path / "errands.csv", tmp_path / "runners.csv"
    demo_errands(outlets, chengdu.demand, n=16, seed=3).to_csv(e_csv, index=False)
    demo_runners(bases, n=3, seed=3, modes=tuple(chengdu.network.modes)).to_csv(r_csv,
                                                                                 index=False)
    app = create_app(region=ROOT / "data" / "chengdu", db_url=f"sqlite:///{tmp_path / 'l.db'}",
                     secret_key=b"e2e-secret-0123456789abcdef-e2e!", cache_dir=tmp_path / "c",
                     plan_time_limit=4.0, pdf_sheets=False)
    app.state.region = chengdu
    app.state.clock = lambda: dt.datetime.combine(DAY, dt.time(10, 30))  # the links' "now"
    add_user(app.state.ledger, "disp", "dispatcher", "dispatch-pass")
    led = app.state.ledger
    errors: list[str] = []
    outside: list[str] = []
    try:
        with serve(app) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            desk = browser.new_context(viewport={"width": 1280, "height": 900})
            page = desk.new_page()
            _watch(page, base, errors, outside)
            # -- the dispatcher logs in and imports the day
            page.goto(f"{base}/dispatch/?day={DAY}")
            assert page.url.endswith("/dispatch/login")  # the board needs a login
            page.fill("input[name=username]", "disp")
            page.fill("input[name=password]", "dispatch-pass")
            page.click("button[type=submit]:has-text('登录')")
            page.wait_for_url(re.compile(r"/dispatch/$"))
            page.goto(f"{base}/dispatch/import?day={DAY}")
            for what, path, n in (("runners", r_csv, "3"), ("errands", e_csv, "16")):
                page.select_option("select[name=what]", what)
                page.set_input_files("input[name=upload]", str(path))
                page.click("form button[type=submit]:has-text('上传')")
                assert n in page.inner_text("#saved")
            # -- plans the day
            page.goto(f"{base}/dispatch/?day={DAY}")
            page.click("#plan-day")
            _wait_job(page)
            morning = led.latest_plan(DAY)
            assert morning is not None and morning["plan_check_ok"] is True
            assert page.inner_text("[data-status=assigned] b") == str(morning["n_served"])
            # -- reads the busiest runner's link and QR code from the board
            route = max(morning["routes"], key=lambda r: len({s["errand_id"]
                                                               for s in r["stops"]}))
            refs = list(dict.fromkeys(s["errand_id"] for s in route["stops"]))
            assert len(refs) >= 3, "the busiest runner needs three errands"
            row = page.locator(f'#runners tr[data-runner="{route["runner_id"]}"]')
            link = row.locator("a.runner-link").get_attribute("href")
            assert link and link.startswith(f"{base}/r/")
            qr = row.locator("img.qr")
            assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
            assert page.evaluate("(el) => el.complete && el.naturalWidth > 0",
                                 qr.element_handle())  # the CSP lets it show
            # -- the runner, on a phone, marks two delivered and one failed
            phone = browser.new_context(viewport={"width": 390, "height": 844},
                                        is_mobile=True, has_touch=True)
            rp = phone.new_page()
            _watch(rp, base, errors, outside)
            rp.goto(link)
            done, failed = refs[:2], refs[2]
            for ref in done:
                pick = rp.locator(f'li[data-ref="{ref}"] button:has-text("Picked up")')
                if pick.count():
                    pick.first.click()
                    rp.wait_for_load_state()
                rp.locator(f'li[data-ref="{ref}"] button:has-text("Delivered")').first.click()
                rp.wait_for_load_state()
            li = rp.locator(f'li[data-ref="{failed}"]').first
            li.locator("summary").click()
            li.locator("select[name=reason]").select_option(index=0)
            li.locator("input[name=reason_text]").fill("敲门无人 no answer")
            li.locator("button.fail").click()
            rp.wait_for_load_state()
            assert rp.evaluate("document.documentElement.scrollWidth") <= 390
            shown = [rp.locator(f'li[data-ref="{r}"] .st').first.inner_text() for r in refs[:3]]
            assert [s.rsplit(" ", 1)[-1] for s in shown] == ["delivered", "delivered", "failed"]
            phone.close()
            # -- the dispatcher re-plans
            page.goto(f"{base}/dispatch/?day={DAY}")
            page.fill("input[name=at]", "11:00")
            page.click("#replan")
            _wait_job(page)
            cards = {el.get_attribute("data-status"): int(el.locator("b").inner_text())
                     for el in page.locator("#counts [data-status]").all()}
            desk.close()
            browser.close()
    finally:
        app.state.jobs.shutdown()
    assert errors == [], errors
    assert outside == [], outside
    # the ledger agrees with the board, and with what the runner did
    statuses = led.statuses(DAY)
    assert [statuses[r] for r in refs[:3]] == [("delivered", route["runner_id"])] * 2 + [
        ("failed", route["runner_id"])]
    by_status: dict[str, int] = {}
    for s, _ in statuses.values():
        by_status[s] = by_status.get(s, 0) + 1
    assert {k: v for k, v in cards.items() if v} == by_status
    assert cards["delivered"] == 2 and cards["failed"] == 1
    # the new plan is a re-plan, checked, and sends nobody to the failed errand
    with led.session() as s:
        kinds = [(r.kind, r.check_ok) for r in s.scalars(
            sa.select(PlanRow).where(PlanRow.day == DAY).order_by(PlanRow.pk))]
    assert kinds == [("morning", True), ("replan", True)]
    replan = led.latest_plan(DAY)
    assert replan is not None and replan["plan_check_ok"] is True
    routed = {s["errand_id"] for r in replan["routes"] for s in r["stops"]}
    assert failed not in routed
    assert sum(by_status.values()) == 16
