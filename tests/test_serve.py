"""`digest serve`: a real server on a free port, real files, real HTTP."""

from __future__ import annotations

import errno
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from watchdog.observers import Observer

from conftest import DEFAULT_SITE_TOML, digest_text, wait_for, write_site
from generator.serve import contained_file, host_allowed, is_loopback, serve, start_preview, url_parts
from generator.watch import Rebuilder, Watcher

DAY = "2024-03-13"
DAY_PATH = "/2024/03/13/"
SITE = {
    "2024-03-13.md": digest_text("2024-03-13"),
    "2024/03/14.md": digest_text("2024-03-14", [("2403.00003", "Third paper"), ("2403.00001", "Paper one again")]),
}
ERROR_LINE = re.compile(r"^\S+:\d+: error: ")


def fetch(port: int, path: str, *, method: str = "GET", host: str | None = "127.0.0.1",
          timeout: float = 15) -> tuple[int, dict[str, str], bytes]:
    """Return status, headers and body of one request with the path sent exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host if host != "127.0.0.1" else f"127.0.0.1:{port}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def page_has(port: int, path: str, text: str) -> bool:
    status, _, body = fetch(port, path)
    return status == 200 and text.encode() in body


def livereload(port: int, epoch: int = 0) -> dict:
    """Return the live-reload state (answered at once for an epoch the server does not have)."""
    status, headers, body = fetch(port, f"/__digest/livereload?epoch={epoch}")
    assert status == 200 and headers["content-type"] == "application/json"
    return json.loads(body)


def settled_state(preview, predicate, timeout: float = 15.0) -> dict:
    """Return the live-reload state once no rebuild is pending and predicate(state) holds."""
    def check():
        state = livereload(preview.port)
        return state if not state["building"] and predicate(state) else None
    return wait_for(check, timeout)


def atomic_write(path: Path, text: str) -> None:
    """Write like VS Code and the pipeline do: a temporary file renamed over the target."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@pytest.fixture
def site(tmp_path: Path):
    return write_site(tmp_path / "site", SITE)


@pytest.fixture
def said():
    return []


@pytest.fixture
def preview(site, said):
    with start_preview(site, port=0, say=said.append) as running:
        yield running


# --- pure functions -------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd",
                                 "/..%5c..%5cwindows/win.ini", "/a%00.html", "/%ff.html", "/.git/config",
                                 "/x/../../secret", "/a%0d%0aSet-Cookie:x"])
def test_url_parts_refuses_traversal_and_odd_bytes(raw):
    assert url_parts(raw, "/") is None


def test_url_parts_decodes_once_and_keeps_components():
    assert url_parts("/%252e%252e/", "/") == (("%2e%2e",), True)  # double-encoded stays a plain name
    assert url_parts("/base/2024//03/./13", "/base/") == (("2024", "03", "13"), False)
    assert url_parts("/other/x", "/base/") is None


def test_containment_compares_components_not_prefixes(tmp_path):
    root = tmp_path / "public"
    root.mkdir()
    (tmp_path / "public-leak").mkdir()
    (tmp_path / "public-leak" / "secret.txt").write_text("secret")
    (root / "leak").symlink_to(tmp_path / "public-leak" / "secret.txt")
    (root / "ok.txt").write_text("ok")
    assert contained_file(root, ("..", "public-leak", "secret.txt")) == (None, False)
    assert contained_file(root, ("leak",)) == (None, False)
    assert contained_file(root, ("ok.txt",))[0] == os.path.realpath(root / "ok.txt")


def test_host_check():
    allowed = frozenset({"127.0.0.1"})
    for good in ["127.0.0.1:8000", "localhost:8000", "LOCALHOST", "[::1]:8000", "site.localhost:1", "10.0.0.2:80"]:
        assert host_allowed(good, allowed), good
    for bad in ["attacker.example", "attacker.example:8000", "127.0.0.1.nip.io", "", None, "[::1"]:
        assert not host_allowed(bad, allowed), bad
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


# --- serving --------------------------------------------------------------------------------

