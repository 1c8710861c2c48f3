"""The benchmark's own measuring helpers (bench/run.py), on small trees."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load_bench_run():
    sys.path.insert(0, str(BENCH))  # run.py imports its corpus module
    try:
        spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_run"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def tree_of(root: Path) -> dict[str, int | None]:
    return {p.relative_to(root).as_posix(): (p.stat().st_size if p.is_file() else None) for p in root.rglob("*")}


def test_the_file_system_floor_writes_the_same_folders_and_file_sizes_and_leaves_only_trash(tmp_path, monkeypatch):
    run = load_bench_run()
    monkeypatch.setattr(run, "TRASH", tmp_path / "trash")
    site = tmp_path / "_site"
    for rel, size in {"index.html": 300, "papers/2403.00001/index.html": 5000, "2024/03/15/index.html": 0,
                      ".nojekyll": 0, "static/style.css": 1200}.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(b"a" * size)
    before = tree_of(site)
    files, times = run.file_floor(site, 2)
    assert files == 5 and len(times) == 2 and all(t > 0 for t in times)
    assert tree_of(site) == before and sorted(p.name for p in tmp_path.iterdir()) == ["_site", "trash"]
    copies = list((tmp_path / "trash").iterdir())
    assert len(copies) == 2 and all(tree_of(copy) == before for copy in copies)
