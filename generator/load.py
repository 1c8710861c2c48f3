"""Find digest files under the content dir and read them, refusing what is unsafe to read."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .problems import Problem

MAX_DIGEST_BYTES = 1024 * 1024
_IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part")


@dataclass(frozen=True)
class Source:
    """A digest file: where it is, and how messages name it."""

    path: Path  # absolute
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
    sources = []
    def unreadable(exc: OSError) -> None:  # a folder left out silently would delete its pages
        problems.append(Problem(shown_path(Path(exc.filename or content_dir), shown_root), 1,
                                f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(content_dir, onerror=unreadable):
        here = Path(dirpath)
        for name in list(dirnames):
            if is_ignored(name) or (here / name).is_symlink():
                if (here / name).is_symlink():
                    problems.append(Problem(shown_path(here / name, shown_root), 1,
                                            "symlinked folder in content dir skipped", "warning"))
                dirnames.remove(name)
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".md") or is_ignored(name):
                continue
            path = here / name
            shown = shown_path(path, shown_root)
            try:
                outside = path.is_symlink() and not path.resolve().is_relative_to(real_root)
            except (OSError, RuntimeError):  # a loop of symlinks
                problems.append(Problem(shown, 1, "symlink loop; refused"))
                continue
            if outside:
                problems.append(Problem(shown, 1, "symlink points outside the content dir; refused"))
                continue
            if path.exists() and not path.is_file():  # a FIFO or a device would block or never end
                problems.append(Problem(shown, 1, "not a regular file; refused"))
                continue
            rel = unicodedata.normalize("NFC", path.relative_to(content_dir).as_posix())
            sources.append(Source(path=path, rel=rel, shown=unicodedata.normalize("NFC", shown)))
    sources.sort(key=lambda s: s.rel)
    return sources, problems


def read_source(source: Source) -> tuple[bytes | None, list[Problem]]:
    """Return the bytes of a digest file, or None and why it could not be read."""
    try:
        with open(source.path, "rb") as handle:
            data = handle.read(MAX_DIGEST_BYTES + 1)
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