def test_binds_loopback_on_a_free_port(preview):
    assert preview.server.server_address[0] == "127.0.0.1"
    assert preview.port != 0 and preview.url == f"http://127.0.0.1:{preview.port}/"


@pytest.mark.parametrize("path, content_type", [
    ("/", "text/html; charset=utf-8"),
    (DAY_PATH, "text/html; charset=utf-8"),
    ("/papers/2403.00003/", "text/html; charset=utf-8"),
    ("/archive/", "text/html; charset=utf-8"),
    ("/feed.xml", "application/rss+xml; charset=utf-8"),
    ("/atom.xml", "application/atom+xml; charset=utf-8"),
    ("/feed.json", "application/feed+json; charset=utf-8"),
    ("/sitemap.xml", "application/xml; charset=utf-8"),
    ("/static/style.css", "text/css; charset=utf-8"),
    ("/static/favicon.svg", "image/svg+xml"),
    ("/robots.txt", "text/plain; charset=utf-8"),
])
def test_pages_served_with_their_content_type(preview, path, content_type):
    status, headers, body = fetch(preview.port, path)
    assert status == 200
    assert headers["content-type"] == content_type
    assert headers["x-content-type-options"] == "nosniff"
    assert int(headers["content-length"]) == len(body) > 0
    head_status, head_headers, head_body = fetch(preview.port, path, method="HEAD")
    assert head_status == 200 and head_body == b"" and head_headers["content-length"] == headers["content-length"]


def test_reload_script_only_in_served_html_never_on_disk(preview):
    _, _, page = fetch(preview.port, DAY_PATH)
    assert b'src="/__digest/livereload.js"' in page and page.rstrip().endswith(b"</html>")
    assert b"__digest" not in (preview.site_dir / "2024/03/13/index.html").read_bytes()
    for path in ["/feed.xml", "/atom.xml", "/feed.json", "/sitemap.xml", "/static/style.css"]:
        assert b"__digest" not in fetch(preview.port, path)[2]
    status, headers, script = fetch(preview.port, "/__digest/livereload.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript") and b"location.reload" in script


def test_folder_without_slash_redirects_and_no_listings(preview):
    status, headers, _ = fetch(preview.port, DAY_PATH.rstrip("/"))
    assert status == 302 and headers["location"] == DAY_PATH
    status, headers, _ = fetch(preview.port, "/search?q=%EC%9D%8C%EC%84%B1")  # a hand-typed search keeps its query
    assert headers.get("location") in (None, "/search/?q=%EC%9D%8C%EC%84%B1")
    status, headers, _ = fetch(preview.port, DAY_PATH.rstrip("/") + "?from=feed")
    assert status == 302 and headers["location"] == DAY_PATH + "?from=feed"
    not_found = (preview.site_dir / "404.html").read_bytes()
    for path in ["/2024/", "/2024/03/", "/static/", "/papers/"]:
        status, headers, body = fetch(preview.port, path)
        assert status == 404 and headers["content-type"] == "text/html; charset=utf-8"
        assert body.startswith(not_found[:200]) and b"style.css" not in body.split(b"</head>")[1]


def test_unknown_path_gets_the_sites_404_page(preview):
    status, _, body = fetch(preview.port, "/no/such/page/")
    assert status == 404
    built = (preview.site_dir / "404.html").read_bytes()
    assert body.replace(re.search(rb"<script src=\"/__digest[^\n]*\n", body).group(0), b"") == built


TRAVERSALS = ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd", "/%252e%252e/",
              "/%252e%252e/%252e%252e/etc/passwd", "/..%5c..%5cwindows/win.ini", "/a%00.html", "/%00",
              "//evil.example/%2e%2e%2f", "//evil.example/%2e%2e%2fstatic", "/..%2fsite-leak/secret.txt",
              "/leak", "/leakdir/secret.txt", "/static/../../site-leak/secret.txt", "/.%2e/.%2e/etc/passwd",
              "/%c0%ae%c0%ae/etc/passwd", "/etc/passwd", "/" + "a/" * 200, "/.lock"]


