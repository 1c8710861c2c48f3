"""Fault injection for the build's write and swap: whatever breaks, the last good output stays.

The writer stages changed files beside the output and moves them into place at the end; these
tests break it at every step (the Nth file write raises, the disk fills, Ctrl-C, the renderer
fails, a move fails, a build is killed and leaves its staging behind, two builds run at once)
and check the old tree's hashes, the leftovers, and that the next build is correct.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import jinja2
import pytest

from conftest import digest_text, write_site
from generator import build as build_mod
from generator import feeds as feeds_mod
from generator import write as write_mod
from generator.build import build
from generator.problems import BuildError

pytestmark = pytest.mark.timeout(120)

V1 = {
    "2024-03-13.md": digest_text("2024-03-13"),
    "2024/03/14.md": digest_text("2024-03-14", [("2403.00003", "Third paper"), ("2403.00001", "Paper one again")]),
    "2024-03-15.md": digest_text("2024-03-15", front="title: 금요일의 논문\ntags: [multimodal, agents]"),
}
# every page changes: new titles, one digest gone, one new, so the commit both moves and removes
V2 = {
    "2024-03-13.md": digest_text("2024-03-13", [("2403.00011", "Changed one"), ("2403.00012", "Changed two")]),
    "2024-03-15.md": digest_text("2024-03-15", [("2403.00015", "Changed fifteen")], front="title: 바뀐 제목\ntags: [agents]"),
    "2024-03-16.md": digest_text("2024-03-16", [("2403.00016", "New day")]),
}


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith((f".{out.name}.tmp-", f".{out.name}.full-")))


def set_content(config, files: dict[str, str]) -> None:
    shutil.rmtree(config.content_dir)
    config.content_dir.mkdir()
    for rel, text in files.items():
        path = config.content_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def clean_trees(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Return the hashes of a fresh build of V1 and of V2: what a correct output holds."""
    trees = {}
    for name, files in (("v1", V1), ("v2", V2)):
        config = write_site(tmp_path_factory.mktemp(name) / "site", files)
        build(config, use_cache=False)
        trees[name] = tree_hashes(config.output_dir)
    return trees


@pytest.fixture
def built(tmp_path):
    """Return the config of a site built from V1 (with its caches), its content then switched to V2."""
    config = write_site(tmp_path / "site", V1)
    build(config)
    set_content(config, V2)
    return config


class FileCreations:
    """The os module as the writer sees it, with its Nth creation of a file (os.open with O_CREAT) raising exc."""

    def __init__(self, n: int | None = None, exc: BaseException | None = None):
        self.n, self.exc = n, exc
        self.created: list[str] = []  # each file's path relative to the staging folder
        self.supports_dir_fd = os.supports_dir_fd | {self.open}

    def __getattr__(self, name):
        return getattr(os, name)

    def open(self, path, flags, *args, dir_fd=None, **kwargs):
        if flags & os.O_CREAT:
            path_text = os.fspath(path)
            stage = next((p for p in Path(path_text).parents if ".tmp-" in p.name), None)
            self.created.append(Path(path_text).relative_to(stage).as_posix() if stage else path_text)
            if len(self.created) == self.n:
                raise self.exc
        return os.open(path, flags, *args, dir_fd=dir_fd, **kwargs)


def fail_nth_file_write(monkeypatch, n: int, exc: BaseException) -> list[str]:
    """Make the writer's Nth creation of a staged file raise exc; return the files created (relative paths)."""
    creations = FileCreations(n, exc)
    monkeypatch.setattr(write_mod, "os", creations)
    return creations.created


def staged_file_count(config) -> int:
    """Return how many files a V2 build over V1 stages (the writes that can fail)."""
    creations = FileCreations()
    write_mod.os = creations
    try:
        scratch = write_site(config.root.parent / "count", V1)
        build(scratch)
        set_content(scratch, V2)
        creations.created.clear()
        build(scratch)
    finally:
        write_mod.os = os
    return len(creations.created)


