"""Tell whether the output already is what the sources would build, so a build can stop early.

A build is a pure function of the digest files, site.toml, the theme and the generator's
own code, and it is deterministic; so when none of them changed since the last good build
into the same output, and that output is still there, there is nothing to do.

This module and what it imports are all a build that finds nothing to do needs: the
command line asks it first, and imports the pipeline (Jinja, the parser, the model:
most of such a build's time) only when there is work.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import code_fingerprint, file_stamp, prune_records, write_pickle
from .config import Config, check_output_dir, key_problem
from .load import Source, find_sources
from .problems import BuildError, Problem, errors_in
from .theme import theme_fingerprint
from .write import missing_files

if TYPE_CHECKING:
    from .model import Site


@dataclass
class BuildReport:
    """What a build did, for the summary line."""

    digests: int = 0
    papers: int = 0
    files: int = 0
    written: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    warnings: list[Problem] = field(default_factory=list)
    site: Site | None = field(default=None, repr=False, compare=False)  # of a one-shot build that did something
    search_stale: bool = False  # the preview's build kept a search index that no longer matches its paper pages

    def summary(self) -> str:
        """Return the one-line summary printed after a build."""
        return (f"built {self.digests} digests, {self.papers} papers: {self.files} files "
                f"({self.written} written, {self.unchanged} unchanged) in {self.seconds:.2f} s")


@dataclass(frozen=True)
class BuildRecord:
    """What the last good build into an output made, and from what."""

    signature: str
    digests: int
    papers: int
    files: tuple[str, ...]
    warnings: tuple[Problem, ...]


@dataclass(frozen=True)
class Scan:
    """What a build finds before it reads any digest: the sources, their stamps, the theme, the signature."""

    started: float  # time.perf_counter() when the build started
    output_dir: Path  # absolute
    sources: list[Source]
    problems: list[Problem]  # warnings about the sources
    stamps: list[tuple | None]  # cache.file_stamp of each source, taken before any was read
    theme: str  # theme.theme_fingerprint
    signature: str  # build_signature, or "" for an unsigned build (no cache, the preview)
    record: BuildRecord | None  # the last good build's, if made from this very signature

    def unchanged_report(self) -> BuildReport | None:
        """Return the report of a build with nothing to do, or None if there is work."""
        record = self.record
        if record is None:
            return None
        return BuildReport(digests=record.digests, papers=record.papers, files=len(record.files),
                           unchanged=len(record.files), seconds=time.perf_counter() - self.started,
                           warnings=list(record.warnings))


def scan_sources(config: Config, output_dir: Path | None, drafts: bool, signed: bool) -> Scan:
    """Return what a build into output_dir (default: the config's) finds first; raise BuildError if it cannot start."""
    started = time.perf_counter()
    output_dir = Path(output_dir or config.output_dir).absolute()
    check_output_dir(config, output_dir)
    if not config.content_dir.is_dir():
        raise BuildError([key_problem(config, "content_dir", f"content dir does not exist: {config.content_dir}")])
    sources, problems = find_sources(config.content_dir, config.root)
    if errors_in(problems):
        raise BuildError(problems)
    theme = theme_fingerprint(config)  # read once: the signature, the template cache and page keys need it
    stamps = [file_stamp(source.path) for source in sources]  # taken before any read: a later write changes them
    signature = build_signature(config, output_dir, drafts, sources, stamps, theme) if signed else ""
    record = load_fresh_record(config, output_dir, signature) if signature else None
    return Scan(started, output_dir, sources, problems, stamps, theme, signature, record)


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
