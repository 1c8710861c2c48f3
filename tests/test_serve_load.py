"""The preview server under load and faults: requests while edits land, never a failed or partial page."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from conftest import digest_text, write_site
from generator.serve import start_preview
from test_serve import DAY, DAY_PATH, page_has, preview, said, settled_state, site, wait_for  # noqa: F401 - fixtures

CLIENTS = 20
REQUESTS_PER_CLIENT = 50  # 1,000 in all
EDITS = 100
DAYS = [f"2024-03-{day:02d}" for day in range(10, 16)]
EDITED = "2024-03-15"
PATHS = ["/", "/page/2/", "/2024/03/15/", "/2024/03/12/", "/archive/", "/papers/2403.00001/", "/feed.xml",
         "/atom.xml", "/feed.json", "/sitemap.xml", "/static/style.css", "/robots.txt"]


def edited_text(n: int) -> str:
    return digest_text(EDITED, [("2403.00001", f"Load edit {n}"), ("2403.00002", "Steady paper")])


def client(port: int, seed: int, failures: list[str], counts: list[int]) -> None:
    """Send REQUESTS_PER_CLIENT requests over one keep-alive connection; record every failure."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for n in range(REQUESTS_PER_CLIENT):
        path = PATHS[(seed + n) % len(PATHS)]
        try:
            conn.request("GET", path, headers={"Host": f"localhost:{port}"})
            response = conn.getresponse()
            body = response.read()  # http.client raises IncompleteRead on a short body
        except Exception as exc:  # noqa: BLE001 - every kind of failure counts
            failures.append(f"{path}: {type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        counts.append(1)
        kind = response.getheader("Content-Type", "")
        if response.status != 200:
            failures.append(f"{path}: status {response.status}")
        elif kind.startswith("text/html"):
            if not body.rstrip().endswith(b"</html>") or body.count(b"/__digest/livereload.js") != 1:
                failures.append(f"{path}: partial page ({len(body)} bytes)")
            elif path == "/2024/03/15/" and not re.search(rb"Load edit \d+|Paper one of 2024-03-15", body):
                failures.append(f"{path}: page without its papers")
        elif path.endswith(".xml") and not body.rstrip().endswith((b"</rss>", b"</feed>", b"</urlset>")):
            failures.append(f"{path}: partial feed")
        elif path.endswith(".json"):
            try:
                json.loads(body)
            except ValueError:
                failures.append(f"{path}: partial JSON")
    conn.close()


def editor(path: Path, stop: threading.Event) -> None:
    """Land EDITS saves, alternating in-place writes and temp-file renames."""
    for n in range(EDITS):
        if n % 2:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(edited_text(n), encoding="utf-8")
            os.replace(tmp, path)
        else:
            path.write_text(edited_text(n), encoding="utf-8")
        if stop.wait(0.015):
            return


def long_poller(port: int, stop: threading.Event, epochs: list[int]) -> None:
    """Follow the live-reload endpoint like an open page does."""
    epoch = 0
    while not stop.is_set():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", f"/__digest/livereload?epoch={epoch}", headers={"Host": "127.0.0.1"})
            epoch = json.loads(conn.getresponse().read())["epoch"]
            epochs.append(epoch)
        except (OSError, ValueError, http.client.HTTPException):
            time.sleep(0.1)
        finally:
            conn.close()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_requests_while_edits_land(tmp_path):
    config = write_site(tmp_path / "site", {f"{day}.md": digest_text(day) for day in DAYS})
    said: list[str] = []
    with start_preview(config, port=0, say=said.append) as preview:
        started = time.monotonic()
        failures: list[str] = []
        counts: list[int] = []
        epochs: list[int] = []
        stop = threading.Event()
        edits = threading.Thread(target=editor, args=(config.content_dir / f"{EDITED}.md", stop))
        poller = threading.Thread(target=long_poller, args=(preview.port, stop, epochs), daemon=True)
        clients = [threading.Thread(target=client, args=(preview.port, seed, failures, counts))
                   for seed in range(CLIENTS)]
        edits.start()
        poller.start()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(90)
        edits.join(90)
        assert not any(t.is_alive() for t in clients + [edits])
        assert failures == [], failures[:10]
        assert len(counts) == CLIENTS * REQUESTS_PER_CLIENT

        deadline = time.monotonic() + 30  # the final edit is what is served at the end
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=30)
            conn.request("GET", "/2024/03/15/", headers={"Host": "localhost"})
            body = conn.getresponse().read()
            conn.close()
            state = preview.rebuilder.state()
            if f"Load edit {EDITS - 1}<".encode() in body and state.ok and not state.building:
                break
            assert time.monotonic() < deadline, "the last edit was never served"
            time.sleep(0.05)
        stop.set()
        rebuilds = sum("rebuilt in" in line for line in said) - 1
        assert 1 <= rebuilds < EDITS  # edits were rebuilt, debounced
        assert len(epochs) >= 1
        assert time.monotonic() - started < 90


