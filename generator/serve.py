"""`digest serve`: build into a private folder, serve it under base_url's path, reload open pages.

The HTTP side knows nothing of the build: it serves the built tree (each file lands whole, by
rename; a request that finds nothing while a rebuild runs waits for it), answers a long-poll at
LIVERELOAD_PATH with the build epoch and problems, and adds the reload script to the HTML it sends
(a copy; files on disk never change). `start_preview()` is the edge that wires the pipeline in.
"""

from __future__ import annotations

import contextlib
import errno
import html
import ipaddress
import json
import logging
import os
import shutil
import signal
import socket
import socketserver
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, quote, unquote

from .config import Config, load_config
from .problems import BuildError, errors_in
from .watch import QUIET_SECONDS, BuildState, Observer, Rebuilder, Watcher

LIVERELOAD_PATH = "/__digest/livereload"
LIVERELOAD_SCRIPT_PATH = "/__digest/livereload.js"
MAX_URL_BYTES = 4096
MAX_CONNECTIONS = 256
POLL_SECONDS = 20.0  # a long-poll answers after this long even if nothing changed
WAIT_FOR_BUILD_SECONDS = 10.0
IDLE_SECONDS = 30  # an idle keep-alive connection is closed after this long
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".json": "application/json", ".xml": "application/xml; charset=utf-8", ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".ico": "image/x-icon", ".woff2": "font/woff2", ".wasm": "application/wasm", ".mp4": "video/mp4",
}
NAMED_TYPES = {"feed.xml": "application/rss+xml; charset=utf-8", "atom.xml": "application/atom+xml; charset=utf-8",
               "feed.json": "application/feed+json; charset=utf-8", "CNAME": "text/plain; charset=utf-8"}
FALLBACK_404 = (b"<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Not found</title></head>\n"
                b"<body><h1>Not found</h1><p>Nothing is built here (yet).</p></body>\n</html>\n")
LIVERELOAD_JS = (Path(__file__).parent / "livereload.js").read_bytes()


def _log_say(line: str) -> None:
    """Report a line of the preview through logging (the command line passes its own say)."""
    logging.getLogger(__name__).info(line)


def url_parts(raw_path: str, base_path: str) -> tuple[tuple[str, ...], bool] | None:
    """Return the decoded path components under base_path and whether a folder was asked, or None if refused."""
    try:
        decoded = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        return None
    if any(c == "\\" or ord(c) < 32 or ord(c) == 127 for c in decoded) or not decoded.startswith(base_path):
        return None
    rest = decoded[len(base_path):]
    parts = tuple(p for p in rest.split("/") if p not in ("", "."))
    if any(p == ".." or p.startswith(".") for p in parts):
        return None
    return parts, rest == "" or rest.endswith("/")