def test_traversal_attempts_get_404_and_the_server_stays_up(preview, tmp_path):
    leak = preview.site_dir.parent / "site-leak"
    leak.mkdir()
    (leak / "secret.txt").write_text("TOP-SECRET")
    (preview.site_dir / "leak").symlink_to(leak / "secret.txt")
    (preview.site_dir / "leakdir").symlink_to(leak, target_is_directory=True)
    for path in TRAVERSALS:
        status, headers, body = fetch(preview.port, path)
        assert status in (400, 404), path
        assert b"TOP-SECRET" not in body and b"root:" not in body, path
        assert str(tmp_path).encode() not in body and b"Traceback" not in body, path
        assert not headers.get("location", "").startswith("//"), path
    assert fetch(preview.port, "/")[0] == 200


def test_no_open_redirect_under_a_base_path(tmp_path):
    config = write_site(tmp_path / "site", SITE, DEFAULT_SITE_TOML.replace(
        'base_url = "https://example.org/"', 'base_url = "https://example.org/paper-digest/"'))
    with start_preview(config, port=0, say=lambda line: None) as preview:
        assert preview.url.endswith("/paper-digest/")
        assert fetch(preview.port, "/") [:2][0] == 302
        assert fetch(preview.port, "/")[1]["location"] == "/paper-digest/"
        assert fetch(preview.port, "/paper-digest")[1]["location"] == "/paper-digest/"
        assert fetch(preview.port, "/paper-digest?x=1")[1]["location"] == "/paper-digest/?x=1"
        assert fetch(preview.port, "/paper-digest/")[0] == 200
        assert fetch(preview.port, "/paper-digest" + DAY_PATH)[0] == 200
        assert fetch(preview.port, DAY_PATH)[0] == 404  # outside the base path
        for path in ["//evil.example/%2e%2e%2fpaper-digest", "//evil.example/", "///evil.example/paper-digest"]:
            status, headers, _ = fetch(preview.port, path)
            assert status in (302, 404) and not headers.get("location", "/").startswith("//"), path


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:80", "127.0.0.1.attacker.example", None])
def test_foreign_host_header_is_refused(preview, host):
    status, _, body = fetch(preview.port, "/", host=host)
    assert status == 403 and b"Test Digests" not in body


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_local_host_headers_are_served(preview, host):
    assert fetch(preview.port, "/", host=f"{host}:{preview.port}")[0] == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND"])
def test_only_get_and_head(preview, method):
    before = (preview.site_dir / "index.html").read_bytes()
    status, headers, _ = fetch(preview.port, "/index.html", method=method)
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert (preview.site_dir / "index.html").read_bytes() == before


def test_long_url_gets_414_and_server_stays_up(preview):
    status, _, body = fetch(preview.port, "/" + "a" * 8192)
    assert status == 414 and len(body) < 100
    assert fetch(preview.port, "/")[0] == 200


def test_bad_request_line_echoes_nothing(preview):
    import socket

    for line in [b"GET /<script>alert(1)</script> HTTP/9.9", b"GET /<script>alert(1)</script> HTTP/1.1 x",
                 b"GET /<script>alert(1)</script> HTTP/1.x"]:
        with socket.create_connection(("127.0.0.1", preview.port), timeout=10) as sock:
            sock.sendall(line + b"\r\nHost: 127.0.0.1\r\n\r\n")
            reply = sock.recv(4096)
        assert re.search(rb"\b(400|505)\b", reply) and b"<script>" not in reply and b"alert" not in reply, reply
    assert fetch(preview.port, "/")[0] == 200


# --- live reload ------------------------------------------------------------------------------

def test_livereload_long_poll_answers_when_a_rebuild_finishes(preview, site):
    state = livereload(preview.port)
    assert state["ok"] and state["problems"] == []
    answered = {}

    def poll():
        answered.update(livereload(preview.port, state["epoch"]))

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    assert not answered  # still waiting: nothing changed
    atomic_write(site.content_dir / "2024-03-13.md", digest_text(DAY, [("2403.00001", "Long poll edit")]))
    poller.join(15)
    assert answered and answered["epoch"] != state["epoch"]


