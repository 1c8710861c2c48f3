"""Spread work over the machine's cores with fork, for the stages that dominate a cold build.

Children inherit the parent's memory (the parsed site, the compiled templates), so nothing
but results crosses a process boundary. Where fork is unsafe or not worth it (other
threads running, as in the preview server; few items; one core) the work runs inline.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from queue import SimpleQueue
from typing import Callable, Sequence, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX, where there is no fork either
    fcntl = None

T = TypeVar("T")
R = TypeVar("R")

# Each process takes at least 32 pages or digests, so a second one starts at 64 (it was 128):
# the daily build that adds a day (110 pages, mostly home pages) took 0.41 s instead of 0.49 s
# at 1,000 digests, and the sample site's cold build (93 files) 0.31 s instead of 0.38 s.
MIN_ITEMS_PER_WORKER = 32
RUNS_PER_WORKER = 32  # the queue's runs: small enough that no process waits long for another at the end
MAX_RUNS = 1024  # 4 KiB of run numbers, what any system's pipe holds before a reader takes some
PIPE_BYTES = 1 << 20  # what Linux lets anyone make a pipe hold: the results of a run or two of parsed digests


def worker_count(items: int) -> int:
    """Return how many processes are worth using for items pieces of work."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, items // MIN_ITEMS_PER_WORKER))


