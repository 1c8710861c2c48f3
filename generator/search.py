"""Build the Pagefind search index of a built site (the `pagefind-bin` package's binary).

The index is made from the writer's complete new site before anything is moved into
place, and staged like every other file, so a failed index never reaches the output and
the published index always matches its pages.
Only paper pages carry `data-pagefind-body`, so every search result is one paper.
The preview does not wait for Pagefind: BackgroundIndexer indexes its site again after each
reload that changed a paper page, and swaps the new index in when it is done.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from .config import Config
from .write import KeptTree, SiteWriter, folder_identity, list_tree, output_locked

BUNDLE_DIR = "pagefind"
PAGES_GLOB = "papers/*/index.html"  # only paper pages: one result per paper, and none on a site without papers
INDEX_TIMEOUT = 600  # seconds; a site of thousands of papers indexes in a few
# The preview's Pagefind runs at this niceness, if the system has `nice`: at 1,000 digests it
# keeps 1.2 cores busy for 25-35 s, and the preview's rebuilds, which must reach the browser
# at once, waited for the CPU behind it.
BACKGROUND_NICENESS = 10


class SearchError(Exception):
    """The search index could not be built; the message says why and what to do."""


def pagefind_executable() -> Path:
    """Return the path of the Pagefind binary shipped by `pagefind-bin`; raise SearchError if absent."""
    try:
        import pagefind_bin
    except ImportError:
        raise SearchError("search = true needs pagefind-bin (pip install pagefind-bin, "
                          "or reinstall paper-digest) or set search = false in site.toml") from None
    try:
        return pagefind_bin.get_executable()
    except (FileNotFoundError, OSError) as exc:
        raise SearchError(f"pagefind-bin is installed but its binary is missing ({exc}); "
                          "reinstall it or set search = false in site.toml") from None


def index_language(config: Config) -> str:
    """Return the ISO 639-1 code the whole site is indexed as (one index, so every paper is found)."""
    return config.language.split("-")[0].lower() or "en"


def pagefind_command(config: Config, site_dir: Path, bundle_dir: Path) -> list[str]:
    """Return the command that indexes the site in site_dir into bundle_dir."""
    return [str(pagefind_executable()), "--site", str(site_dir), "--output-path", str(bundle_dir), "--glob", PAGES_GLOB,
            "--force-language", index_language(config), "--silent"]


def build_search_index(config: Config, site_dir: Path, bundle_dir: Path,
                       started: Callable[[subprocess.Popen], None] | None = None, background: bool = False) -> KeptTree:
    """Index the built site in site_dir with Pagefind into bundle_dir; return bundle_dir and its files.

    started, if given, is handed the running Pagefind process (which the preview stops when it does).
    background runs Pagefind at BACKGROUND_NICENESS, behind the work that someone waits for.
    """
    command = pagefind_command(config, site_dir, bundle_dir)
    if background and (nice := shutil.which("nice")):  # nice execs Pagefind: the process is Pagefind's still
        command = [nice, "-n", str(BACKGROUND_NICENESS), *command]
    try:
        process = subprocess.Popen(command, cwd=site_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SearchError(f"cannot run pagefind: {exc.strerror or exc}") from None
    with process:
        if started is not None:
            started(process)
        try:
            stdout, stderr = process.communicate(timeout=INDEX_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise SearchError(f"pagefind did not finish within {INDEX_TIMEOUT} s") from None
    if process.returncode != 0 or not (bundle_dir / "pagefind-ui.js").is_file():
        output = (stderr or stdout or "").strip().splitlines()
        detail = "; ".join(output[-5:]) or f"exit status {process.returncode}"
        raise SearchError(f"pagefind failed to build the search index: {detail}")
    return list_tree(bundle_dir, bundle_dir.name)  # a folder: it holds pagefind-ui.js


def stage_search_index(config: Config, writer: SiteWriter) -> int:
    """Index the writer's finished new site and stage the index under pagefind/; return its file count."""
    with tempfile.TemporaryDirectory(prefix=f".{writer.output_dir.name}.pagefind-",
                                     dir=writer.output_dir.parent) as scratch:
        bundle = Path(scratch) / BUNDLE_DIR
        count = len(build_search_index(config, writer.full_tree(), bundle).files)
        writer.write_tree(BUNDLE_DIR, bundle)
    return count


def refresh_search_index(config: Config, site_dir: Path,
                         started: Callable[[subprocess.Popen], None] | None = None) -> KeptTree:
    """Index the site in site_dir again and put the new index in place of its pagefind/; return it and its files.

    For the preview's own output: Pagefind reads the served pages while rebuilds may go on,
    and the finished index replaces the old one under the output's lock, between two rebuilds.
    Its files are listed here, off the rebuilds' path: the next rebuild keeps them without
    looking for them (some 15,000 at 1,000 digests, 30-50 ms of the first rebuild after).
    """
    prefix = f".{site_dir.name}.reindex-"  # not a build's scratch name: a rebuild starting meanwhile removes those
    for left in site_dir.parent.glob(prefix + "*"):  # what a preview stopped mid-run left (one indexer per preview)
        shutil.rmtree(left, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=site_dir.parent) as scratch:
        bundle = Path(scratch) / BUNDLE_DIR
        made = build_search_index(config, site_dir, bundle, started, background=True)
        with output_locked(site_dir):
            live = site_dir / BUNDLE_DIR
            if live.is_dir() and not live.is_symlink():
                os.rename(live, Path(scratch) / "old")  # removed with the scratch folder
            os.rename(bundle, live)
            return KeptTree(folder_identity(live) or made.folder, made.files)  # its identity once moved


class BackgroundIndexer:
    """Keep the preview's search index up to date without holding up a reload.

    A preview's rebuild keeps the last index as it is (at 1,000 digests Pagefind takes 15-35 s,
    a rebuild 0.05-0.2 s) and asks for a new one when paper pages changed; this thread runs
    Pagefind over the served site and swaps the result in. Asked again while Pagefind runs, it
    runs once more afterwards, for the latest site.
    """

    def __init__(self, say: Callable[[str], None], indexed: Callable[[KeptTree], None] = lambda tree: None):
        self._say = say
        self._indexed = indexed  # handed each new index in place, with its files
        self._cond = threading.Condition()
        self._wanted: tuple[Config, Path] | None = None
        self._stopping = False
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def request(self, config: Config, site_dir: Path) -> None:
        """Index site_dir (built with config) again, after any run in progress."""
        with self._cond:
            if self._stopping:
                return
            self._wanted = (config, site_dir)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="digest-search-index", daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a Pagefind run in progress and the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _started(self, process: subprocess.Popen) -> None:
        with self._cond:
            self._process = process
            if self._stopping:
                process.kill()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._wanted is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                (config, site_dir), self._wanted = self._wanted, None
            started = time.perf_counter()
            try:
                tree = refresh_search_index(config, site_dir, self._started)
            except (SearchError, OSError) as exc:
                if not self._stopping:
                    self._say(f"search index not updated: {exc}")
                continue
            finally:
                with self._cond:
                    self._process = None
            self._indexed(tree)
            self._say(f"search index updated: {len(tree.files)} files in {time.perf_counter() - started:.1f} s")
