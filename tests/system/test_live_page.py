"""The live page in a real browser (Debian's chromium, driven by Playwright): each agent's
text streams into its own column before the final answer appears."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from murmurnet import GenerationRequest, RunConfig, ScriptedBackend
from murmurnet.api import Runtime
from murmurnet.server import create_app

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="chromium is not installed (make setup-test)"
)
playwright_api = pytest.importorskip("playwright.sync_api")


def reply(request: GenerationRequest) -> str:
    if request.tag == "output":
        return "Kyoto was the capital for over a thousand years."
    return f"Thinking aloud as {request.tag}: Kyoto has many temples and old streets."


@pytest.fixture
def server() -> Iterator[str]:
    import uvicorn

    fake = ScriptedBackend(reply, word_delay=0.03)
    runtime = Runtime(RunConfig(agents=2, open_answer="discuss"), backends={"default": fake})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(runtime, api_key="k"), port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    runtime.close()


def test_agents_stream_live_before_the_answer(server: str, tmp_path: Path) -> None:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page()
        page.goto(server)
        page.fill("#key", "k")
        page.dispatch_event("#key", "change")
        page.wait_for_function("document.querySelectorAll('#profile option').length > 0")
        page.fill("#question", "Tell me about Kyoto.")
        page.click("button[type=submit]")
        page.wait_for_function(
            "[...document.querySelectorAll('.agent .stage span')].filter(s => s.textContent)"
            ".length == 2"
        )
        assert page.text_content("#answer") == ""  # agents first, the answer later
        columns = page.locator(".agent h3").all_text_contents()
        assert len(columns) == 2 and all("·" in c for c in columns)  # agent number and role
        page.wait_for_function("document.querySelector('#answer').textContent.length > 0")
        page.wait_for_function("document.querySelector('#status').textContent.startsWith('done')")
        assert "Kyoto was the capital" in (page.text_content("#answer") or "")
        assert page.locator("#timings .bar").count() >= 3  # round, summary, output
        page.screenshot(path=str(tmp_path / "live-page.png"), full_page=True)
        browser.close()
    assert (tmp_path / "live-page.png").stat().st_size > 10_000
