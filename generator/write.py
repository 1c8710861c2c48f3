"""Write a built site beside the last good one and swap it in only when complete.

Files whose bytes did not change are hard-linked from the last output instead of written,
so they keep their inode and mtime; a build that fails at any point leaves the last good
output exactly as it was, and its temporary tree is removed then or on the next build.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
from pathlib import Path, PurePosixPath

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

KEPT_ENTRIES = (".git",)  # taken over from the old output (a gh-pages checkout, say)
_RENAME_EXCHANGE = 2


class OutputError(Exception):
    """An output path or a write that cannot be done; the message says which."""


def _temp_names(output_dir: Path) -> tuple[Path, Path, Path]:
    parent, name = output_dir.parent, output_dir.name
    return (parent / f".{name}.lock", parent / f".{name}.tmp-{os.getpid()}", parent / f".{name}.old-{os.getpid()}")


class SiteWriter:
    """Collect a site's files in a temporary tree, then swap it for output_dir."""

    def __init__(self, output_dir: Path):
        self.output_dir = Path(output_dir).absolute()
        self.lock_path, self.tmp_dir, self.old_dir = _temp_names(self.output_dir)
        self.written = 0
        self.unchanged = 0
        self._paths: set[str] = set()
        self._lock_file = None

    def __enter__(self) -> "SiteWriter":
        self.output_dir.parent.mkdir(parents=True, exist_ok=True)
        if self.output_dir.is_symlink():
            raise OutputError(f"output dir {self.output_dir} is a symlink; refusing to replace it")
        self._lock_file = open(self.lock_path, "a+b")
        if fcntl is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        remove_leftovers(self.output_dir)
        self.tmp_dir.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._swap()
        finally:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            shutil.rmtree(self.old_dir, ignore_errors=True)
            if self._lock_file is not None:
                self._lock_file.close()

    def write(self, rel: str, data: bytes | str) -> None:
        """Add one file at rel (a relative POSIX path) to the new tree."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        target = self._target(rel)
        old = self.output_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if _same_bytes(old, data):
            try:
                os.link(old, target)
                self.unchanged += 1
                return
            except OSError:
                pass
        try:
            with open(target, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise OutputError(f"disk full while writing {rel}") from exc
            raise OutputError(f"cannot write {rel}: {exc.strerror or exc}") from exc
        self.written += 1

    def copy(self, rel: str, source: Path) -> None:
        """Add a copy of the file source at rel."""
        self.write(rel, source.read_bytes())

    def _target(self, rel: str) -> Path:
        pure = PurePosixPath(rel)
        if pure.is_absolute() or not pure.parts or any(p in ("", ".", "..") for p in pure.parts) or "\\" in rel or "\x00" in rel:
            raise OutputError(f"refusing to write outside the output dir: {rel!r}")
        if any(len(p.encode("utf-8")) > 255 for p in pure.parts):
            raise OutputError(f"output name too long: {rel[:80]!r}")
        key = rel.casefold()
        if key in self._paths:
            raise OutputError(f"two outputs would write the same file: {rel}")
        self._paths.add(key)
        return self.tmp_dir.joinpath(*pure.parts)

    def _swap(self) -> None:
        old = self.output_dir
        if old.is_dir():
            for name in KEPT_ENTRIES:
                if (old / name).exists() and not (self.tmp_dir / name).exists():
                    os.rename(old / name, self.tmp_dir / name)
            if _exchange(self.tmp_dir, old):
                return  # the old tree is now at tmp_dir and is removed in __exit__
            os.rename(old, self.old_dir)
            try:
                os.rename(self.tmp_dir, old)
            except OSError:
                os.rename(self.old_dir, old)
                raise
        elif old.exists():
            raise OutputError(f"output path {old} exists and is not a folder")
        else:
            os.rename(self.tmp_dir, old)


def remove_leftovers(output_dir: Path) -> None:
    """Remove temporary trees that interrupted builds left beside output_dir."""
    parent, name = output_dir.parent, output_dir.name
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if entry.name.startswith((f".{name}.tmp-", f".{name}.old-")) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data) or path.is_symlink():
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


_libc = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically where the OS can (Linux renameat2); return whether it did."""
    global _libc
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    with contextlib.suppress(Exception):
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        at_fdcwd = -100
        result = _libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
        return result == 0
    return False