def test_an_edit_is_served_within_seconds(preview, site):
    assert page_has(preview.port, DAY_PATH, "Paper one of 2024-03-13")
    (site.content_dir / "2024-03-13.md").write_text(digest_text(DAY, [("2403.00001", "Edited title")]), "utf-8")
    wait_for(lambda: page_has(preview.port, DAY_PATH, "Edited title"))
    wait_for(lambda: page_has(preview.port, "/", "Edited title"))


@pytest.mark.parametrize("style", ["atomic-rename", "vim-backup", "jetbrains-safe-write", "delete-then-create"])
def test_editor_save_styles_are_seen(preview, site, style):
    path = site.content_dir / "2024-03-13.md"
    text = digest_text(DAY, [("2403.00001", f"Saved by {style}")])
    if style == "atomic-rename":
        atomic_write(path, text)
    elif style == "vim-backup":  # vim backupcopy=no: probe file, move to backup, write new, drop backup
        (site.content_dir / "4913").write_text("")
        (site.content_dir / "4913").unlink()
        os.rename(path, site.content_dir / "2024-03-13.md~")
        path.write_text(text, "utf-8")
        (site.content_dir / "2024-03-13.md~").unlink()
    elif style == "jetbrains-safe-write":  # new text beside, old file aside, new into place, old dropped
        tmp, old = (site.content_dir / f"2024-03-13.md___jb_{kind}___" for kind in ("tmp", "old"))
        tmp.write_text(text, "utf-8")
        os.rename(path, old)
        os.rename(tmp, path)
        old.unlink()
    else:
        path.unlink()
        path.write_text(text, "utf-8")
    wait_for(lambda: page_has(preview.port, DAY_PATH, f"Saved by {style}"))


def test_a_finished_save_rebuilds_without_waiting_for_quiet():
    built = threading.Event()
    rebuilder = Rebuilder(lambda: built.set() or [], quiet=60, max_delay=60)
    rebuilder.mark_changed(saved=True)
    rebuilder.mark_changed()  # another write began before the rebuild started: wait for quiet
    rebuilder.start()
    try:
        assert not built.wait(0.5)
        rebuilder.mark_changed(saved=True)  # the write is closed: at once
        assert built.wait(10)
        built.clear()
        rebuilder.mark_changed()  # a write still going on: wait for quiet
        assert not built.wait(0.5)
    finally:
        rebuilder.stop()


def test_the_watcher_says_which_changes_finish_a_save(tmp_path):
    seen: list[bool] = []
    watcher = Watcher(seen.append)
    watcher.watch([tmp_path], [])
    try:
        path = tmp_path / "2024-03-13.md"
        with open(path, "w", encoding="utf-8") as handle:  # written, not yet closed
            handle.write("half")
            handle.flush()
            wait_for(lambda: seen)
            time.sleep(0.2)
            assert not any(seen)
        wait_for(lambda: seen[-1])  # closed: a finished save
        seen.clear()
        atomic_write(path, "whole")  # renamed into place: a finished save
        wait_for(lambda: any(seen))
        seen.clear()
        os.rename(path, tmp_path / "2024-03-13.md~")  # moved away to a backup: not one
        wait_for(lambda: seen)
        time.sleep(0.2)
        assert not any(seen)
    finally:
        watcher.stop()


def test_temporary_files_alone_do_not_rebuild(preview, site):
    epoch = livereload(preview.port)["epoch"]
    for name in ["4913", ".2024-03-13.md.swp", "2024-03-13.md~", ".#2024-03-13.md", "x.tmp",
                 "2024-03-13.md___jb_tmp___", "2024-03-13.md___jb_old___"]:
        (site.content_dir / name).write_text("junk")
    time.sleep(0.5)
    assert livereload(preview.port)["epoch"] == epoch


def test_deleted_and_renamed_digests(preview, site):
    os.rename(site.content_dir / "2024" / "03" / "14.md", site.content_dir / "2024-03-16.md.draft")
    wait_for(lambda: fetch(preview.port, "/2024/03/14/")[0] == 404)
    os.rename(site.content_dir / "2024-03-16.md.draft", site.content_dir / "2024-03-14.md")
    wait_for(lambda: page_has(preview.port, "/2024/03/14/", "Third paper"))


