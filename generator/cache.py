"""Persistent caches: parsed digests, keyed by each file's bytes, and the days the feeds hold, rendered.

A cache is only ever an accelerator: a stale, corrupt or foreign cache file is ignored
and rebuilt, and a build without it produces the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable

from . import __version__

if TYPE_CHECKING:  # not imported: a build that finds nothing to do never loads the model
    from .model import Digest
    from .problems import Problem

_FORMAT = 3  # 3: a parse cache shard holds the digests' papers after the digests


@functools.cache
def code_fingerprint() -> str:
    """Return a hash of the generator's version and source: output made by other code is stale."""
    digest = hashlib.sha256(f"{__version__}/{_FORMAT}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


RACY_NS = 100_000_000  # file times tick coarsely: a file changed this recently may change again unseen


def file_stamp(path: object) -> tuple[int, int, int, int] | None:
    """Return what changes whenever a file is written (size, inode, modification and change time), or None.

    None too when the file changed in the last RACY_NS: two writes of the same size within
    one tick of the file clock would leave the same stamp (git calls this "racily clean").
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    if max(st.st_ctime_ns, st.st_mtime_ns) > time.time_ns() - RACY_NS:
        return None
    return st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns


def make_key(*parts: object) -> str:
    """Return a short hash of parts: what a page was built from."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


RECORDS_KEPT = 8  # records of the most recent outputs (check and deploy build into temporary ones)


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Make the file at path with write(handle), atomically; ignore failure (caches only speed things up)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        with open(tmp, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except OSError:
        pass


def write_pickle(path: Path, value: object) -> None:
    """Write value to path atomically, ignoring failure (see write_atomically)."""
    write_atomically(path, functools.partial(pickle.dump, value, protocol=pickle.HIGHEST_PROTOCOL))


def prune_records(folder: Path, pattern: str, keep: int = RECORDS_KEPT) -> None:
    """Remove all but the keep newest files (or folders) matching pattern in folder."""
    try:
        found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for path in found[keep:]:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
    except OSError:
        pass


FEEDS_FILE = "feeds.pickle"


def load_feed_contents(cache_dir: Path, key: str) -> dict[tuple[str, str], str]:
    """Return the feed contents a one-shot build saved under cache_dir with key (its shared_key); empty if stale or unreadable.

    Each is one digest's HTML as its feeds hold it, by (path, digest hash): a build that
    changes one day no longer renders the other days of the feeds it holds (at 1,000
    digests, the 40 days of a day's two tags' feeds took 13-19 ms).
    """
    try:
        with open(Path(cache_dir) / FEEDS_FILE, "rb") as handle:
            stored_key, contents = pickle.load(handle)
    except Exception:  # noqa: BLE001 - a missing or broken file only costs rendering them again
        return {}
    if stored_key != key or not isinstance(contents, dict):
        return {}
    return {name: content for name, content in contents.items()
            if isinstance(name, tuple) and len(name) == 2 and isinstance(content, str)}


def save_feed_contents(cache_dir: Path, key: str, contents: dict[tuple[str, str], str]) -> None:
    """Store contents (see load_feed_contents) under cache_dir with key."""
    write_pickle(Path(cache_dir) / FEEDS_FILE, (key, contents))


SHARDS = 16  # one edit rewrites one shard, not the whole cache


def shard_of(rel: str) -> int:
    """Return which cache shard holds rel."""
    return hashlib.blake2b(rel.encode(), digest_size=1).digest()[0] % SHARDS


class _OpenShard:
    """A shard file held open while digests loaded from it may still read their papers from it.

    An open file keeps the bytes it had when it was opened, even after a later build replaces
    it; it is closed when the last of those digests is gone.
    """

    __slots__ = ("fd",)

    def __init__(self, fd: int):
        self.fd = fd

    def __del__(self):
        try:
            os.close(self.fd)
        except OSError:
            pass


class _ShardBytes:
    """Bytes at a place in an open shard: a digest's pickled papers, read when a page needs them."""

    __slots__ = ("shard", "offset", "length")

    def __init__(self, shard: _OpenShard, offset: int, length: int):
        self.shard, self.offset, self.length = shard, offset, length

    def read(self) -> bytes:
        """Return the bytes; raise ValueError if the file holds fewer."""
        data = os.pread(self.shard.fd, self.length, self.offset)
        if len(data) != self.length:
            raise ValueError("parse cache shard cut short")
        return data


def write_shard(path: Path, key: str, entries: dict) -> None:
    """Store entries (rel -> (sha, digest or None, problems, stamp)) at path with key (see write_atomically).

    The file is a pickle of each digest without its papers, followed by every digest's
    pickled papers: a build that changed one digest reads the first part only (the whole
    archive's papers are 27 of its 28 MB at 1,000 digests), and a page that needs a
    digest's papers reads just those.
    """
    from .model import digest_parts  # a build that saves the cache has loaded the model

    light: dict = {}
    papers: list[bytes] = []
    offset = 0
    for rel, (sha, digest, problems, stamp) in entries.items():
        if digest is None:
            light[rel] = (sha, None, problems, stamp, 0, 0)
            continue
        state, pickled = digest_parts(digest)
        light[rel] = (sha, state, problems, stamp, offset, len(pickled))
        papers.append(pickled)
        offset += len(pickled)

    def write(handle: BinaryIO) -> None:
        pickle.dump((key, light), handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.writelines(papers)

    write_atomically(path, write)


def read_shard(path: Path, key: str) -> dict:
    """Return the entries write_shard stored at path with key (see there); empty if the file is missing, stale or broken.

    The digests' papers stay in the file until a page asks for them; an entry whose papers
    lie past the file's end is left out.
    """
    from .model import digest_from_parts

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return {}
    shard = _OpenShard(fd)
    try:
        with open(os.dup(fd), "rb") as handle:
            stored_key, stored = pickle.load(handle)
            base = handle.tell()  # the pickle ends exactly here: the papers follow
            size = os.fstat(fd).st_size
            in_memory = None if hasattr(os, "pread") else handle.read()  # no reading by offset: read them all now
    except Exception:  # noqa: BLE001 - any unreadable shard is simply not used
        return {}
    if stored_key != key or not isinstance(stored, dict):
        return {}
    entries = {}
    for rel, entry in stored.items():
        if not (isinstance(entry, tuple) and len(entry) == 6):
            continue
        sha, state, problems, stamp, offset, length = entry
        if state is None:
            entries[rel] = (sha, None, problems, stamp)
        elif (isinstance(state, dict) and isinstance(offset, int) and isinstance(length, int)
              and 0 <= offset and 0 <= length and base + offset + length <= size):
            papers = _ShardBytes(shard, base + offset, length) if in_memory is None else in_memory[offset:offset + length]
            entries[rel] = (sha, digest_from_parts(state, papers), problems, stamp)
    return entries


class ParseCache:
    """Parsed digests by content-dir path and content hash, stored in shards."""

    def __init__(self, folder: Path | None, key: str, entries: dict):
        self.folder = folder
        self.key = key
        self.entries = entries  # rel -> (sha256 of bytes, digest, problems, stamp of the file read)
        self.fresh: dict = {}
        self.dirty: set[int] = set()

    @staticmethod
    def key_for(timezone: str) -> str:
        """Return what a cache entry's validity depends on besides the file's bytes."""
        return f"{code_fingerprint()}:{timezone}"

    @classmethod
    def open(cls, cache_dir: Path, timezone: str) -> "ParseCache":
        """Return the cache stored under cache_dir; missing, stale or broken shards are empty."""
        key = cls.key_for(timezone)
        folder = Path(cache_dir) / "parse"
        entries = {}
        for shard in range(SHARDS):
            entries.update(read_shard(folder / f"{shard:02d}.pickle", key))
        return cls(folder, key, entries)

    @staticmethod
    def clear(cache_dir: Path) -> None:
        """Remove the cache stored under cache_dir."""
        shutil.rmtree(Path(cache_dir) / "parse", ignore_errors=True)

    @classmethod
    def disabled(cls) -> "ParseCache":
        """Return a cache that remembers nothing."""
        return cls(None, "", {})

    def get_unread(self, rel: str, stamp: tuple | None) -> tuple[Digest | None, list[Problem]] | None:
        """Return the stored (digest, problems) for rel if the file was not touched since it was read.

        The stamp holds the change time, which no tool can set back, so an equal stamp means
        the same bytes without reading them.
        """
        entry = self.entries.get(rel)
        if entry is None or stamp is None or entry[3] != stamp:
            return None
        self.fresh[rel] = entry
        return entry[1], list(entry[2])

    def lookup(self, rel: str, sha: str) -> tuple[Digest | None, list[Problem]] | None:
        """Return the stored (digest, problems) for rel if its bytes hash to sha; change nothing (workers call it)."""
        entry = self.entries.get(rel)
        if entry is None or entry[0] != sha:
            return None
        return entry[1], list(entry[2])

    def put(self, rel: str, sha: str, digest: Digest | None, problems: list[Problem],
            stamp: tuple | None = None) -> None:
        """Remember what parsing rel's bytes (whose sha256 is sha) gave, and the stamp of the file read."""
        if self.folder is None:
            return
        entry = (sha, digest, tuple(problems), stamp)
        self.fresh[rel] = entry
        if self.entries.get(rel) != entry:
            self.dirty.add(shard_of(rel))

    def carried(self) -> "ParseCache":
        """Return the cache as the next build in this process starts with it (no disk read)."""
        return ParseCache(self.folder, self.key, dict(self.fresh))

    def save(self) -> None:
        """Write back the shards that changed, each atomically; never fail the build. Saving again writes nothing."""
        if self.folder is None:
            return
        self.dirty.update(shard_of(rel) for rel in self.entries.keys() - self.fresh.keys())
        shards: dict[int, dict] = {shard: {} for shard in self.dirty}
        for rel, entry in self.fresh.items():
            shard = shard_of(rel)
            if shard in shards:
                shards[shard][rel] = entry
        for shard, entries in shards.items():
            write_shard(self.folder / f"{shard:02d}.pickle", self.key, entries)
        self.entries, self.dirty = dict(self.fresh), set()  # what the shards now hold
