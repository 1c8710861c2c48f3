"""Tell whether the output already is what the sources would build, so a build can stop early.

A build is a pure function of the digest files, site.toml, the theme and the generator's
own code, and it is deterministic; so when none of them changed since the last good build
into the same output, and that output is still there, there is nothing to do.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

from .cache import code_fingerprint, prune_records, write_pickle
from .config import Config
from .load import Source
from .problems import Problem
from .write import missing_files


@dataclass(frozen=True)
class BuildRecord:
    """What the last good build into an output made, and from what."""

    signature: str
    digests: int
    papers: int
    files: tuple[str, ...]
    warnings: tuple[Problem, ...]


def build_signature(config: Config, output_dir: Path, drafts: bool, sources: list[Source],
                    stamps: list[tuple | None], theme: str) -> str:
    """Return a hash of everything a build into output_dir reads ("" if a source changed too recently to tell).

    stamps are cache.file_stamp of each source: None for a file that is missing or racy.
    """
    digest = hashlib.sha256()
    for part in (code_fingerprint(), theme, repr(config), str(output_dir), str(drafts)):
        digest.update(part.encode() + b"\0")
    for source, stamp in zip(sources, stamps):
        if stamp is None:
            return ""
        digest.update(f"{source.rel}\0{stamp}\0".encode())
    return digest.hexdigest()


def record_path(config: Config, output_dir: Path) -> Path:
    """Return where the record of the last good build into output_dir is kept."""
    name = hashlib.sha256(str(output_dir).encode()).hexdigest()[:16]
    return config.cache_dir / f"fresh-{name}.pickle"


def load_fresh_record(config: Config, output_dir: Path, signature: str) -> BuildRecord | None:
    """Return the last build's record if it was made from signature and its files are all there."""
    try:
        with open(record_path(config, output_dir), "rb") as handle:
            record = pickle.load(handle)
    except Exception:  # noqa: BLE001 - no usable record just means a real build
        return None
    if not isinstance(record, BuildRecord) or not signature or record.signature != signature:
        return None
    if next(missing_files(output_dir, record.files), None) is not None:
        return None
    return record


def save_fresh_record(config: Config, output_dir: Path, record: BuildRecord) -> None:
    """Remember a good build; a failure to write is harmless (the next build just works harder)."""
    write_pickle(record_path(config, output_dir), record)
    prune_records(config.cache_dir, "fresh-*.pickle")


def forget_fresh_record(config: Config, output_dir: Path) -> None:
    """Drop the record, so the next build into output_dir does all its work."""
    try:
        record_path(config, output_dir).unlink()
    except OSError:
        pass
