"""Shared fixtures: small sites written into tmp_path, in the digest format."""

from __future__ import annotations

import contextlib
import os
import textwrap
import time
from pathlib import Path

import pytest

from generator.config import Config, load_config

DEFAULT_SITE_TOML = """\
title = "Test Digests"
base_url = "https://example.org/"
description = "Papers of the day"
author = "Tester"
language = "ko"
timezone = "Asia/Seoul"
paginate = 2
feed_limit = 3
search = false
"""


def digest_text(date: str, papers: list[tuple[str, str]] | None = None, *, front: str = "", intro: str = "") -> str:
    """Return a digest in the reference shape; papers are (arxiv id, title) pairs."""
    papers = papers if papers is not None else [("2403.00001", f"Paper one of {date}"), ("2403.00002", f"Paper two of {date}")]
    parts = []
    if front:
        parts.append("---\n" + textwrap.dedent(front).strip() + "\n---\n")
    parts.append(f"## Daily Papers ({date})\n")
    if intro:
        parts.append(intro + "\n")
    for n, (pid, title) in enumerate(papers):
        parts.append(
            f"### [{title}](https://arxiv.org/abs/{pid})\n\n"
            f"![](https://cdn.example.org/thumbs/{pid}.png)\n\n"
            f"Vote: {40 - n}\n\n"
            f"Authors: Kim Minji, Lee Jun, +, Ana Souza\n\n"
            f"- 이 논문은 {title}에 대한 첫 번째 요약입니다.\n"
            f"- ***What's New***: 새로운 방법을 제안합니다.\n"
        )
    return "\n".join(parts)


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05):
    """Return predicate()'s first truthy value, polling until timeout (then fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


def write_site(root: Path, digests: dict[str, str], site_toml: str = DEFAULT_SITE_TOML) -> Config:
    """Write site.toml and digests (path under content/ -> text) into root; return its Config."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(site_toml, encoding="utf-8")
    for rel, text in digests.items():
        path = root / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "content").mkdir(exist_ok=True)
    return load_config(root / "site.toml")


@pytest.fixture
def small_site(tmp_path: Path) -> Config:
    """Return the Config of a three-day site in tmp_path/site."""
    return write_site(tmp_path / "site", {
        "2024-03-13.md": digest_text("2024-03-13"),
        "2024/03/14.md": digest_text("2024-03-14", [("2403.00003", "Third <paper> & \"friends\""), ("2403.00001", "Paper one again")]),
        "2024-03-15.md": digest_text("2024-03-15", front="title: 금요일의 논문\ntags: [multimodal, agents]\nlang: ko"),
    })


# --- browser helpers: a local HTTP server for a built dir and a headless Chromium ---

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"


@contextlib.contextmanager
def serve_dir(root: Path, prefix: str = "/"):
    """Serve root over HTTP on 127.0.0.1 at the path prefix; yield the base URL (ends with /)."""
    import functools
    import http.server
    import threading

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            path = path.split("?", 1)[0].split("#", 1)[0]
            path = "/" + path[len(prefix):] if path.startswith(prefix) else "/\x00missing"
            return super().translate_path(path)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def placeholder_png() -> bytes:
    """Return a small grey PNG, served in place of remote thumbnails (tests have no network)."""
    import struct
    import zlib

    width, height = 120, 65
    raw = b"".join(b"\x00" + b"\x9a\xa5\xb1" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def offline_routes(page) -> None:
    """Answer every request off 127.0.0.1 locally: images with a placeholder, the rest with 404."""
    png = placeholder_png()

    def handle(route):
        url = route.request.url
        if url.startswith("http://127.0.0.1"):
            return route.continue_()
        if route.request.resource_type == "image":
            return route.fulfill(status=200, body=png, content_type="image/png")
        return route.fulfill(status=404, body="")

    page.route("**/*", handle)


def missing(reason: str) -> None:
    """Skip a test whose tool is not installed here; in CI, where .ci/run installs it, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must install it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """Return a headless Chromium (Debian's, never a downloaded one); skip if unavailable."""
    if not Path(CHROMIUM).exists():
        missing(f"browser tests need {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
