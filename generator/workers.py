"""Spread work over the machine's cores with fork, for the stages that dominate a cold build.

Children inherit the parent's memory (the parsed site, the compiled templates), so nothing
but results crosses a process boundary. Where fork is unsafe or not worth it (other
threads running, as in the preview server; few items; one core) the work runs inline.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from functools import partial
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_WORKER = 64
RUNS_PER_WORKER = 32  # the queue's runs: small enough that no process waits long for another at the end
MAX_RUNS = 1024  # 4 KiB of run numbers, what any system's pipe holds before a reader takes some


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
    runs before it joins in), simply takes fewer runs. before_fork runs in the parent only
    when it will fork, before it does. An exception in any child is raised again in the parent.
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
                _run_child(partial(_take_runs, fn, items, size, queue), write_fd)
            os.close(write_fd)
            children.append((pid, read_fd))
        if first is not None:
            first()
        done = _take_runs(fn, items, size, queue)
        for pid, read_fd in children:
            with os.fdopen(read_fd, "rb") as pipe:  # unpickled as it streams in: no copy of the whole payload
                try:
                    status, value = pickle.load(pipe)
                except Exception:  # noqa: BLE001 - cut short: the child died before it finished writing
                    status, value = "error", RuntimeError("a build worker died")
            os.waitpid(pid, 0)
            if status == "error":
                raise value
            done += value
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


def _take_runs(fn: Callable, items: Sequence, size: int, queue: int) -> list[tuple[int, list]]:
    """Return (start, fn's results) for each run of items taken from queue until it is empty."""
    done = []
    while taken := os.read(queue, 4):  # a read of 4 bytes from a pipe written in fours is never split
        start = int.from_bytes(taken, "little") * size
        done.append((start, list(fn(items[start:start + size]))))
    return done


def _run_child(work: Callable[[], object], write_fd: int) -> None:
    code = 0
    try:
        try:
            result = ("ok", work())
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            result = ("error", exc)
        with os.fdopen(write_fd, "wb") as pipe:
            try:  # streamed into the pipe: no copy of the whole payload
                pickle.dump(result, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - unpicklable; if part was written, the parent sees a dead worker
                failure = exc if result[0] == "ok" else result[1]
                pickle.dump(("error", RuntimeError(f"{type(failure).__name__}: {failure}")), pipe)
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)