# --- the Nth write fails ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 7, "last"])
def test_disk_full_at_the_nth_write_is_reported_and_keeps_the_output(built, monkeypatch, clean_trees, n):
    out = built.output_dir
    before = tree_hashes(out)
    assert before == clean_trees["v1"]
    if n == "last":
        n = staged_file_count(built)
        assert n > 10
    opened = fail_nth_file_write(monkeypatch, n, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(BuildError) as caught:
        build(built)
    assert len(opened) == n
    rel = opened[-1]
    assert [str(p) for p in caught.value.problems] == [f"{out}:1: error: disk full while writing {rel}"]
    assert tree_hashes(out) == before
    assert leftovers(out) == []
    monkeypatch.undo()
    build(built)  # the next build, with room again, is complete and correct
    assert tree_hashes(out) == clean_trees["v2"]


def test_disk_full_on_a_first_build_leaves_no_output_at_all(tmp_path, monkeypatch):
    config = write_site(tmp_path / "site", V1)
    fail_nth_file_write(monkeypatch, 3, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(BuildError) as caught:
        build(config)
    assert "error: disk full while writing" in str(caught.value)
    assert not config.output_dir.exists()
    assert leftovers(config.output_dir) == []


@pytest.mark.parametrize("exc", [RuntimeError("injected"), KeyboardInterrupt(), OSError(errno.EIO, "I/O error")],
                         ids=["exception", "ctrl-c", "eio"])
@pytest.mark.parametrize("n", [1, 5])
def test_other_failures_at_the_nth_write_keep_the_output(built, monkeypatch, clean_trees, exc, n):
    out = built.output_dir
    before = tree_hashes(out)
    fail_nth_file_write(monkeypatch, n, exc)
    expected = BuildError if isinstance(exc, OSError) else type(exc)
    with pytest.raises(expected) as caught:
        build(built)
    if expected is BuildError:
        assert str(caught.value).startswith(f"{out}:1: error: cannot write ")
    assert tree_hashes(out) == before
    assert leftovers(out) == []
    monkeypatch.undo()
    build(built)
    assert tree_hashes(out) == clean_trees["v2"]


# --- the renderer fails -------------------------------------------------------------------------


@pytest.mark.parametrize("exc", [RuntimeError("renderer crashed"), jinja2.TemplateError("broken"), KeyboardInterrupt()],
                         ids=["exception", "template-error", "ctrl-c"])
@pytest.mark.parametrize("target", ["render_digest_page", "render_paper_page", "render_archive", "render_atom"])
def test_renderer_failing_mid_build_keeps_the_output(built, monkeypatch, clean_trees, exc, target):
    out = built.output_dir
    before = tree_hashes(out)
    module = feeds_mod if target == "render_atom" else build_mod
    real = getattr(module, target)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2 or target == "render_archive":
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(module, target, failing)
    with pytest.raises(BuildError if isinstance(exc, jinja2.TemplateError) else type(exc)):
        build(built)
    assert calls
    assert tree_hashes(out) == before
    assert leftovers(out) == []
    monkeypatch.undo()
    build(built)
    assert tree_hashes(out) == clean_trees["v2"]


# --- the swap itself fails --------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 4, "last"])
def test_a_move_failing_mid_commit_is_reported_and_healed_by_the_next_build(built, monkeypatch, clean_trees, n):
    out = built.output_dir
    if n == "last":  # every page but one already moved in, the pages keyed by their inputs among them
        n = staged_file_count(built)
    real_replace = os.replace
    moves = []

    def failing_replace(src, dst, *args, **kwargs):
        if ".tmp-" in str(src):
            moves.append(dst)
            if len(moves) == n:
                raise OSError(errno.EIO, "I/O error")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(write_mod.os, "replace", failing_replace)
    with pytest.raises(BuildError) as caught:
        build(built)
    assert str(caught.value) == f"{out}:1: error: cannot move the new files into {out}: I/O error"
    assert leftovers(out) == []
    monkeypatch.undo()
    # the content goes back to V1: pages already moved in must not pass for current
    set_content(built, V1)
    build(built)
    assert tree_hashes(out) == clean_trees["v1"]
    set_content(built, V2)
    build(built)
    assert tree_hashes(out) == clean_trees["v2"]


def test_ctrl_c_during_the_moves_is_held_until_they_are_done(built, monkeypatch, clean_trees):
    out = built.output_dir
    real_move = write_mod._move_into_place
    sent = []

    def move_then_interrupt(source, target):
        if not sent:
            sent.append(target)
            os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread, where the build runs
        real_move(source, target)

    monkeypatch.setattr(write_mod, "_move_into_place", move_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        build(built)
    assert sent
    assert tree_hashes(out) == clean_trees["v2"]  # every move happened: no half-new tree
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    monkeypatch.undo()
    build(built)
    assert tree_hashes(out) == clean_trees["v2"]


# --- killed builds leave staging behind; the next build removes it ------------------------------


def test_leftovers_of_a_killed_build_are_removed_by_the_next(built, clean_trees):
    out = built.output_dir
    before = tree_hashes(out)
    for name in (f".{out.name}.tmp-99999-1", f".{out.name}.full-99999-1"):
        junk = out.parent / name
        (junk / "2024/03/15").mkdir(parents=True)
        (junk / "2024/03/15/index.html").write_text("half a page")
    unrelated = out.parent / f".{out.name}-notes"
    unrelated.mkdir()
    assert tree_hashes(out) == before
    build(built)
    assert leftovers(out) == []
    assert unrelated.is_dir()  # only the build's own leftovers go
    assert tree_hashes(out) == clean_trees["v2"]


def test_a_build_killed_mid_commit_is_healed_by_the_next(built, clean_trees):
    """A SIGKILL between two moves: some files new, some old, staging left, no state saved."""
    out = built.output_dir
    script = (
        "import os, sys\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from generator import write\n"
        "from generator.build import build\n"
        "from generator.config import load_config\n"
        "real = write._move_into_place\n"
        "moved = []\n"
        "def move(source, target):\n"
        "    real(source, target)\n"
        "    moved.append(target)\n"
        "    if len(moved) == int(sys.argv[3]):\n"
        "        os.kill(os.getpid(), 9)\n"
        "write._move_into_place = move\n"
        "build(load_config(sys.argv[1]))\n"
    )
    last = staged_file_count(built) - 1  # killed just before the last move
    done = subprocess.run([sys.executable, "-c", script, str(built.root / "site.toml"), str(Path(__file__).parent.parent), str(last)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == -9, done.stderr
    assert len(leftovers(out)) == 1
    set_content(built, V1)  # back to the old content: the pages moved in must be rebuilt
    build(built)
    assert leftovers(out) == []
    assert tree_hashes(out) == clean_trees["v1"]


# --- two builds at once -------------------------------------------------------------------------


def test_two_builds_in_threads_are_serialized(built, monkeypatch, clean_trees):
    out = built.output_dir
    spans: list[tuple[float, float]] = []
    real_enter, real_exit = write_mod.SiteWriter.__enter__, write_mod.SiteWriter.__exit__
    starts = {}

    def enter(self):
        result = real_enter(self)
        starts[id(self)] = time.monotonic()
        time.sleep(0.2)  # hold the output a while, so an unserialized second build would overlap
        return result

    def exit_(self, *exc):
        spans.append((starts[id(self)], time.monotonic()))
        return real_exit(self, *exc)

    monkeypatch.setattr(write_mod.SiteWriter, "__enter__", enter)
    monkeypatch.setattr(write_mod.SiteWriter, "__exit__", exit_)
    errors = []

    def run():
        try:
            build(built)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(spans) == 2
    (a_start, a_end), (b_start, b_end) = sorted(spans)
    assert a_end <= b_start, spans  # one writer at a time
    assert tree_hashes(out) == clean_trees["v2"]
    assert leftovers(out) == []


def test_a_build_waits_for_the_lock(built, clean_trees):
    import fcntl

    out = built.output_dir
    before = tree_hashes(out)
    finished = threading.Event()
    with open(out.parent / f".{out.name}.lock", "a+b") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        thread = threading.Thread(target=lambda: (build(built), finished.set()))
        thread.start()
        time.sleep(0.5)
        assert not finished.is_set()
        assert tree_hashes(out) == before  # nothing moved while another holds the lock
        fcntl.flock(holder, fcntl.LOCK_UN)
    thread.join(60)
    assert finished.is_set()
    assert tree_hashes(out) == clean_trees["v2"]


def test_two_build_processes_at_once_both_end_in_a_correct_tree(built, clean_trees):
    out = built.output_dir
    command = [sys.executable, "-m", "generator", "build", "--config", str(built.root / "site.toml")]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    procs = [subprocess.Popen(command, cwd=built.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert tree_hashes(out) == clean_trees["v2"]
    assert leftovers(out) == []