def contained_file(root: Path, parts: tuple[str, ...]) -> tuple[str | None, bool]:
    """Return (real path of the file the parts name inside root or None, whether it is a folder without a slash)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *parts))
    if not _inside(real, real_root):
        return None, False
    if os.path.isdir(real):
        index = os.path.realpath(os.path.join(real, "index.html"))
        return (index if _inside(index, real_root) and os.path.isfile(index) else None), True
    return (real if os.path.isfile(real) else None), False


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root  # compares components, never a string prefix
    except ValueError:
        return False


def content_type(name: str) -> str:
    """Return the Content-Type for a served file name."""
    return NAMED_TYPES.get(name) or CONTENT_TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


def host_allowed(header: str | None, allowed: frozenset[str]) -> bool:
    """Return whether a Host header names this server (refusing DNS-rebinding names)."""
    if not header:
        return False
    host = header.strip().lower()
    if host.startswith("["):
        name = host[1:host.find("]")] if "]" in host else ""
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name in allowed or name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)  # an address literal cannot be rebound by DNS
        return True
    except ValueError:
        return False


def reload_snippet(state: BuildState) -> bytes:
    """Return the script tag that reloads a page after each rebuild and shows build errors."""
    problems = html.escape(json.dumps(list(state.problems)), quote=True)
    return (f'<script src="{LIVERELOAD_SCRIPT_PATH}" data-endpoint="{LIVERELOAD_PATH}" '
            f'data-epoch="{state.epoch}" data-problems="{problems}"></script>\n').encode("ascii")


def with_snippet(page: bytes, snippet: bytes) -> bytes:
    """Return a copy of an HTML page with the snippet before its last </body>."""
    at = page.lower().rfind(b"</body>")
    return page + snippet if at < 0 else page[:at] + snippet + page[at:]


@dataclass(frozen=True)
class Served:
    """What the HTTP side serves: the built tree and the URL path it lives under."""

    root: Path
    base_path: str


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server with a cap on open connections that can close them all when stopping."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], *, served: Callable[[], Served], rebuilder: Rebuilder,
                 allowed_hosts: frozenset[str], say: Callable[[str], None]):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.served, self.rebuilder, self.allowed_hosts, self.say = served, rebuilder, allowed_hosts, say
        self._conns: set[socket.socket] = set()
        self._conns_cond = threading.Condition()
        self._closing = False
        super().__init__(address, PreviewHandler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address) -> None:
        with self._conns_cond:
            if self._closing or len(self._conns) >= MAX_CONNECTIONS:
                self.shutdown_request(request)
                return
            self._conns.add(request)
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._conns_cond:
                self._conns.discard(request)
                self._conns_cond.notify_all()

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            self.say(f"warning: request failed: {type(exc).__name__}")

    def close_connections(self, timeout: float = 5.0) -> None:
        """Refuse new connections, close the open ones and wait for their threads to end."""
        with self._conns_cond:
            self._closing = True
            for conn in list(self._conns):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._conns_cond.wait_for(lambda: not self._conns, timeout)


class PreviewHandler(BaseHTTPRequestHandler):
    """GET and HEAD for the built site and the live-reload endpoints; everything else is refused."""

    server: PreviewServer
    server_version = "paper-digest"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def __getattr__(self, name: str):
        if name.startswith("do_"):  # POST, PUT, DELETE, OPTIONS, and any other method
            return self._refuse_method
        raise AttributeError(name)

    def _refuse_method(self) -> None:
        self.close_connection = True  # a body we never read must not become the next request
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"405 Method Not Allowed\n", "text/plain; charset=utf-8",
                   head=False, extra={"Allow": "GET, HEAD"})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Send a short plain error that echoes nothing from the request."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self._send(code, f"{code} {phrase}\n".encode(), "text/plain; charset=utf-8",
                   head=getattr(self, "command", "") == "HEAD")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # requests are not logged; build results are

    def _respond(self, head: bool) -> None:
        try:
            self._route(head)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - answer 500 without details and keep serving
            self.server.say(f"warning: error while serving a request: {type(exc).__name__}")
            self.close_connection = True
            try:
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"500 Internal Server Error\n",
                           "text/plain; charset=utf-8", head=head)
            except OSError:
                pass

    def _route(self, head: bool) -> None:
        if len(self.path.encode("utf-8", "surrogateescape")) > MAX_URL_BYTES:
            return self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
        if not host_allowed(self.headers.get("Host"), self.server.allowed_hosts):
            self.close_connection = True
            return self._send(HTTPStatus.FORBIDDEN, b"403 Forbidden: unknown Host\n", "text/plain; charset=utf-8",
                              head=head)
        raw, _, query = self.path.partition("#")[0].partition("?")
        if raw == LIVERELOAD_PATH:
            return self._livereload(query, head)
        if raw == LIVERELOAD_SCRIPT_PATH:
            return self._send(HTTPStatus.OK, LIVERELOAD_JS, CONTENT_TYPES[".js"], head=head)
        served = self.server.served()
        base = served.base_path
        if base != "/" and raw != base and raw.rstrip("/") in ("", base.rstrip("/")):
            return self._redirect(base, query)  # base is one leading slash: never //host
        found = url_parts(raw, base)
        if found is None:
            return self._not_found(served, head)
        parts, folder_asked = found
        state = self.server.rebuilder.state()  # read before the file, so a page is never newer than its epoch
        path, is_folder = contained_file(served.root, parts)
        data = _read_regular(path) if path else None
        if data is None and state.building:  # perhaps not there yet: wait for the rebuild, then look again
            state = self.server.rebuilder.wait_until_idle(WAIT_FOR_BUILD_SECONDS)
            path, is_folder = contained_file(served.root, parts)
            data = _read_regular(path) if path else None
        if data is None:
            return self._not_found(served, head)
        if is_folder and not folder_asked:
            return self._redirect(base + "".join(quote(p) + "/" for p in parts), query)
        kind = content_type(os.path.basename(path))
        if kind.startswith("text/html"):
            data = with_snippet(data, reload_snippet(state))
        self._send(HTTPStatus.OK, data, kind, head=head)

    def _livereload(self, query: str, head: bool) -> None:
        epoch = parse_qs(query).get("epoch", ["0"])[0]
        state = self.server.rebuilder.wait_for_epoch_change(int(epoch) if epoch.isascii() and epoch.isdigit() else 0, POLL_SECONDS)
        body = json.dumps({"epoch": state.epoch, "ok": state.ok, "building": state.building,
                           "problems": list(state.problems)}).encode()
        self._send(HTTPStatus.OK, body, "application/json", head=head)

    def _not_found(self, served: Served, head: bool) -> None:
        state = self.server.rebuilder.state()
        data = _read_regular(os.path.join(os.path.realpath(served.root), "404.html")) or FALLBACK_404
        self._send(HTTPStatus.NOT_FOUND, with_snippet(data, reload_snippet(state)), CONTENT_TYPES[".html"], head=head)

    def _redirect(self, location: str, query: str = "") -> None:
        location = "/" + location.lstrip("/")
        if query and query.isascii() and query.isprintable():  # ?q= of a search link survives the added slash
            location += "?" + query
        self._send(HTTPStatus.FOUND, b"", "text/plain; charset=utf-8", head=True, extra={"Location": location})

    def _send(self, code: int, body: bytes, kind: str, *, head: bool, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def _read_regular(path: str) -> bytes | None:
    """Return the bytes of a regular file, opened without following a symlink, or None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read()


