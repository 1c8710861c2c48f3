"""`digest deploy`: one commit per deploy on a branch of a real (local, bare) remote."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from generator import deploy as deploy_mod
from generator.cli import main
from generator.config import load_config
from generator.deploy import deploy
from generator.problems import BuildError

from conftest import DEFAULT_SITE_TOML, digest_text, write_site


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's and the system's git config (identity, hooks, signing) out of the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path, *args: str) -> str:
    """Run git in cwd and return its stdout; fail the test if git fails."""
    result = subprocess.run(["git", "-c", "user.name=Tester", "-c", "user.email=tester@example.org", *args],
                            cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """Return a bare repository standing in for GitHub."""
    path = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(path))
    return path


@pytest.fixture
def site(tmp_path: Path, remote: Path) -> Path:
    """Return the root of a site in a git repository on main, with origin -> remote, and a dirty tree."""
    root = tmp_path / "site"
    write_site(root, {"2024-03-14.md": digest_text("2024-03-14"), "2024-03-15.md": digest_text("2024-03-15")},
               DEFAULT_SITE_TOML + 'cname = "papers.example.org"\n')
    (root / ".gitignore").write_text("/_site/\n/._site.*\n/.digest-cache/\n", encoding="utf-8")
    git(root, "init", "--quiet", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "sources")
    git(root, "remote", "add", "origin", str(remote))
    # a staged change and an unstaged one, which a deploy must leave exactly as they are
    (root / "notes.txt").write_text("staged\n", encoding="utf-8")
    git(root, "add", "notes.txt")
    (root / "site.toml").write_text((root / "site.toml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    return root


def repo_state(root: Path) -> tuple[str, str, str, str]:
    """Return what a deploy must not change: status, current branch, HEAD and the staged diff."""
    return (git(root, "status", "--porcelain"), git(root, "symbolic-ref", "HEAD"),
            git(root, "rev-parse", "HEAD"), git(root, "diff", "--cached"))


def branch_log(remote: Path, branch: str = "gh-pages") -> list[str]:
    """Return the commits of branch in remote, newest first."""
    return git(remote, "rev-list", branch).split()


def branch_files(remote: Path, branch: str = "gh-pages") -> set[str]:
    """Return the paths of every file on branch in remote."""
    return set(git(remote, "ls-tree", "-r", "--name-only", branch).split("\n")) - {""}


def test_deploys_keep_history_one_commit_each_and_skip_when_nothing_changed(site: Path, remote: Path) -> None:
    before = repo_state(site)
    config = load_config(site / "site.toml")

    first = deploy(config)
    assert "pushed to origin/gh-pages" in first
    files = branch_files(remote)
    assert {"index.html", ".nojekyll", "CNAME", "feed.xml", "2024/03/15/index.html"} <= files
    assert not any(f.startswith((".git/", "_site/", "content/")) for f in files)
    assert git(remote, "show", "gh-pages:CNAME") == "papers.example.org\n"
    assert git(remote, "log", "-1", "--format=%an <%ae>", "gh-pages").strip() == "paper-digest <paper-digest@localhost>"
    head = git(site, "rev-parse", "--short=12", "HEAD").strip()  # site.toml has an uncommitted change:
    assert git(remote, "log", "-1", "--format=%s", "gh-pages").strip() == f"Deploy {config.title} from {head} with uncommitted changes"
    assert len(branch_log(remote)) == 1
    assert repo_state(site) == before

    (site / "content" / "2024-03-16.md").write_text(digest_text("2024-03-16"), encoding="utf-8")
    before = repo_state(site)
    second = deploy(config, message="Publish the 16th")
    log = branch_log(remote)
    assert len(log) == 2, second
    assert git(remote, "rev-parse", "gh-pages^").strip() == log[1]
    assert git(remote, "log", "-1", "--format=%s", "gh-pages").strip() == "Publish the 16th"
    assert "2024/03/16/index.html" in branch_files(remote)

    third = deploy(config)
    assert "nothing changed" in third
    assert branch_log(remote) == log

    assert repo_state(site) == before
    assert not (site / "_site").exists()  # the build went to a temporary dir


def test_keeps_commits_pushed_to_the_branch_elsewhere(site: Path, remote: Path, tmp_path: Path) -> None:
    config = load_config(site / "site.toml")
    deploy(config)
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", "--branch", "gh-pages", str(remote), str(other))
    (other / "googlehash.html").write_text("verification\n", encoding="utf-8")
    git(other, "add", "-A")
    git(other, "commit", "--quiet", "-m", "added on GitHub")
    git(other, "push", "--quiet", "origin", "gh-pages")
    elsewhere = branch_log(remote)[0]

    (site / "content" / "2024-03-16.md").write_text(digest_text("2024-03-16"), encoding="utf-8")
    deploy(config)
    log = branch_log(remote)
    assert len(log) == 3 and log[1] == elsewhere


def test_push_rejected_after_a_race_then_force_replaces_history(site: Path, remote: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(site / "site.toml")
    deploy(config)
    stale = branch_log(remote)[0]
    (site / "content" / "2024-03-16.md").write_text(digest_text("2024-03-16"), encoding="utf-8")
    deploy(config)
    # someone pushed between our fetch and our push: we build on a tip that is no longer the tip
    monkeypatch.setattr(deploy_mod, "fetch_tip", lambda repo, remote, branch: stale)
    (site / "content" / "2024-03-17.md").write_text(digest_text("2024-03-17"), encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        deploy(config)
    message = str(caught.value)
    assert "rejected" in message and "--force" in message
    assert len(branch_log(remote)) == 2
    monkeypatch.undo()

    result = deploy(config, force=True)
    assert "replaced the history" in result
    assert len(branch_log(remote)) == 1
    assert "2024/03/17/index.html" in branch_files(remote)


def test_push_rejected_by_the_remote_is_a_clear_error(site: Path, remote: Path, capsys) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    assert main(["deploy", "--config", str(site / "site.toml")]) == 1
    err = capsys.readouterr().err
    assert "--remote:1: error: push to origin/gh-pages rejected" in err
    assert "branch is protected" in err
    assert "Traceback" not in err


def test_not_a_git_repository(tmp_path: Path, capsys) -> None:
    root = tmp_path / "plain"
    write_site(root, {"2024-03-15.md": digest_text("2024-03-15")})
    assert main(["deploy", "--config", str(root / "site.toml")]) == 1
    err = capsys.readouterr().err
    assert f"{root}:1: error: not a git repository" in err


def test_no_such_remote(site: Path, capsys) -> None:
    assert main(["deploy", "--config", str(site / "site.toml"), "--remote", "upstream"]) == 1
    err = capsys.readouterr().err
    assert "--remote:1: error: no such remote 'upstream' (known: origin)" in err


def test_refuses_the_checked_out_branch(site: Path, remote: Path) -> None:
    with pytest.raises(BuildError, match="checked out"):
        deploy(load_config(site / "site.toml"), branch="main")
    assert git(remote, "branch", "--list").strip() == ""


def test_cli_prints_one_line_and_succeeds(site: Path, remote: Path, capsys) -> None:
    assert main(["deploy", "--config", str(site / "site.toml"), "--branch", "pages", "-m", "hello"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "origin/pages" in out[0]
    assert git(remote, "log", "-1", "--format=%s", "pages").strip() == "hello"
    assert main(["deploy", "--config", str(site / "site.toml"), "--branch", "pages"]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_default_message_says_when_the_site_is_not_the_commit_named(site: Path, remote: Path) -> None:
    git(site, "checkout", "--", "site.toml")  # the inputs as committed; notes.txt (staged) is no input
    (site / "NOTES.md").write_text("not an input of the site either\n", encoding="utf-8")
    config = load_config(site / "site.toml")
    head = git(site, "rev-parse", "--short=12", "HEAD").strip()
    deploy(config)
    assert git(remote, "log", "-1", "--format=%s", "gh-pages").strip() == f"Deploy {config.title} from {head}"
    (site / "content" / "2024-03-16.md").write_text(digest_text("2024-03-16"), encoding="utf-8")  # not committed
    deploy(config)
    subject = git(remote, "log", "-1", "--format=%s", "gh-pages").strip()
    assert subject == f"Deploy {config.title} from {head} with uncommitted changes"
