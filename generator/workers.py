"""Spread work over the machine's cores with fork, for the stages that dominate a cold build.

Children inherit the parent's memory (the parsed site, the compiled templates), so nothing
but results crosses a process boundary. Where fork is unsafe or not worth it (other
threads running, as in the preview server; few items; one core) the work runs inline.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import signal
import threading
from typing import Callable, Sequence, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX, where there is no fork either
    fcntl = None

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_WORKER = 64
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
             first: Callable[[], None] | None = None, before_fork: Callable[[], None] | None = None) -> list[R]:
    """Return fn's results for items, in order, computed in forked children when worthwhile.

    fn takes a share of the items and returns one result per item. The items are handed out
    in small runs from a queue (a pipe of run numbers) that every process reads until it is
    empty, the parent too: a process slowed by costly items, or by first (which the parent
    runs before it joins in), simply takes fewer runs. A child sends each run's results as
    soon as it has them, and the parent takes in what has arrived after each of its own
    runs: pickling and unpickling them overlaps the work instead of following it (the parsed
    digests of a cold build come back this way, nearly a tenth of its CPU). before_fork runs in the
    parent only when it will fork, before it does. An exception in any child is raised
    again in the parent.
    """
    jobs = worker_count(len(items)) if jobs is None else jobs
    if jobs <= 1:
        if first is not None:
            first()
        return list(fn(items)) if items else []
    if before_fork is not None:
        before_fork()
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
    """A child's end of its pipe: frames go in as far as the pipe takes them, the rest waits for the next send.

    A child that waited on a full pipe would stand idle until the parent ends its run and
    reads: at 3,000 digests a run's parsed digests outgrow the pipe, and the child stood
    idle for a third of the parse.
    """

    def __init__(self, fd: int):
        self.fd = fd
        self.pending: collections.deque[memoryview] = collections.deque()  # what the pipe has yet to take
        os.set_blocking(fd, False)

    def send(self, message: tuple) -> None:
        """Frame and queue message, and write what the pipe takes."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.pending.append(memoryview(len(data).to_bytes(8, "little")))
        self.pending.append(memoryview(data))
        self.flush(block=False)

    def flush(self, block: bool) -> None:
        """Write the queued frames, all of them if block, else what the pipe takes now."""
        if block:
            os.set_blocking(self.fd, True)
        while self.pending:
            try:
                written = os.write(self.fd, self.pending[0])
            except BlockingIOError:  # full: the parent reads after its current run
                return
            if written == len(self.pending[0]):
                self.pending.popleft()
            else:
                self.pending[0] = self.pending[0][written:]


def _run_child(fn: Callable, items: Sequence, size: int, queue: int, write_fd: int) -> None:
    """Take runs from queue and send each one's results to write_fd, then an end frame; leave without cleanup."""
    code = 0
    outbox = _Outbox(write_fd)
    try:
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
        outbox.flush(block=True)
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)
