"""Rebuild on change: a debounced rebuild loop and a watchdog watcher that only sets its flag.

Neither class knows how a site is built: the Rebuilder is handed a rebuild function that
returns the problems of a failed build (an empty list when it succeeded), and the Watcher
calls a function when something it watches changed. `serve.serve()` wires them together.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from watchdog.events import (DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileClosedEvent, FileCreatedEvent,
                             FileDeletedEvent, FileModifiedEvent, FileMovedEvent, FileSystemEvent,
                             FileSystemEventHandler)
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from .load import is_ignored

QUIET_SECONDS = 0.02  # rebuild once nothing changed for this long (at once after a finished save)...
MAX_DELAY_SECONDS = 1.0  # ...or once changes kept coming for this long
CHECK_SECONDS = 1.0  # how often the watcher looks for watched dirs that vanished or came back
WATCHED_EVENTS = [FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent, FileClosedEvent,
                  DirCreatedEvent, DirDeletedEvent, DirMovedEvent]
INOTIFY_HINT = ("raise the limit with 'sudo sysctl fs.inotify.max_user_watches=524288' "
                "(and fs.inotify.max_user_instances=1024)")


@dataclass(frozen=True)
class BuildState:
    """The outcome of the last rebuild: its epoch and its problems (none when it succeeded)."""

    epoch: int
    problems: tuple[str, ...] = ()
    building: bool = False

    @property
    def ok(self) -> bool:
        """Return whether the last rebuild succeeded."""
        return not self.problems


class Rebuilder:
    """Run a rebuild function after changes settle; let requests and pages wait for the result."""

    def __init__(self, rebuild: Callable[[], list[str]], *, quiet: float = QUIET_SECONDS,
                 max_delay: float = MAX_DELAY_SECONDS, on_error: Callable[[str], None] | None = None):
        self._rebuild = rebuild
        self._quiet = quiet
        self._max_delay = max_delay
        self._on_error = on_error or (lambda message: None)
        self._cond = threading.Condition()
        self._epoch = time.time_ns() // 1_000_000  # a restarted server never repeats an epoch
        self._problems: tuple[str, ...] = ()
        self._building = False
        self._changed = False
        self._saved = False  # whether the last change was a finished save: no need to wait for quiet
        self._first_change = 0.0
        self._last_change = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def state(self) -> BuildState:
        """Return the current build state."""
        with self._cond:
            return BuildState(self._epoch, self._problems, self._building or self._changed)

    def rebuild_now(self) -> BuildState:
        """Run one rebuild in the calling thread (the first build); return its state."""
        with self._cond:
            self._building = True
        self._finish(self._run_rebuild())
        return self.state()

    def start(self) -> None:
        """Start the thread that rebuilds after changes."""
        self._thread = threading.Thread(target=self._loop, name="digest-rebuild", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the rebuild thread and wake every waiter."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def mark_changed(self, saved: bool = False) -> None:
        """Note that a watched file changed; a rebuild follows once changes settle.

        saved says the change finished a save (a file written and closed, or renamed into
        place): the rebuild starts at once instead of after the quiet time. A change that
        follows it before the rebuild starts waits for quiet again.
        """
        now = time.monotonic()
        with self._cond:
            if not self._changed:
                self._first_change = now
            self._changed = True
            self._saved = saved
            self._last_change = now
            self._cond.notify_all()

    def wait_for_epoch_change(self, epoch: int, timeout: float) -> BuildState:
        """Return the state once its epoch differs from epoch, or after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._epoch == epoch and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return BuildState(self._epoch, self._problems, self._building or self._changed)

    def wait_until_idle(self, timeout: float) -> BuildState:
        """Return the state once no rebuild is running or pending, or after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._building or self._changed) and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return BuildState(self._epoch, self._problems, self._building or self._changed)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._changed and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                while not self._stopping and not self._saved:
                    now = time.monotonic()
                    remaining = min(self._last_change + self._quiet, self._first_change + self._max_delay) - now
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if self._stopping:
                    return
                self._changed = self._saved = False
                self._building = True
            self._finish(self._run_rebuild())

    def _run_rebuild(self) -> tuple[str, ...]:
        try:
            return tuple(self._rebuild())
        except Exception as exc:  # noqa: BLE001 - a broken rebuild must never stop the server
            message = f"<preview>:1: error: internal error while rebuilding: {type(exc).__name__}: {exc}"
            self._on_error(message)
            return (message,)

    def _finish(self, problems: tuple[str, ...]) -> None:
        with self._cond:
            self._problems = problems
            self._epoch += 1
            self._building = False
            self._cond.notify_all()


class _ChangeHandler(FileSystemEventHandler):
    """Call on_change for every event that is not an editor's temporary file, saying whether it finished a save."""

    def __init__(self, on_change: Callable[[bool], None], only: frozenset[str] | None, exclude: tuple[str, ...]):
        self._on_change = on_change
        self._only = only  # for a non-recursive watch of a parent dir: the entries that matter
        self._exclude = exclude  # folders the build writes to (the cache), never a reason to rebuild

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [os.fsdecode(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(os.fsdecode(event.dest_path))  # an editor's rename-into-place lands here
        if any(self._matters(path) for path in paths):
            # a file written and closed, or renamed into place (an editor's atomic save), is
            # whole: waiting for quiet only delays the rebuild (a fifth of an edit's latency)
            saved = not event.is_directory and (isinstance(event, FileClosedEvent) or (
                isinstance(event, FileMovedEvent) and self._matters(paths[-1])))
            self._on_change(saved)

    def _matters(self, path: str) -> bool:
        path = os.path.normpath(path)
        if any(path == folder or path.startswith(folder + os.sep) for folder in self._exclude):
            return False
        if self._only is not None:
            return path in self._only
        return not is_ignored(os.path.basename(path))


class Watcher:
    """Watch folders (never single files) with watchdog, re-arming the ones that vanish and return."""

    def __init__(self, on_change: Callable[[bool], None], *, say: Callable[[str], None] = lambda line: None,
                 observer_factory: Callable[[], object] = Observer):
        self._on_change = on_change
        self._say = say
        self._lock = threading.Lock()
        self._wanted: dict[str, tuple[bool, frozenset[str] | None]] = {}  # dir -> (recursive, only)
        self._scheduled: dict[str, tuple[object, int]] = {}  # dir -> (watch, inode)
        self._exclude: tuple[str, ...] = ()
        self.polling = False
        try:
            self._observer = observer_factory()
            self._observer.start()
            self.polling = isinstance(self._observer, PollingObserver)
        except OSError as exc:  # inotify_init itself can hit the instance limit
            self._observer = None
            self._fall_back_to_polling(exc)
        self._stop = threading.Event()
        self._checker = threading.Thread(target=self._check_loop, name="digest-watch-check", daemon=True)
        self._checker.start()

    def watch(self, trees: list[Path], files: list[Path], exclude: list[Path] = ()) -> None:
        """Watch the trees recursively and the files through their folders; re-arm what changed."""
        self._exclude = tuple(os.path.normpath(str(path)) for path in exclude)
        wanted: dict[str, tuple[bool, frozenset[str] | None]] = {}
        for tree in trees:
            wanted[str(tree)] = (True, None)
        parents: dict[str, set[str]] = {}
        for path in [*files, *trees]:  # a parent watch sees a tree deleted and created again
            parents.setdefault(str(path.parent), set()).add(os.path.normpath(str(path)))
        for parent, names in parents.items():
            if parent not in wanted:
                wanted[parent] = (False, frozenset(names))
        with self._lock:
            self._wanted = wanted
            self._reconcile()

    def stop(self) -> None:
        """Stop watching and join the watcher's threads."""
        self._stop.set()
        self._checker.join(5)
        self._observer.stop()
        self._observer.join(5)

    def _reconcile(self) -> None:
        for path in list(self._scheduled):
            if _inode(path) != self._scheduled[path][1] or path not in self._wanted:
                watch, _ = self._scheduled.pop(path)
                try:
                    self._observer.unschedule(watch)
                except Exception:  # noqa: BLE001 - a watch whose folder is gone may already be dead
                    pass
        for path, (recursive, only) in self._wanted.items():
            inode = _inode(path)
            if inode is None or path in self._scheduled:
                continue
            try:
                handler = _ChangeHandler(self._on_change, only, self._exclude)
                watch = self._observer.schedule(handler, path, recursive=recursive, event_filter=WATCHED_EVENTS)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EMFILE) and not self.polling:
                    self._fall_back_to_polling(exc)
                    return self._reconcile()
                self._say(f"warning: cannot watch {path}: {exc.strerror or exc}")
                continue
            self._scheduled[path] = (watch, inode)

    def _fall_back_to_polling(self, exc: OSError) -> None:
        self._say(f"warning: inotify limit reached ({exc.strerror or exc}); watching by polling instead, "
                  f"which is slower. To fix it, {INOTIFY_HINT}")
        for watch, _ in self._scheduled.values():
            try:
                self._observer.unschedule(watch)
            except Exception:  # noqa: BLE001
                pass
        self._scheduled.clear()
        if self._observer is not None:
            self._observer.stop()
        self._observer = PollingObserver(timeout=0.5)
        self._observer.start()
        self.polling = True

    def _check_loop(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            with self._lock:
                stale = any((path in self._scheduled) != (_inode(path) is not None)
                            or (path in self._scheduled and self._scheduled[path][1] != _inode(path))
                            for path in self._wanted)
                if stale:
                    self._reconcile()
            if stale:
                self._on_change(False)


def _inode(path: str) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino if stat.S_ISDIR(st.st_mode) else None