@pytest.mark.timeout(60)
def test_many_idle_connections_do_not_block_the_server(tmp_path):
    import socket

    config = write_site(tmp_path / "site", {f"{DAYS[0]}.md": digest_text(DAYS[0])})
    with start_preview(config, port=0, say=lambda line: None) as preview:
        idle = []
        try:
            for _ in range(300):  # more than the server keeps open: the extra ones are dropped
                try:
                    idle.append(socket.create_connection(("127.0.0.1", preview.port), timeout=5))
                except OSError:
                    break
            deadline = time.monotonic() + 30
            while True:  # the server stays responsive once the idle flood is dropped or capped
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=5)
                    conn.request("GET", "/", headers={"Host": "localhost"})
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                for sock in idle[:50]:
                    sock.close()
                idle = idle[50:]
                assert time.monotonic() < deadline
        finally:
            for sock in idle:
                sock.close()


# --- faults: a half-written file, a content dir that goes away and comes back ----------------

# The site, said and preview fixtures come from test_serve (imported above).


def test_half_written_file_errors_then_recovers(preview, site):
    full = digest_text(DAY, [("2403.00001", "Written in two halves")], front="title: Halves\ntags: [a, b]")
    cut = full.index("tags:") + 8
    with open(site.content_dir / "2024-03-13.md", "w", encoding="utf-8") as handle:
        handle.write(full[:cut])  # front matter cut inside a YAML list
        handle.flush()
        state = settled_state(preview, lambda s: not s["ok"])
        assert any(p.startswith("content/2024-03-13.md:") for p in state["problems"])
        assert page_has(preview.port, DAY_PATH, "Paper one of 2024-03-13")
        handle.write(full[cut:])
    settled_state(preview, lambda s: s["ok"])
    assert page_has(preview.port, DAY_PATH, "Written in two halves")


def test_content_dir_deleted_and_restored(preview, site, said):
    saved = site.root / "saved-content"
    shutil.copytree(site.content_dir, saved)
    shutil.rmtree(site.content_dir)
    state = settled_state(preview, lambda s: not s["ok"])
    assert any("content dir does not exist" in p for p in state["problems"])
    assert page_has(preview.port, DAY_PATH, "Paper one of 2024-03-13")  # last good site kept
    rebuilds = len(said)
    time.sleep(1.5)  # no busy loop while it is gone: at most a rebuild or two, not hundreds
    assert len(said) - rebuilds < 10
    shutil.copytree(saved, site.content_dir)
    settled_state(preview, lambda s: s["ok"])
    (site.content_dir / "2024-03-13.md").write_text(digest_text(DAY, [("2403.00001", "After restore")]), "utf-8")
    wait_for(lambda: page_has(preview.port, DAY_PATH, "After restore"))  # the new dir is watched again