def test_bad_edit_is_shown_then_cleared(preview, site, said):
    path = site.content_dir / "2024-03-13.md"
    path.write_text(digest_text(DAY, front="date: 2024-03-20"), "utf-8")  # front matter and heading disagree
    state = settled_state(preview, lambda s: not s["ok"])
    assert state["problems"] and all(ERROR_LINE.match(p) for p in state["problems"])
    assert any(p.startswith("content/2024-03-13.md:") for p in state["problems"])
    assert not any(str(site.root) in p for p in state["problems"])
    assert any(line.startswith("content/2024-03-13.md:") for line in said)  # printed in the terminal too
    status, _, page = fetch(preview.port, DAY_PATH)  # the last good site is still served...
    assert status == 200 and b"Paper one of 2024-03-13" in page
    assert b"content/2024-03-13.md:" in page  # ...with the errors for the overlay
    path.write_text(digest_text(DAY, [("2403.00001", "Fixed again")]), "utf-8")
    state = settled_state(preview, lambda s: s["ok"])
    assert state["problems"] == []
    assert page_has(preview.port, DAY_PATH, "Fixed again")
    assert b'data-problems="[]"' in fetch(preview.port, DAY_PATH)[2]


def test_burst_of_saves_ends_in_the_last_state(preview, site, said):
    path = site.content_dir / "2024-03-13.md"
    rebuilds_before = sum("rebuilt in" in line for line in said)
    for n in range(50):
        atomic_write(path, digest_text(DAY, [("2403.00001", f"Burst version {n}")]))
    wait_for(lambda: page_has(preview.port, DAY_PATH, "Burst version 49"))
    settled_state(preview, lambda s: s["ok"])
    assert page_has(preview.port, DAY_PATH, "Burst version 49")
    assert sum("rebuilt in" in line for line in said) - rebuilds_before < 25  # debounced, not one per save


def test_pipeline_drop_of_many_new_files(preview, site):
    for day in range(1, 21):
        (site.content_dir / f"2024-04-{day:02d}.md").write_text(digest_text(f"2024-04-{day:02d}"), "utf-8")
    wait_for(lambda: page_has(preview.port, "/2024/04/20/", "Paper one of 2024-04-20"))
    assert all(fetch(preview.port, f"/2024/04/{day:02d}/")[0] == 200 for day in range(1, 21))


def test_site_toml_change_reloads_config_and_bad_config_is_shown(preview, site):
    toml = site.config_path.read_text("utf-8")
    atomic_write(site.config_path, toml.replace('title = "Test Digests"', 'title = "Renamed Site"'))
    wait_for(lambda: page_has(preview.port, "/", "Renamed Site"))
    site.config_path.write_text(toml + "colour = 3\n", "utf-8")
    state = settled_state(preview, lambda s: not s["ok"])
    assert any(p.startswith("site.toml:") and "colour" in p for p in state["problems"])
    assert page_has(preview.port, "/", "Renamed Site")
    site.config_path.write_text(toml, "utf-8")
    settled_state(preview, lambda s: s["ok"])
    wait_for(lambda: page_has(preview.port, "/", "Test Digests"))


def test_new_templates_dir_is_watched(preview, site):
    static = site.templates_dir / "static"
    static.mkdir(parents=True)
    (static / "style.css").write_text("body { color: rebeccapurple }\n")
    wait_for(lambda: page_has(preview.port, "/static/style.css", "rebeccapurple"))
    (static / "style.css").write_text("body { color: papayawhip }\n")
    wait_for(lambda: page_has(preview.port, "/static/style.css", "papayawhip"))


class _NoInotify(Observer):
    def schedule(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "inotify watch limit reached")


def _no_inotify_instance():
    raise OSError(errno.EMFILE, "inotify instance limit reached")


