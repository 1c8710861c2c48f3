"""A persistent cache of parsed digests, keyed by each file's bytes.

The cache is only ever an accelerator: a stale, corrupt or foreign cache file is ignored
and rebuilt, and a build without it produces the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

from . import __version__
from .model import Digest, Problem

_FORMAT = 1


def code_fingerprint() -> str:
    """Return a hash of the generator's version and the source of the modules that parse."""
    digest = hashlib.sha256(f"{__version__}/{_FORMAT}".encode())
    here = Path(__file__).parent
    for name in ("parse.py", "markup.py", "model.py", "cache.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


class ParseCache:
    """Parsed digests by content-dir path and content hash."""

    def __init__(self, path: Path | None, key: str, entries: dict):
        self.path = path
        self.key = key
        self.entries = entries  # rel -> (sha256 of bytes, digest, problems)
        self.fresh: dict = {}
        self.dirty = False

    @classmethod
    def open(cls, cache_dir: Path, timezone: str) -> "ParseCache":
        """Return the cache stored under cache_dir, or an empty one if it is missing or unusable."""
        key = f"{code_fingerprint()}:{timezone}"
        path = Path(cache_dir) / "parse.pickle"
        entries = {}
        try:
            with open(path, "rb") as handle:
                stored_key, stored = pickle.load(handle)
            if stored_key == key and isinstance(stored, dict):
                entries = stored
        except Exception:  # noqa: BLE001 - any unreadable cache is simply not used
            entries = {}
        return cls(path, key, entries)

    @classmethod
    def disabled(cls) -> "ParseCache":
        """Return a cache that remembers nothing."""
        return cls(None, "", {})

    def get(self, rel: str, data: bytes) -> tuple[Digest | None, list[Problem]] | None:
        """Return the stored (digest, problems) for rel if its bytes are unchanged."""
        entry = self.entries.get(rel)
        if entry is None or self.path is None:
            return None
        sha = hashlib.sha256(data).hexdigest()
        if not isinstance(entry, tuple) or len(entry) != 3 or entry[0] != sha:
            return None
        self.fresh[rel] = entry
        return entry[1], list(entry[2])

    def put(self, rel: str, data: bytes, digest: Digest | None, problems: list[Problem]) -> None:
        """Remember what parsing rel's bytes gave."""
        if self.path is None:
            return
        self.fresh[rel] = (hashlib.sha256(data).hexdigest(), digest, tuple(problems))
        self.dirty = True

    def save(self) -> None:
        """Write the cache back if anything changed, atomically; never fail the build."""
        if self.path is None or (not self.dirty and self.fresh.keys() == self.entries.keys()):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                pickle.dump((self.key, self.fresh), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            pass
