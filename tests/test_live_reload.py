"""Live reload in a real browser: an open page follows edits on disk and shows build errors by itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import digest_text, offline_routes, write_site
from generator.serve import start_preview

pytestmark = pytest.mark.browser

DAY = "2024-03-13"


@pytest.fixture
def site(tmp_path: Path):
    return write_site(tmp_path / "site", {
        f"{DAY}.md": digest_text(DAY, [("2403.00001", "Original title")]),
        "2024-03-14.md": digest_text("2024-03-14"),
    })


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    offline_routes(page)
    yield page
    context.close()


def test_open_page_follows_edits_and_errors(site, page):
    source = site.content_dir / f"{DAY}.md"
    with start_preview(site, port=0, say=lambda line: None) as preview:
        page.goto(preview.url + "2024/03/13/")
        assert "Original title" in page.inner_text("body")
        page.evaluate("window.__notReloaded = true")  # gone if the page reloads

        source.write_text(digest_text(DAY, [("2403.00001", "Edited on disk")]), "utf-8")
        page.wait_for_function("document.body && document.body.innerText.includes('Edited on disk')", timeout=20_000)
        assert page.evaluate("window.__notReloaded === undefined")  # the page reloaded itself

        source.write_text(digest_text(DAY, front="date: 2024-04-01"), "utf-8")  # front matter and heading disagree
        overlay = page.locator("#digest-error-overlay")
        overlay.wait_for(state="visible", timeout=20_000)
        text = overlay.inner_text()
        assert f"content/{DAY}.md:" in text and ": error: " in text
        assert "Edited on disk" in page.inner_text("body")  # the last good build stays under the overlay

        source.write_text(digest_text(DAY, [("2403.00001", "Fixed title")]), "utf-8")
        page.wait_for_function("document.body && document.body.innerText.includes('Fixed title')", timeout=20_000)
        overlay.wait_for(state="detached", timeout=20_000)
        assert page.locator("#digest-error-overlay").count() == 0


def test_page_opened_while_broken_shows_the_overlay(site, page):
    source = site.content_dir / f"{DAY}.md"
    with start_preview(site, port=0, say=lambda line: None) as preview:
        source.write_text("---\ntitle: [unclosed\n---\n## Daily Papers (2024-03-13)\n", "utf-8")
        deadline = time.monotonic() + 20
        while preview.rebuilder.state().ok or preview.rebuilder.state().building:
            assert time.monotonic() < deadline, "the bad edit was never built"
            time.sleep(0.05)
        page.goto(preview.url)
        page.locator("#digest-error-overlay").wait_for(state="visible", timeout=20_000)
        assert f"content/{DAY}.md:" in page.locator("#digest-error-overlay").inner_text()
        source.write_text(digest_text(DAY, [("2403.00001", "Back to good")]), "utf-8")
        page.locator("#digest-error-overlay").wait_for(state="detached", timeout=20_000)
        page.wait_for_function("document.body && document.body.innerText.includes('Back to good')", timeout=20_000)


def set_visibility(page, state: str) -> None:
    """Make the page's document report state ('hidden' or 'visible') and tell its listeners, as a tab switch does."""
    page.evaluate("""state => {
        Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", state)


def test_hidden_pages_free_their_connection_and_catch_up_when_shown(site, chromium):
    context = chromium.new_context()
    try:
        pages = [context.new_page() for _ in range(7)]
        for page in pages:
            offline_routes(page)
        with start_preview(site, port=0, say=lambda line: None) as preview:
            for page in pages[:6]:  # six open pages: as many connections as the browser opens to one server
                page.goto(preview.url + "2024/03/13/")
                page.evaluate("window.__notReloaded = true")
            for page in pages[:6]:
                set_visibility(page, "hidden")
            # with six polls held open, the seventh page would wait for one to end (20 s)
            pages[6].goto(preview.url + "archive/", timeout=10_000)
            epoch = preview.rebuilder.state().epoch
            (site.content_dir / f"{DAY}.md").write_text(digest_text(DAY, [("2403.00001", "While hidden")]), "utf-8")
            deadline = time.monotonic() + 20
            while preview.rebuilder.state().epoch == epoch or preview.rebuilder.state().building:
                assert time.monotonic() < deadline, "the edit was never built"
                time.sleep(0.05)
            time.sleep(0.3)
            assert pages[0].evaluate("window.__notReloaded === true")  # hidden: it does not poll
            set_visibility(pages[0], "visible")
            pages[0].wait_for_function("document.body && document.body.innerText.includes('While hidden')",
                                       timeout=20_000)
            assert pages[1].evaluate("window.__notReloaded === true")  # still hidden, still waiting
    finally:
        context.close()