@pytest.mark.parametrize("factory", [_NoInotify, _no_inotify_instance])
def test_inotify_limit_falls_back_to_polling(site, factory):
    said = []
    with start_preview(site, port=0, say=said.append, observer_factory=factory) as preview:
        assert preview.watcher.polling
        assert any("fs.inotify.max_user_watches" in line for line in said)
        (site.content_dir / "2024-03-13.md").write_text(digest_text(DAY, [("2403.00001", "Polled")]), "utf-8")
        wait_for(lambda: page_has(preview.port, DAY_PATH, "Polled"))


def test_first_build_failing_still_serves_and_recovers(tmp_path):
    config = write_site(tmp_path / "site", {"2024-03-13.md": digest_text(DAY, front="date: 2024-01-01")})
    said = []
    with start_preview(config, port=0, say=said.append) as preview:
        status, _, body = fetch(preview.port, "/")
        assert status == 404 and b"content/2024-03-13.md:" in body
        assert not [line for line in said if "last good site" in line], said  # there is none yet
        assert any("no site to serve until a build succeeds" in line for line in said), said
        (config.content_dir / "2024-03-13.md").write_text(digest_text(DAY), "utf-8")
        wait_for(lambda: page_has(preview.port, DAY_PATH, "Paper one of 2024-03-13"))
        (config.content_dir / "2024-03-13.md").write_text(digest_text(DAY, front="date: 2024-01-01"), "utf-8")
        wait_for(lambda: any("still serving the last good site" in line for line in said))


def test_stop_joins_threads_and_frees_the_port(site):
    preview = start_preview(site, port=0, say=lambda line: None)
    port = preview.port
    keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    keep_alive.request("GET", "/", headers={"Host": "localhost"})
    keep_alive.getresponse().read()
    epoch = preview.rebuilder.state().epoch
    poller = threading.Thread(target=lambda: fetch(port, f"/__digest/livereload?epoch={epoch}"))
    poller.start()
    time.sleep(0.2)
    started = time.monotonic()
    preview.stop()
    poller.join(10)
    assert time.monotonic() - started < 10 and not poller.is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("digest-")]
    with pytest.raises(OSError):
        fetch(port, "/", timeout=2)
    keep_alive.close()


def test_port_in_use_is_a_clear_error(preview, site):
    said = []
    assert serve(site, port=preview.port, say=said.append) == 1
    assert any("cannot serve" in line and str(preview.port) in line for line in said)


def test_cli_prints_the_real_port_and_stops_on_ctrl_c(site):
    proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--config", str(site.config_path),
                             "--port", "0"], stderr=subprocess.PIPE, text=True, cwd=site.root)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "serving http://" in line or not line:
                break
        match = re.search(r"serving http://127\.0\.0\.1:(\d+)/", "".join(lines))
        assert match, lines
        port = int(match.group(1))
        assert port != 0 and fetch(port, "/")[0] == 200
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=20)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "stopped" in rest and "Traceback" not in rest


def test_cli_warns_when_bound_beyond_loopback(site):
    proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--config", str(site.config_path),
                             "--host", "0.0.0.0", "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not any("serving http://" in line for line in lines) and len(lines) < 50:
            lines.append(proc.stderr.readline())
        assert any(line.startswith("warning: serving on 0.0.0.0") for line in lines), lines
        proc.terminate()
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


def test_the_preview_reports_through_logging_unless_given_say(site, capfd, caplog):
    caplog.set_level("INFO", logger="generator.serve")
    with start_preview(site, port=0) as running:
        assert fetch(running.port, "/")[0] == 200
    assert capfd.readouterr().err == ""  # library code writes nothing to the terminal itself
    assert any("built " in record.getMessage() for record in caplog.records)


def test_a_missing_template_is_reported_without_local_paths(site):
    (site.root / "templates").mkdir()
    (site.root / "templates" / "404.html").write_text('{% include "nope.html" %}', encoding="utf-8")
    said = []
    with start_preview(site, port=0, say=said.append) as preview:
        problems = preview.rebuilder.state().problems
        assert problems and all("nope.html" in p for p in problems), problems
        from generator.theme import builtin_theme_dir
        for text in [*problems, *said]:
            assert str(builtin_theme_dir()) not in text and str(site.root) not in text, text
        assert any("<built-in theme>" in p for p in problems), problems