def fork_map(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], jobs: int | None = None,
             first: Callable[[], None] | None = None) -> list[R]:
    """Return fn's results for items, in order, computed in forked children when worthwhile.

    fn takes a share of the items and returns one result per item. The items are handed out
    in small runs from a queue (a pipe of run numbers) that every process reads until it is
    empty, the parent too: a process slowed by costly items, or by first (which the parent
    runs before it joins in), simply takes fewer runs. A child sends each run's results as
    soon as it has them, and the parent takes in what has arrived after each of its own
    runs: pickling and unpickling them overlaps the work instead of following it (the parsed
    digests of a cold build come back this way, nearly a tenth of its CPU). An exception in
    any child is raised again in the parent.
    """
    jobs = worker_count(len(items)) if jobs is None else jobs
    if jobs <= 1:
        if first is not None:
            first()
        return list(fn(items)) if items else []
    size = -(-len(items) // min(jobs * RUNS_PER_WORKER, MAX_RUNS))
    runs = -(-len(items) // size)
    queue, queue_end = os.pipe()
    os.write(queue_end, b"".join(run.to_bytes(4, "little") for run in range(runs)))  # fits in any pipe: no reader yet
    os.close(queue_end)
    children: list[tuple[int, int]] = []
    try:
        for _ in range(jobs - 1):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: take runs, send the results, leave without cleanup
                os.close(read_fd)
                _run_child(fn, items, size, queue, write_fd)
            os.close(write_fd)
            if fcntl is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
                with contextlib.suppress(OSError):  # room for a run's results while the parent works
                    fcntl.fcntl(read_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            os.set_blocking(read_fd, False)
            children.append((pid, read_fd))
        if first is not None:
            first()
        inboxes = [_Inbox(read_fd) for _, read_fd in children]
        done = []
        while taken := os.read(queue, 4):  # a read of 4 bytes from a pipe written in fours is never split
            start = int.from_bytes(taken, "little") * size
            done.append((start, list(fn(items[start:start + size]))))
            for inbox in inboxes:
                done += inbox.take(block=False)
        for inbox in inboxes:
            done += inbox.take(block=True)
        for pid, read_fd in children:
            os.waitpid(pid, 0)
            os.close(read_fd)
        children.clear()
        merged: list = [None] * len(items)
        for start, results in done:
            merged[start:start + len(results)] = results
        return merged
    finally:
        os.close(queue)
        for pid, read_fd in children:
            for action in (lambda: os.kill(pid, signal.SIGTERM), lambda: os.waitpid(pid, 0), lambda: os.close(read_fd)):
                try:
                    action()
                except OSError:
                    pass


def fork_call(fn: Callable[[], R]) -> Callable[[], R | None]:
    """Start fn() in a forked child; return a function that waits for and returns its result.

    The result is None if the child failed, or if no child could be started (fork unsafe
    or missing): the caller then does the work itself. Call the returned function exactly
    as often as needed: it reaps the child once and keeps the result.
    """
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return lambda: None
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without cleanup
        code = 1
        try:
            os.close(read_fd)
            view = memoryview(pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL))
            while view:
                view = view[os.write(write_fd, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    outcome: list = []

    def result() -> R | None:
        if not outcome:
            chunks = []
            try:
                while chunk := os.read(read_fd, PIPE_BYTES):  # all of it first: a full pipe holds the child up
                    chunks.append(chunk)
            finally:
                os.close(read_fd)
                _, status = os.waitpid(pid, 0)
            try:
                outcome.append(pickle.loads(b"".join(chunks)) if status == 0 else None)
            except Exception:  # noqa: BLE001 - cut short: the caller does the work itself
                outcome.append(None)
        return outcome[0]

    return result


class _Inbox:
    """The parent's end of a child's pipe: frames of pickled (start, results) of runs, then an end frame."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = bytearray()
        self.ended = False

    def take(self, block: bool) -> list[tuple[int, list]]:
        """Return the runs whose frames have arrived (all of them, up to the end frame, if block)."""
        runs = []
        if block:
            os.set_blocking(self.fd, True)
        while not self.ended:
            try:
                chunk = os.read(self.fd, PIPE_BYTES)
            except BlockingIOError:  # nothing more yet
                break
            if not chunk:  # the child is gone without its end frame
                raise RuntimeError("a build worker died")
            self.buffer += chunk
            while len(self.buffer) >= 8:
                length = int.from_bytes(self.buffer[:8], "little")
                if len(self.buffer) < 8 + length:
                    break
                status, value = pickle.loads(self.buffer[8:8 + length])  # a copy: the buffer is cut next
                del self.buffer[:8 + length]
                if status == "error":
                    raise value
                if status == "end":
                    self.ended = True
                    break
                runs.append(value)
        return runs


class _Outbox:
    """A child's end of its pipe, written by a thread of the child's own while it works on.

    The parent takes results in only between its own runs. A child that waited on a full
    pipe stood idle until then: at 3,000 digests a run's parsed digests outgrow the pipe,
    and the child stood idle a third of the parse. Written only when the child sent its
    next run, the pipe fell behind, and the parent took in a backlog alone at the end.
    """

    def __init__(self, fd: int):
        self.fd = fd
        self.frames: SimpleQueue[tuple[bytes, bytes] | None] = SimpleQueue()
        self.failure: OSError | None = None
        self.writer = threading.Thread(target=self._write, daemon=True)
        self.writer.start()

    def send(self, message: tuple) -> None:
        """Queue message as a frame for the pipe."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.frames.put((len(data).to_bytes(8, "little"), data))

    def close(self) -> None:
        """Return when every frame is in the pipe; raise what stopped the writing, if anything did."""
        self.frames.put(None)
        self.writer.join()
        if self.failure is not None:
            raise self.failure

    def _write(self) -> None:
        try:
            while (frame := self.frames.get()) is not None:
                for part in frame:
                    view = memoryview(part)
                    while view:  # the interpreter lock is free while the write waits for the parent
                        view = view[os.write(self.fd, view):]
        except OSError as exc:  # the parent is gone
            self.failure = exc


def _run_child(fn: Callable, items: Sequence, size: int, queue: int, write_fd: int) -> None:
    """Take runs from queue and send each one's results to write_fd, then an end frame; leave without cleanup."""
    code = 0
    try:
        outbox = _Outbox(write_fd)
        try:
            while taken := os.read(queue, 4):
                start = int.from_bytes(taken, "little") * size
                outbox.send(("ok", (start, list(fn(items[start:start + size])))))
            outbox.send(("end", None))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            try:
                outbox.send(("error", exc))
            except Exception:  # noqa: BLE001 - unpicklable: the parent gets its text
                outbox.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        outbox.close()
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)
