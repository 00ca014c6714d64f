"""End to end in Chromium: a dispatcher logs in, imports the day, plans it, sees the board."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.test_map import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
DAY = "2026-11-02"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, chengdu):
    """The workbench on a fresh SQLite file, served by uvicorn in a thread on a free port."""
    import uvicorn

    from bianmin.web import create_app
    from bianmin.web.accounts import add_user

    tmp = tmp_path_factory.mktemp("web")
    app = create_app(region=ROOT / "data" / "chengdu", db_url=f"sqlite:///{tmp / 'l.db'}",
                     secret_key=b"s" * 32, cache_dir=tmp / "cache", plan_time_limit=8.0,
                     pdf_sheets=False)
    app.state.region = chengdu  # loaded once per session already
    add_user(app.state.ledger, "disp", "dispatcher", "dispatch-pass")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        access_log=False))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started
    yield {"url": f"http://127.0.0.1:{port}", "app": app, "tmp": tmp}
    srv.should_exit = True
    th.join(10)
    app.state.jobs.shutdown()


@pytest.fixture(scope="module")
def day_files(server, chengdu):
    """The day's errands and runners as CSV, generated like `bianmin demo` does."""
    from routing.demo import demo_errands, demo_runners
    from routing.region_day import region_outlets

    outlets, bases = region_outlets(chengdu)
    e = server["tmp"] / "errands.csv"
    r = server["tmp"] / "runners.csv"
    demo_errands(outlets, chengdu.demand, n=16, seed=3).to_csv(e, index=False)
    demo_runners(bases, n=4, seed=3, modes=tuple(chengdu.network.modes)).to_csv(r, index=False)
    return e, r


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_dispatcher_day(server, day_files, browser):
    """Log in, import runners and errands, plan the day, see it on the board and downloads."""
    base = server["url"]
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                              has_touch=True)
    page = ctx.new_page()
    outside: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base + "/") or
            r.url.startswith("data:") else outside.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{base}/dispatch/?day={DAY}")
        assert page.url.endswith("/dispatch/login")
        page.fill("input[name=username]", "disp")
        page.fill("input[name=password]", "dispatch-pass")
        page.click("button[type=submit]:has-text('登录')")
        page.wait_for_url(re.compile(r"/dispatch/$"))
        errands, runners = day_files
        page.goto(f"{base}/dispatch/import?day={DAY}")
        page.select_option("select[name=what]", "runners")
        page.set_input_files("input[name=upload]", str(runners))
        page.click("form button[type=submit]:has-text('上传')")
        assert "4" in page.inner_text("#saved")
        page.select_option("select[name=what]", "errands")
        page.set_input_files("input[name=upload]", str(errands))
        page.click("form button[type=submit]:has-text('上传')")
        assert "16" in page.inner_text("#saved")
        page.goto(f"{base}/dispatch/?day={DAY}")
        assert page.inner_text("[data-status=created] b") == "16"
        page.click("#plan-day")
        page.wait_for_selector("#plan-summary b", timeout=90_000)
        led = server["app"].state.ledger
        import datetime as dt

        board = led.board(dt.date.fromisoformat(DAY))
        plan = led.latest_plan(dt.date.fromisoformat(DAY))
        assert plan is not None and plan["plan_check_ok"] is True
        assert board["assigned"] == plan["n_served"] > 0
        assert page.inner_text("[data-status=assigned] b") == str(plan["n_served"])
        page.wait_for_function("document.querySelectorAll('#map path').length > 0")
        sheet = page.locator("#downloads a:has-text('HTML')").first
        assert sheet.count() == 1
        r = page.request.get(base + sheet.get_attribute("href"))
        assert r.status == 200 and "text/html" in r.headers["content-type"]
        assert page.request.get(f"{base}/dispatch/download/{DAY}/routes.xlsx").status == 200
        page.goto(f"{base}/dispatch/month?month=2026-11&lang=en")
        assert page.inner_text("#n-errands") == "16"
        assert "Month" in page.inner_text("h1")
        assert errors == [], errors
        assert outside == [], outside
    finally:
        ctx.close()


def test_import_lists_every_problem(server, browser):
    """A bad file is refused with each problem by row and column; nothing is stored."""
    import datetime as dt

    from fastapi.testclient import TestClient

    bad = server["tmp"] / "bad.csv"
    bad.write_text("id,kind,pickup_lon,pickup_lat,pickup_latest,service_minutes,priority\n"
                   "B1,home_visit,abc,30.66,17:00,20,1\n"
                   "B2,teleport,104.06,30.66,17:00,20,1\n", encoding="utf-8")
    c = TestClient(server["app"])
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/dispatch/login").text)[1]
    c.post("/dispatch/login", data={"username": "disp", "password": "dispatch-pass",
                                    "csrf_token": tok})
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/dispatch/import").text)[1]
    r = c.post("/dispatch/import?day=2026-11-03", data={"what": "errands", "csrf_token": tok},
               files={"upload": ("bad.csv", bad.read_bytes(), "text/csv")})
    assert r.status_code == 422
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td>", r.text)
    assert ("1", "pickup_lon") in rows and ("2", "kind") in rows
    assert server["app"].state.ledger.errands(dt.date(2026, 11, 3)) == []
