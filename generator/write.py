"""Write a built site so that a failed build never touches the last good output.

Every new or changed file is first written into a staging folder beside the output; only
when the whole site has been rendered and staged are the staged files moved into place
(a rename each, with Ctrl-C held off) and the files of deleted pages removed. A file whose
bytes did not change is never rewritten, and a page whose inputs did not change (its key
matches the one recorded for the last build) is not even rendered. The first build into
a missing output folder renames the staging folder into place in one step.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import pickle
import shutil
import signal
import stat
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

from .cache import prune_records, write_pickle

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

KEPT_ENTRIES = (".git",)  # never removed from the output (a gh-pages checkout, say)


def missing_files(folder: Path, files: Iterable[str]) -> Iterator[str]:
    """Yield each of files (paths relative to folder) that does not exist; all of them if folder cannot be opened."""
    if os.access not in os.supports_dir_fd:
        yield from (rel for rel in files if not os.path.exists(os.path.join(folder, rel)))
        return
    try:  # relative to the open folder: half the time of a stat of each full path (47,000 files at 3,000 digests)
        opened = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield from files
        return
    try:
        yield from (rel for rel in files if not os.access(rel, os.F_OK, dir_fd=opened))
    finally:
        os.close(opened)


def record_path(output_dir: Path, state_dir: Path) -> Path:
    """Return the file under state_dir where a build into output_dir keeps its record (rel -> key of its files)."""
    digest = hashlib.sha256(str(Path(output_dir).absolute()).encode()).hexdigest()[:16]
    return Path(state_dir) / f"output-{digest}.pickle"


def load_record(path: Path) -> tuple[dict[str, str], object, tuple[int, int, int] | None]:
    """Return the files and the note a build recorded at path, and which version of the file that was
    (inode, size, modification time); empty, and None, if it is missing or broken."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            state = pickle.load(handle)
    except Exception:  # noqa: BLE001 - a missing or broken record only costs a full render
        return {}, None, None
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
        return state[0], state[1], (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return {}, None, None


def missing_recorded(output_dir: Path, state_dir: Path) -> tuple[tuple[int, int, int] | None, list[str]]:
    """Return which version of the record of output_dir this read, and which of its files are not there.

    What SiteWriter checks on entering, done ahead (in a forked child, while the build loads
    the archive: 15,669 files take 30 ms); the writer uses it only if it then reads the same
    version of the record.
    """
    files, _, version = load_record(record_path(output_dir, state_dir))
    return version, list(missing_files(output_dir, list(files)))


class OutputError(Exception):
    """An output path or a write that cannot be done; the message says which."""


class KeptTree(NamedTuple):
    """A folder and its files, as listed when its identity (see folder_identity) was taken."""

    folder: tuple[int, int, int]  # device, inode and modification time of the folder
    files: tuple[str, ...]


def lock_path(output_dir: Path) -> Path:
    """Return the file a SiteWriter locks while it builds into output_dir (beside it, not in it)."""
    return output_dir.parent / f".{output_dir.name}.lock"


@contextlib.contextmanager
def output_locked(output_dir: Path) -> Iterator[None]:
    """Hold output_dir's lock, as a SiteWriter does from start to end: no build moves files meanwhile."""
    with open(lock_path(Path(output_dir).absolute()), "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


class SiteWriter:
    """Stage a site's new and changed files, then move them into output_dir all at once."""

    def __init__(self, output_dir: Path, state_dir: Path | None = None, trust_state: bool = True,
                 private: bool = False, previous: dict[str, str] | None = None,
                 checked: Callable[[], tuple | None] | None = None):
        self.output_dir = Path(output_dir).absolute()
        parent, name = self.output_dir.parent, self.output_dir.name
        self.lock_path = lock_path(self.output_dir)
        self.stage_dir = parent / f".{name}.tmp-{os.getpid()}-{threading.get_ident()}"
        self.full_dir = parent / f".{name}.full-{os.getpid()}-{threading.get_ident()}"
        self.state_path = record_path(self.output_dir, state_dir) if state_dir else None
        self._checked = checked  # what missing_recorded found ahead, if anything (None when it could not)
        self.written = 0
        self.unchanged = 0
        self.produced: dict[str, str] = {}  # rel -> key of every file of this build
        self._staged: list[str] = []
        self._folded: set[str] = set()
        self._previous: dict[str, str] = {}
        self._lock_file = None
        self._stage_fd: int | None = None  # the staging folder, open where files can be made relative to it
        self._stage_folders: set[str] = {""}  # folders known to exist in it
        self._output_exists = False
        self._trust_state = trust_state
        self._private = private  # only this process writes output_dir (the preview's): trust the record of it
        self._known = previous  # the record of the last build, when the caller kept it (no need to load it)
        self.last_note: object = None  # what the last build kept with its record (loaded when previous is not given)
        self.note: object = None  # what this build keeps with its record, for the next one

    # --- the build's side ---------------------------------------------------------------

    def __enter__(self) -> "SiteWriter":
        if self.output_dir.is_symlink():
            raise OutputError(f"output dir {self.output_dir} is a symlink; refusing to replace it")
        if self.output_dir.exists() and not self.output_dir.is_dir():
            raise OutputError(f"output path {self.output_dir} exists and is not a folder")
        try:
            self.output_dir.parent.mkdir(parents=True, exist_ok=True)
            self._lock_file = open(self.lock_path, "a+b")
            if fcntl is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            remove_leftovers(self.output_dir)
            if not (self.output_dir.is_dir() and self._trust_state):
                self._previous = {}
            else:
                version = None
                if self._known is not None:
                    self._previous = dict(self._known)
                elif self.state_path is not None:
                    self._previous, self.last_note, version = load_record(self.state_path)
                if not self._private:  # files deleted by hand since the last build are made again
                    ahead = self._checked() if self._checked is not None else None
                    if ahead is not None and version is not None and ahead[0] == version:
                        missing = ahead[1]
                    else:
                        missing = missing_files(self.output_dir, list(self._previous))
                    for rel in missing:
                        del self._previous[rel]
            if not self._previous and not _made_by_us(self.output_dir):
                raise OutputError(f"output dir {self.output_dir} is not empty and was not made by digest build; "
                                  "a build removes every file in it that it did not make, so empty it or choose another")
            self.stage_dir.mkdir()
            if os.open in os.supports_dir_fd:
                self._stage_fd = os.open(self.stage_dir, os.O_RDONLY | os.O_DIRECTORY)
            self._output_exists = self.output_dir.is_dir()
        except OSError as exc:
            self._release()
            raise OutputError(f"cannot prepare the output dir {self.output_dir}: {exc.strerror or exc}") from exc
        except OutputError:
            self._release()
            raise
        return self

    def _release(self) -> None:
        if self._stage_fd is not None:
            os.close(self._stage_fd)
            self._stage_fd = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            shutil.rmtree(self.stage_dir, ignore_errors=True)
            shutil.rmtree(self.full_dir, ignore_errors=True)
            self._release()

    def is_current(self, rel: str, key: str) -> bool:
        """Return whether rel was built from the same inputs last time and is still there (then keep it)."""
        if not key or self._previous.get(rel) != key:
            return False
        self.claim(rel)
        self.produced[rel] = key
        self.unchanged += 1
        return True

    def keep(self, pages: dict[str, str]) -> None:
        """Keep these files of the last output as they are, under their keys (all claimed by the last build)."""
        if not pages:
            return
        if not pages.keys() <= self._previous.keys():
            raise OutputError("only files of the last build can be kept")
        folded = set(map(str.casefold, pages))
        if len(folded) != len(pages) or not folded.isdisjoint(self._folded):
            raise OutputError("two outputs would write the same file")
        self._folded |= folded
        self.produced.update(pages)
        self.unchanged += len(pages)

    def write(self, rel: str, data: bytes | str, key: str = "") -> None:
        """Add one file at rel (a relative POSIX path), staged only if its bytes changed."""
        self.claim(rel)
        self.record(rel, key, self.stage(rel, data))

    def stage(self, rel: str, data: bytes | str) -> bool:
        """Write data for rel into the staging folder unless the output already holds it; return whether it did.

        Safe to call from forked build workers: it touches only the staging folder.
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        if self._output_exists and _same_bytes(self.output_dir / rel, data):
            return False
        try:
            self._write_staged(rel, data)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise OutputError(f"disk full while writing {rel}") from exc
            raise OutputError(f"cannot write {rel}: {exc.strerror or exc}") from exc
        return True

    def _write_staged(self, rel: str, data: bytes) -> None:
        """Write data into the staging folder at rel, making its folders.

        Relative to the open staging folder, with os.open and without a file object: a
        full build stages 15,668 files, and pathlib and buffered files cost five times the
        Python time of the writes themselves.
        """
        prefix = "" if self._stage_fd is not None else str(self.stage_dir) + os.sep
        folder = rel.rpartition("/")[0]
        if folder not in self._stage_folders:
            parts = folder.split("/")
            for depth in range(1, len(parts) + 1):
                sub = "/".join(parts[:depth])
                if sub not in self._stage_folders:
                    with contextlib.suppress(FileExistsError):  # made by another build worker
                        os.mkdir(prefix + sub, dir_fd=self._stage_fd)
                    self._stage_folders.add(sub)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        handle = os.open(prefix + rel, flags, 0o666, dir_fd=self._stage_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
        finally:
            os.close(handle)

    def record(self, rel: str, key: str, staged: bool) -> None:
        """Note that rel, claimed earlier, belongs to this build (and was staged, or is unchanged)."""
        self.produced[rel] = key
        if staged:
            self._staged.append(rel)
            self.written += 1
        else:
            self.unchanged += 1

    def write_tree(self, rel_dir: str, source: Path) -> None:
        """Add every file under source as rel_dir/..., staged only where bytes changed."""
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.is_symlink():
                self.write(f"{rel_dir}/{path.relative_to(source).as_posix()}", path.read_bytes())

    def changed_under(self, prefix: str) -> bool:
        """Return whether any file under prefix is new, changed or gone since the last build (True if unknown)."""
        if not self._previous:
            return True
        gone = self._previous.keys() - self.produced.keys()  # a set difference: the preview's record holds 30,000
        return any(rel.startswith(prefix) for rel in self._staged) or any(rel.startswith(prefix) for rel in gone)

    def keep_tree(self, rel_dir: str, known: KeptTree | None = None) -> KeptTree | None:
        """Keep the last output's files under rel_dir as they are; return what was kept, or None if it has none.

        known is what this returned for the same output before: if the folder is still the one
        it listed (replaced, a folder is another), its files are not looked for again. Only
        the preview passes it, whose output no one else writes; its search index is some
        15,000 files at 1,000 digests, and walking them took a third of a rebuild.
        """
        root = self.output_dir / rel_dir
        tree = known if known is not None and known.folder == folder_identity(root) else list_tree(root, rel_dir)
        if tree is None:
            return None
        files = tree.files
        previous = self._previous
        for rel in files:
            if rel not in previous:  # a file no build has claimed yet (an index made since): checked one by one
                self.claim(rel)
                self.record(rel, "", False)
        self.keep(dict.fromkeys((rel for rel in files if rel in previous), ""))  # the others, in bulk
        return tree

    def full_tree(self) -> Path:
        """Return a folder holding the whole new site (hard links), for tools that read a site."""
        if not self.output_dir.is_dir():
            return self.stage_dir
        shutil.rmtree(self.full_dir, ignore_errors=True)
        staged = set(self._staged)
        try:
            for rel in self.produced:
                target = self.full_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                source = (self.stage_dir if rel in staged else self.output_dir) / rel
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copyfile(source, target)
        except OSError as exc:
            raise OutputError(f"cannot assemble the new site for indexing: {exc.strerror or exc}") from exc
        return self.full_dir

    # --- inside ---------------------------------------------------------------------------

    def claim(self, rel: str) -> None:
        """Reserve rel for this build; raise OutputError if it is unsafe or already taken."""
        if rel in self._previous:  # claimed, so checked, by the last build: only a clash is possible
            folded = rel.casefold()
            if folded in self._folded:
                raise OutputError(f"two outputs would write the same file: {rel}")
            self._folded.add(folded)
            return
        parts = rel.split("/")
        if (any(p in ("", ".", "..") for p in parts) or "\\" in rel or "\x00" in rel
                or parts[0] in KEPT_ENTRIES):
            raise OutputError(f"refusing to write outside the output dir: {rel!r}")
        if any(len(p.encode("utf-8")) > 255 for p in parts):
            raise OutputError(f"output name too long: {rel[:80]!r}")
        folded = rel.casefold()
        if folded in self._folded:
            raise OutputError(f"two outputs would write the same file: {rel}")
        self._folded.add(folded)

    def _commit(self) -> None:
        self._forget_state()  # a commit cut short must not leave keys that claim its pages are current
        try:
            if not self.output_dir.exists():
                os.rename(self.stage_dir, self.output_dir)
            else:
                stale = sorted(set(self._previous or _walk_files(self.output_dir)) - self.produced.keys(), reverse=True)
                with _interrupts_deferred():
                    for rel in self._staged:
                        _move_into_place(self.stage_dir / rel, self.output_dir / rel)
                    for rel in stale:
                        _remove_file(self.output_dir, rel)
        except OSError as exc:
            raise OutputError(f"cannot move the new files into {self.output_dir}: {exc.strerror or exc}") from exc
        self._save_state()

    @property
    def last_files(self) -> dict[str, str]:
        """Return rel -> key of the last build's files that are still there (after __enter__)."""
        return self._previous

    def _forget_state(self) -> None:
        if self.state_path is not None:
            with contextlib.suppress(OSError):
                self.state_path.unlink()

    def _save_state(self) -> None:
        if self.state_path is not None:
            write_pickle(self.state_path, (self.produced, self.note))
            prune_records(self.state_path.parent, "output-*.pickle")


def _made_by_us(output_dir: Path) -> bool:
    """Return whether output_dir is missing, empty (but for kept entries) or holds a digest build."""
    if not output_dir.is_dir():
        return True
    names = {entry.name for entry in output_dir.iterdir()} - set(KEPT_ENTRIES)
    return not names or {".nojekyll", "sitemap.xml", "404.html"} <= names


def remove_leftovers(output_dir: Path) -> None:
    """Remove staging folders that interrupted builds left beside output_dir."""
    parent, name = output_dir.parent, output_dir.name
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if (entry.name.startswith((f".{name}.tmp-", f".{name}.full-", f".{name}.pagefind-"))
                and entry.is_dir() and not entry.is_symlink()):
            shutil.rmtree(entry, ignore_errors=True)


def folder_identity(path: Path) -> tuple[int, int, int] | None:
    """Return the device, inode and modification time of the folder at path (not a symlink's), or None."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino, found.st_mtime_ns) if stat.S_ISDIR(found.st_mode) else None


def list_tree(folder: Path, prefix: str) -> KeptTree | None:
    """Return the KeptTree of folder, its files named prefix/...; None if it is no folder."""
    identity = folder_identity(folder)
    if identity is None:
        return None
    return KeptTree(identity, tuple(sorted(_tree_files(folder, prefix))))


def _tree_files(folder: Path | str, prefix: str) -> Iterator[str]:
    """Yield prefix/... for each regular file under folder, symlinks left out, with no stat of its own."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _tree_files(entry.path, f"{prefix}/{entry.name}")
            elif entry.is_file(follow_symlinks=False):
                yield f"{prefix}/{entry.name}"


def _walk_files(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == str(root):
            dirnames[:] = [d for d in dirnames if d not in KEPT_ENTRIES]
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            found.append(name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/"))
    return found


def _move_into_place(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    except (IsADirectoryError, NotADirectoryError):
        for place in [target, *target.parents]:
            if place.is_file() or place.is_symlink():
                place.unlink()
        if target.is_dir():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)


def _remove_file(root: Path, rel: str) -> None:
    path = root / rel
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
        path.unlink()
    parent = path.parent
    while parent != root:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size != len(data):
                return False
            return handle.read() == data
    except OSError:
        return False


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold off Ctrl-C while the staged files move into place; deliver it afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
