"""The GitHub Pages workflow: its shape, and that its build command works for project and user pages."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from generator.check import find_broken_links, find_feed_problems
from generator.cli import main

from conftest import DEFAULT_SITE_TOML, digest_text, write_site

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"
BASE_URL_EXPR = "${{ steps.pages.outputs.base_url }}"


@pytest.fixture(scope="module")
def workflow() -> dict:
    """Return the repository's Pages workflow, parsed."""
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps_using(job: dict, action: str) -> list[dict]:
    """Return the steps of job that use action (any version)."""
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def build_command(workflow: dict) -> str:
    """Return the run line of the build job that runs `digest build`."""
    runs = [line.strip() for s in workflow["jobs"]["build"]["steps"] for line in s.get("run", "").splitlines()
            if line.strip().startswith("digest build")]
    assert len(runs) == 1, runs
    return runs[0]


def test_is_the_file_digest_init_writes() -> None:
    packaged = REPO / "generator" / "scaffold_files" / "pages.yml"
    assert WORKFLOW.read_text(encoding="utf-8") == packaged.read_text(encoding="utf-8")


def test_triggers_permissions_and_concurrency(workflow: dict) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_build_job_configures_builds_and_uploads_in_order(workflow: dict) -> None:
    job = workflow["jobs"]["build"]
    steps = job["steps"]
    assert steps_using(job, "actions/checkout") and steps_using(job, "actions/setup-python")
    assert any("pip install" in s.get("run", "") for s in steps)
    (configure,) = steps_using(job, "actions/configure-pages")
    assert configure["id"] == "pages"
    command = build_command(workflow)
    assert f'--base-url "{BASE_URL_EXPR}/"' in command  # configure-pages gives no trailing slash
    (upload,) = steps_using(job, "actions/upload-pages-artifact")
    output = shlex.split(command)[shlex.split(command).index("--output") + 1]
    assert upload["with"]["path"].rstrip("/") == output
    assert upload["with"].get("include-hidden-files") is True  # keep .nojekyll
    build_step = next(s for s in steps if "digest build" in s.get("run", ""))
    assert steps.index(configure) < steps.index(build_step) < steps.index(upload)
    for step in steps:
        if "uses" in step:
            assert "@v" in step["uses"], step


def test_deploy_job(workflow: dict) -> None:
    job = workflow["jobs"]["deploy"]
    assert job["needs"] == "build" or job["needs"] == ["build"]
    assert job["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    (deploy,) = steps_using(job, "actions/deploy-pages")
    assert deploy["id"] == "deployment"


@pytest.mark.parametrize("pages_url", ["https://octo.github.io/paper-digest", "https://octo.github.io",
                                       "https://papers.example.org"])
def test_build_command_works_for_project_user_and_custom_domain_pages(
        workflow: dict, pages_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    write_site(site, {"2024-03-15.md": digest_text("2024-03-15")}, DEFAULT_SITE_TOML + 'cname = "papers.example.org"\n')
    monkeypatch.chdir(site)
    argv = shlex.split(build_command(workflow).replace(BASE_URL_EXPR, pages_url))
    assert argv[:2] == ["digest", "build"]
    assert main(argv[1:]) == 0
    out = site / "_site"
    base_url = pages_url + "/"
    base_path = "/" + base_url.split("/", 3)[3]
    assert f'href="{base_path}archive/"' in (out / "index.html").read_text(encoding="utf-8")
    assert (out / "CNAME").read_text(encoding="utf-8") == "papers.example.org\n" and (out / ".nojekyll").exists()
    assert find_broken_links(out, base_path, base_url) == []
    assert find_feed_problems(out, base_url) == []


@pytest.mark.parametrize("installs_digest", [False, True])
def test_install_step_fails_plainly_when_nothing_installs_digest(workflow: dict, tmp_path: Path, installs_digest: bool):
    (step,) = [s for s in workflow["jobs"]["build"]["steps"] if "pip install" in s.get("run", "")]
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name in ["python", "pip"] + (["digest"] if installs_digest else []):  # a pip that installs nothing
        (stubs / name).write_text("#!/bin/sh\nexit 0\n")
        (stubs / name).chmod(0o755)
    site = tmp_path / "site"
    site.mkdir()
    (site / "requirements.txt").write_text("# only comments: the publisher has not named a source yet\n")
    done = subprocess.run([shutil.which("bash"), "-e", "-c", step["run"]], cwd=site, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{stubs}:/usr/bin:/bin"})
    if installs_digest:
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        assert done.returncode == 1
        assert done.stdout.startswith("::error file=requirements.txt::") and "paper-digest" in done.stdout
