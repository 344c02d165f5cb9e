"""Screenshots of the admin for the README: the KPI page and "Connect your shop", in English and Russian.

    .venv/bin/python scripts/screenshots.py            # writes docs/screenshots/*.png

Builds a throw-away SQLite database with the demo catalogue and its simulated history
(`load_demo --history`), serves it with `runserver` on a free local port, and drives Debian's
Chromium (/usr/bin/chromium) at 1400 px. Nothing outside docs/screenshots/ is written.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, **kwargs):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server at {url} did not start")


def shoot(base: str, language: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale={"en": "en-US", "ru": "ru-RU"}[language])
    page = context.new_page()
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "moodstream")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")

    page.goto(f"{base}/admin/tracking/dailykpi/")
    page.wait_for_selector("#kpi-interval-chart[data-rendered=true]")
    page.screenshot(path=str(OUT / f"kpi-{language}.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 900})

    # The partner's own view of "Connect your shop", with a test conversion just sent.
    partner_context = browser.new_context(viewport={"width": 1400, "height": 900},
                                          locale={"en": "en-US", "ru": "ru-RU"}[language])
    partner_page = partner_context.new_page()
    partner_page.goto(f"{base}/admin/login/")
    partner_page.fill("input[name=username]", "kinoport")
    partner_page.fill("input[name=password]", "moodstream")
    partner_page.click("input[type=submit]")
    partner_page.wait_for_selector("#user-tools")
    partner_page.click("#user-tools a[href$='/connect/']")
    partner_page.click("form:has(input[value=postback_key]) button")
    partner_page.click("#send-test")
    partner_page.wait_for_selector("#test-result")
    partner_page.screenshot(path=str(OUT / f"connect-{language}.png"), full_page=True)

    partner_page.goto(f"{base}/admin/catalog/offer/")
    partner_page.screenshot(path=str(OUT / f"offers-{language}.png"), clip={"x": 0, "y": 0, "width": 1400, "height": 700})
    context.close()
    partner_context.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DEBUG": "true", "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp}/screens.sqlite3",
               "REDIS_URL": "", "LOG_LEVEL": "WARNING"}
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_demo", "--history", stdout=subprocess.DEVNULL)
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/healthz")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                for language in ("en", "ru"):
                    shoot(base, language, browser)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    for path in sorted(OUT.glob("*.png")):
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
