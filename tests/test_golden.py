"""Golden test: a fixture site built into tmp_path and compared file by file to tests/golden/expected.

Set REGENERATE_GOLDEN=1 to rewrite the expected tree after an intended change, then
read the diff of tests/golden/expected before committing it.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

from generator.build import build
from generator.config import load_config

GOLDEN = Path(__file__).parent / "golden"


def tree(root: Path) -> dict[str, bytes]:
    """Return {relative path: bytes} for every file under root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def readable_diff(expected: dict[str, bytes], actual: dict[str, bytes], limit: int = 60) -> str:
    """Return a unified diff of the files that differ, cut to limit lines per file."""
    lines = []
    for rel in sorted(set(expected) | set(actual)):
        if rel not in actual:
            lines.append(f"missing from the build: {rel}")
        elif rel not in expected:
            lines.append(f"not in the expected tree: {rel}")
        elif expected[rel] != actual[rel]:
            diff = difflib.unified_diff(expected[rel].decode(errors="replace").splitlines(),
                                        actual[rel].decode(errors="replace").splitlines(),
                                        f"expected/{rel}", f"built/{rel}", lineterm="")
            lines.extend(list(diff)[:limit])
    return "\n".join(lines)


def test_fixture_site_matches_expected_tree(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(GOLDEN / "site", site)
    config = load_config(site / "site.toml")
    build(config, output_dir=tmp_path / "out", use_cache=False)
    actual = tree(tmp_path / "out")
    expected_dir = GOLDEN / "expected"
    if os.environ.get("REGENERATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(tmp_path / "out", expected_dir)
    expected = tree(expected_dir)
    assert actual == expected, "\n" + readable_diff(expected, actual)
