"""`digest init` (from a real wheel) and `digest new`."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import frontmatter
import pytest

from generator.build import build
from generator.check import find_broken_links
from generator.cli import main
from generator.config import load_config
from generator.problems import BuildError
from generator.scaffold import SAMPLE_DATE, init_site, new_digest, new_site_files, requirement_from

from conftest import write_site

REPO = Path(__file__).resolve().parent.parent


def run_installed(python_path: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run python with only python_path's copy of the package importable (not the repository's)."""
    env = {**os.environ, "PYTHONPATH": str(python_path), "PYTHONNOUSERSITE": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build a wheel of the repository and install it (no deps) into a folder; return that folder."""
    pytest.importorskip("build")
    tmp = tmp_path_factory.mktemp("wheel")
    offline = ["--no-isolation"] if importlib.util.find_spec("hatchling") else []  # else fetch the backend
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", *offline, "--outdir", str(tmp / "dist"), str(REPO)],
                           capture_output=True, text=True, timeout=240)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheels = list((tmp / "dist").glob("paper_digest-*.whl"))
    assert len(wheels) == 1
    target = tmp / "target"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                                "--target", str(target), str(wheels[0])], capture_output=True, text=True, timeout=240)
    assert installed.returncode == 0, installed.stderr
    return target


@pytest.mark.slow
def test_init_from_a_wheel_then_build(installed_wheel: Path, tmp_path: Path) -> None:
    where = run_installed(installed_wheel, tmp_path, "-c",
                          "import generator, generator.theme as r; print(generator.__file__); print(r.builtin_theme_dir())")
    assert where.returncode == 0, where.stderr
    module, theme = where.stdout.splitlines()
    assert Path(module).is_relative_to(installed_wheel)  # not the editable repository
    assert Path(theme) == installed_wheel / "generator" / "theme"
    assert (Path(theme) / "base.html").is_file() and (Path(theme) / "static" / "style.css").is_file()

    init = run_installed(installed_wheel, tmp_path, "-m", "generator", "init", "my-digests")
    assert init.returncode == 0, init.stderr
    site = tmp_path / "my-digests"
    assert "created" in init.stdout and "site.toml" in init.stdout
    for rel in ("site.toml", f"content/{SAMPLE_DATE}.md", ".gitignore", "requirements.txt",
                ".github/workflows/pages.yml"):
        assert (site / rel).is_file(), rel
    assert not (site / "templates").exists()
    # installed from a wheel on this disk: no runner can get that, so the publisher is asked to say
    requirements = (site / "requirements.txt").read_text(encoding="utf-8")
    assert [line for line in requirements.splitlines() if line.strip() and not line.startswith("#")] == []
    assert "another project" in requirements and "requirements.txt" in init.stdout
    workflow = (site / ".github/workflows/pages.yml").read_text(encoding="utf-8")
    assert workflow == (REPO / ".github/workflows/pages.yml").read_text(encoding="utf-8")

    built = run_installed(installed_wheel, site, "-m", "generator", "build")
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("built 1 digests")
    out = site / "_site"
    day = SAMPLE_DATE.replace("-", "/")
    for rel in ("index.html", f"{day}/index.html", "static/style.css", "feed.xml", ".nojekyll"):
        assert (out / rel).is_file(), rel
    page = (out / f"{day}/index.html").read_text(encoding="utf-8")
    assert "Tiny Critics" in page and "2401.07731" in page
    config = load_config(site / "site.toml")
    assert find_broken_links(out, config.base_path, config.base_url) == []


def test_init_writes_a_site_that_builds(tmp_path: Path) -> None:
    lines = init_site(tmp_path / "new-site")
    assert any("pages.yml" in line for line in lines)
    config = load_config(tmp_path / "new-site" / "site.toml")
    assert config.title == "new-site"
    assert config.base_url == "https://example.github.io/new-site/"
    from dataclasses import replace
    report = build(replace(config, search=False), output_dir=tmp_path / "out")
    assert report.digests == 1 and report.papers == 2
    assert find_broken_links(tmp_path / "out", config.base_path, config.base_url) == []


def test_init_refuses_a_non_empty_directory(tmp_path: Path, capsys) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.md").write_text("mine\n", encoding="utf-8")
    with pytest.raises(BuildError, match="not empty"):
        init_site(target)
    assert sorted(p.name for p in target.iterdir()) == ["notes.md"]
    assert main(["init", str(target)]) == 1
    assert f"{target}:1: error: directory is not empty (notes.md)" in capsys.readouterr().err

    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(BuildError, match="not a directory"):
        init_site(tmp_path / "file")


def test_init_accepts_a_fresh_git_repository(tmp_path: Path) -> None:
    target = tmp_path / "repo"
    (target / ".git").mkdir(parents=True)
    init_site(target)
    assert (target / "site.toml").is_file()


def test_new_writes_a_draft_skeleton_that_builds(tmp_path: Path) -> None:
    config = write_site(tmp_path / "site", {})
    path = new_digest(config, "2024-03-15")
    assert path == config.content_dir / "2024-03-15.md"
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    assert post["date"] == dt.date(2024, 3, 15) and post["draft"] is True and post["lang"] == "ko"
    assert "## Daily Papers (2024-03-15)" in post.content and "### [" in post.content

    report = build(config, output_dir=tmp_path / "out", drafts=True)
    assert report.digests == 1 and report.papers == 1 and not report.warnings
    assert (tmp_path / "out" / "2024/03/15/index.html").is_file()
    build(config, output_dir=tmp_path / "out")  # a draft is left out of a normal build
    assert not (tmp_path / "out" / "2024/03/15/index.html").exists()


def test_new_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    config = write_site(tmp_path / "site", {"2024/03/16.md": "mine\n"})
    path = new_digest(config, "2024-03-15")
    path.write_text("edited\n", encoding="utf-8")
    with pytest.raises(BuildError, match="already exists"):
        new_digest(config, "2024-03-15")
    assert path.read_text(encoding="utf-8") == "edited\n"
    with pytest.raises(BuildError, match="already exists"):  # the nested form counts too
        new_digest(config, "2024-03-16")
    assert not (config.content_dir / "2024-03-16.md").exists()
    assert main(["new", "2024-03-15", "--config", str(config.config_path)]) == 1
    assert "content/2024-03-15.md:1: error: a digest for 2024-03-15 already exists" in capsys.readouterr().err


def test_new_defaults_to_today_in_the_site_timezone_and_checks_the_date(tmp_path: Path) -> None:
    config = write_site(tmp_path / "site", {})
    path = new_digest(config, None)
    assert path.name == f"{dt.datetime.now(config.tz).date().isoformat()}.md"
    for bad in ("2024-02-30", "15-03-2024", "today"):
        with pytest.raises(BuildError, match="not a date"):
            new_digest(config, bad)


GIT = '{"url": "https://github.com/lab/paper-digest", "vcs_info": {"vcs": "git", "commit_id": "4f2a9c1", "requested_revision": "v0.1.0"}}'


@pytest.mark.parametrize("direct_url, expected", [
    (GIT, "paper-digest[search] @ git+https://github.com/lab/paper-digest@4f2a9c1"),  # pinned to the commit
    ('{"url": "https://example.org/paper_digest-0.1.0-py3-none-any.whl", "archive_info": {}}',
     "paper-digest[search] @ https://example.org/paper_digest-0.1.0-py3-none-any.whl"),
    ('{"url": "file:///home/me/paper-digest", "dir_info": {"editable": true}}', None),  # this machine's disk
    ('{"url": "file:///tmp/paper_digest-0.1.0-py3-none-any.whl", "archive_info": {}}', None),
    (None, None),  # from a package index: the runner's is PyPI, where the name is another project's
    ('{"url": "https://github.com/lab/paper-digest", "vcs_info": {"vcs": "hg", "commit_id": "1"}}', None),
    ("not json", None),
    ('{"url": "https://evil.example/x\\n--index-url https://evil.example"}', None),
])
def test_requirement_names_only_a_source_a_runner_can_reach(direct_url, expected):
    assert requirement_from(direct_url) == expected


def test_new_site_pins_the_source_it_was_installed_from(tmp_path):
    files = new_site_files(tmp_path / "site", requirement_from(GIT))
    lines = [line for line in files["requirements.txt"].splitlines() if not line.startswith("#")]
    assert lines == ["paper-digest[search] @ git+https://github.com/lab/paper-digest@4f2a9c1"]
