"""Find digest files under the content dir and read them, refusing what is unsafe to read."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .problems import Problem

MAX_DIGEST_BYTES = 1024 * 1024
_IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part", "___jb_tmp___", "___jb_old___")  # the last: JetBrains'


@dataclass(frozen=True)
class Source:
    """A digest file: where it is, and how messages name it."""

    path: str  # absolute (a str: the preview lists 1,000 sources per rebuild, and a Path costs 4 us to make)
    rel: str  # relative to the content dir, NFC, with forward slashes
    shown: str  # how messages name it


def is_ignored(name: str) -> bool:
    """Return whether a file name is an editor's or a writer's temporary file."""
    return name.startswith((".", "#")) or name.endswith(_IGNORED_SUFFIXES) or name == "4913"


def find_sources(content_dir: Path, shown_root: Path) -> tuple[list[Source], list[Problem]]:
    """Return the digest files under content_dir, sorted by path, and what was refused."""
    problems: list[Problem] = []
    if not content_dir.is_dir():
        return [], [Problem(shown_path(content_dir, shown_root), 1, "content dir does not exist")]
    real_root = content_dir.resolve()
    shown_prefix = shown_path(content_dir, shown_root) + "/"
    sources = []
    folders = [(str(content_dir), "")]
    while folders:
        folder, rel_dir = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:  # a folder left out silently would delete its pages
            problems.append(Problem(shown_prefix + rel_dir.rstrip("/") if rel_dir else shown_prefix.rstrip("/"), 1,
                                    f"cannot read folder: {exc.strerror or exc}"))
            continue
        for entry in entries:  # the directory entry's type needs no system call for ordinary files
            name = entry.name
            rel = rel_dir + name
            if entry.is_symlink():
                if _is_dir(entry):
                    problems.append(Problem(shown_prefix + rel, 1, "symlinked folder in content dir skipped", "warning"))
                    continue
            elif entry.is_dir():
                if not is_ignored(name):
                    folders.append((entry.path, rel + "/"))
                continue
            if not name.endswith(".md") or is_ignored(name):
                continue
            shown = unicodedata.normalize("NFC", shown_prefix + rel)
            if not entry.is_file(follow_symlinks=False):
                refused = _refused(Path(entry.path), entry.is_symlink(), real_root)
                if refused:
                    problems.append(Problem(shown, 1, refused))
                    continue
            sources.append(Source(path=entry.path, rel=unicodedata.normalize("NFC", rel), shown=shown))
    sources.sort(key=lambda s: s.rel)
    return sources, problems


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a loop of symlinks: not a folder
        return False


def _refused(path: Path, symlink: bool, real_root: Path) -> str | None:
    """Return why a digest file that is not a plain regular file must not be read, or None."""
    try:
        if symlink and not path.resolve().is_relative_to(real_root):
            return "symlink points outside the content dir; refused"
    except (OSError, RuntimeError):
        return "symlink loop; refused"
    if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
        return "not a regular file; refused"
    return None


def read_source(source: Source) -> tuple[bytes | None, list[Problem]]:
    """Return the bytes of a digest file, or None and why it could not be read."""
    try:
        with open(source.path, "rb") as handle:
            # a buffer of the file's size: one of 1 MiB is an mmap and an mremap per file
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(min(size, MAX_DIGEST_BYTES) + 1)
            if len(data) > size:  # it grew since the stat
                data += handle.read(MAX_DIGEST_BYTES + 1 - len(data))
    except OSError as exc:
        return None, [Problem(source.shown, 1, f"cannot read file: {exc.strerror or exc}")]
    if not data.strip():  # never a digest; most often one caught between truncate and write
        return None, [Problem(source.shown, 1, "file is empty (still being written?)")]
    if len(data) > MAX_DIGEST_BYTES:
        return None, [Problem(source.shown, 1, f"file too large (over {MAX_DIGEST_BYTES // 1024} KiB)")]
    return data, []


def shown_path(path: Path, root: Path) -> str:
    """Return how messages name path: relative to root where it is inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
