"""Build the Pagefind search index of a built site (the `pagefind-bin` package's binary).

The index is made from the writer's complete new site before anything is moved into
place, and staged like every other file, so a failed index never reaches the output and
the published index always matches its pages.
Only paper pages carry `data-pagefind-body`, so every search result is one paper.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from .config import Config
from .write import SiteWriter

BUNDLE_DIR = "pagefind"
PAGES_GLOB = "papers/*/index.html"  # only paper pages: one result per paper, and none on a site without papers
INDEX_TIMEOUT = 600  # seconds; a site of thousands of papers indexes in a few


class SearchError(Exception):
    """The search index could not be built; the message says why and what to do."""


def pagefind_executable() -> Path:
    """Return the path of the Pagefind binary shipped by `pagefind-bin`; raise SearchError if absent."""
    try:
        import pagefind_bin
    except ImportError:
        raise SearchError("search = true needs pagefind-bin (pip install pagefind-bin, "
                          "or reinstall paper-digest) or set search = false in site.toml") from None
    try:
        return pagefind_bin.get_executable()
    except (FileNotFoundError, OSError) as exc:
        raise SearchError(f"pagefind-bin is installed but its binary is missing ({exc}); "
                          "reinstall it or set search = false in site.toml") from None


def index_language(config: Config) -> str:
    """Return the ISO 639-1 code the whole site is indexed as (one index, so every paper is found)."""
    return config.language.split("-")[0].lower() or "en"


def pagefind_command(config: Config, site_dir: Path, bundle_dir: Path) -> list[str]:
    """Return the command that indexes the site in site_dir into bundle_dir."""
    return [str(pagefind_executable()), "--site", str(site_dir), "--output-path", str(bundle_dir), "--glob", PAGES_GLOB,
            "--force-language", index_language(config), "--silent"]


def build_search_index(config: Config, site_dir: Path, bundle_dir: Path) -> int:
    """Index the built site in site_dir with Pagefind into bundle_dir; return the number of files written."""
    command = pagefind_command(config, site_dir, bundle_dir)
    try:
        result = subprocess.run(command, cwd=site_dir, capture_output=True, text=True,
                                encoding="utf-8", errors="replace", timeout=INDEX_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SearchError(f"pagefind did not finish within {INDEX_TIMEOUT} s") from None
    except OSError as exc:
        raise SearchError(f"cannot run pagefind: {exc.strerror or exc}") from None
    if result.returncode != 0 or not (bundle_dir / "pagefind-ui.js").is_file():
        output = (result.stderr or result.stdout or "").strip().splitlines()
        detail = "; ".join(output[-5:]) or f"exit status {result.returncode}"
        raise SearchError(f"pagefind failed to build the search index: {detail}")
    return sum(1 for path in bundle_dir.rglob("*") if path.is_file())


def stage_search_index(config: Config, writer: SiteWriter) -> int:
    """Index the writer's finished new site and stage the index under pagefind/; return its file count."""
    with tempfile.TemporaryDirectory(prefix=f".{writer.output_dir.name}.pagefind-",
                                     dir=writer.output_dir.parent) as scratch:
        bundle = Path(scratch) / BUNDLE_DIR
        count = build_search_index(config, writer.full_tree(), bundle)
        writer.write_tree(BUNDLE_DIR, bundle)
    return count