class Preview:
    """A running preview: its URL, its build state, and how to stop it."""

    def __init__(self, *, server: PreviewServer, rebuilder: Rebuilder, watcher: Watcher, workdir: Path | None,
                 site_dir: Path, url: str, also_stop: Callable[[], None] = lambda: None):
        self.server, self.rebuilder, self.watcher, self.workdir = server, rebuilder, watcher, workdir
        self.site_dir, self.url, self._also_stop = site_dir, url, also_stop  # also_stop: work the rebuilds started
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="digest-serve", daemon=True)
        self._stopped = threading.Event()

    def start(self) -> "Preview":
        """Start serving and rebuilding; return self."""
        self.rebuilder.start()
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the preview is stopped (Ctrl-C arrives here)."""
        while not self._stopped.is_set():
            self._stopped.wait(0.5)

    def stop(self) -> None:
        """Stop what the rebuilds started, then watching, rebuilding and serving; join the threads
        and remove the built site.

        Pagefind goes first, so that a rebuild or a watcher slow to stop cannot keep it
        running, nor a caller that gives up waiting for them and kills this process.
        """
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._also_stop()  # a rebuild that finishes after this asks for no new index: the indexer is stopping
        self.watcher.stop()
        self.rebuilder.stop()
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(5)
        self.server.close_connections()
        self.server.server_close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "Preview":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _stamp(path: Path) -> tuple[int, int] | None:
    with contextlib.suppress(OSError):
        return os.stat(path).st_mtime_ns, os.stat(path).st_size
    return None


def start_preview(config: Config, *, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False,
                  say: Callable[[str], None] = _log_say, quiet: float = QUIET_SECONDS,
                  observer_factory: Callable[[], object] | None = None) -> Preview:
    """Return a started preview of the site: built once, watched, served on host:port (0 picks one)."""
    from .build import BuildMemo, build  # the edge: only here does the server meet the pipeline
    from .search import BackgroundIndexer
    from .theme import builtin_theme_dir

    memo = BuildMemo()  # parsed digests and compiled templates, kept between rebuilds
    # Pagefind, after the reload instead of before; the next rebuild keeps the new index without looking for its files
    indexer = BackgroundIndexer(say=lambda line: say(scrub(line)), indexed=lambda tree: setattr(memo, "search_index", tree))

    workdir, site_dir = _site_dir(config, drafts)
    current = {"config": config, "stamp": _stamp(config.config_path), "good": False}
    served = [Served(site_dir, _one_slash(config.base_path))]
    # Jinja names its search paths, as render.py gave them, when a template is missing
    hidden = [(str(site_dir), "<preview>"), (str(builtin_theme_dir()), "<built-in theme>"),
              (str(config.root) + os.sep, ""), (str(Path.home()), "~")]

    def scrub(line: str) -> str:
        for local, shown in hidden:
            line = line.replace(local, shown)
        return line

    def site_config() -> Config:
        stamp = _stamp(config.config_path)
        if stamp != current["stamp"]:  # site.toml changed: read it again (an error shows as an overlay)
            current["config"], current["stamp"] = load_config(config.config_path), stamp
        return current["config"]

    def rebuild() -> list[str]:
        started = time.perf_counter()
        try:
            now = site_config()
            watcher.watch([now.content_dir, now.templates_dir], [now.config_path], exclude=[now.cache_dir])
            report = build(now, output_dir=site_dir, drafts=drafts, memo=memo)
        except BuildError as exc:
            for problem in exc.problems:
                say(scrub(str(problem)))
            errors = errors_in(exc.problems)
            kept = "still serving the last good site" if current["good"] else "no site to serve until a build succeeds"
            say(f"rebuild failed: {len(errors)} error{'s' if len(errors) != 1 else ''}; {kept}")
            return [scrub(str(p)) for p in errors]
        except (OSError, ValueError) as exc:  # a folder that vanished mid-build, say: shown without local paths
            say(scrub(f"rebuild failed: {exc}"))
            return [scrub(f"error: {exc}")]
        served[0] = Served(site_dir, _one_slash(now.base_path))
        current["good"] = True
        for problem in report.warnings:
            say(scrub(str(problem)))
        say(f"{report.summary()} (rebuilt in {(time.perf_counter() - started) * 1000:.0f} ms)")
        if report.search_stale:
            indexer.request(now, site_dir)
        return []

    rebuilder = Rebuilder(rebuild, quiet=quiet, on_error=say)
    try:  # listen first: a busy port fails before any work
        server = PreviewServer((host, port), served=lambda: served[0], rebuilder=rebuilder,
                               allowed_hosts=frozenset({host.lower().strip("[]"), *LOOPBACK_NAMES}), say=say)
    except BaseException:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    watcher = None
    try:
        watcher = Watcher(rebuilder.mark_changed, say=say, observer_factory=observer_factory or Observer)
        watcher.watch([config.content_dir, config.templates_dir], [config.config_path], exclude=[config.cache_dir])
        if not rebuilder.rebuild_now().ok:
            say("the first build failed: pages show the errors until a rebuild succeeds")
    except BaseException:
        indexer.stop()
        if watcher is not None:
            watcher.stop()
        server.server_close()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    url = f"http://{_url_host(host)}:{server.server_address[1]}{served[0].base_path}"
    return Preview(server=server, rebuilder=rebuilder, watcher=watcher, workdir=workdir, site_dir=site_dir,
                   url=url, also_stop=indexer.stop).start()


def _site_dir(config: Config, drafts: bool) -> tuple[Path | None, Path]:
    """Return (a folder to remove at the end or None, the folder to build into)."""
    try:  # kept in the cache dir, a restarted preview re-renders only what changed
        site_dir = config.cache_dir / ("serve-drafts" if drafts else "serve")
        site_dir.parent.mkdir(parents=True, exist_ok=True)
        return None, site_dir
    except OSError:
        workdir = Path(tempfile.mkdtemp(prefix="digest-serve-"))
        return workdir, workdir / "site"


def _one_slash(path: str) -> str:
    return "/" + path.lstrip("/")


def _url_host(host: str) -> str:
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    """Return whether host is a loopback address or name."""
    try:
        return host.lower() == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(config: Config, *, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False,
          open_browser: bool = False, say: Callable[[str], None] = _log_say) -> int:
    """Build, serve and watch the site until Ctrl-C; return the exit status."""
    try:
        preview = start_preview(config, host=host, port=port, drafts=drafts, say=say)
    except OSError as exc:
        hint = " (another server is using it; try --port 0)" if exc.errno == errno.EADDRINUSE else ""
        say(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}{hint}")
        return 1
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if in_main else None  # stop like Ctrl-C
    try:
        if not is_loopback(host):
            say(f"warning: serving on {host}: anyone who can reach this machine on port {preview.port} "
                "can read the preview")
        say(f"serving {preview.url} (Ctrl-C to stop)")
        if open_browser:
            import webbrowser

            webbrowser.open(preview.url)
        preview.wait()
    except KeyboardInterrupt:
        say("stopping")
    finally:
        preview.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    say("stopped")
    return 0

