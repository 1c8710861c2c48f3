"""Publish a built site as one new commit on a git branch (gh-pages) and push it.

Only git plumbing is used, with a temporary index: the user's working tree, index and
checked-out branch are never touched. The branch's history is kept (each deploy is a
child of the remote tip) unless --force asks for a fresh one-commit history. When the
built tree equals the tip's tree, nothing is committed or pushed.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .problems import BuildError, Problem

DEFAULT_IDENTITY = {"GIT_AUTHOR_NAME": "paper-digest", "GIT_AUTHOR_EMAIL": "paper-digest@localhost",
                    "GIT_COMMITTER_NAME": "paper-digest", "GIT_COMMITTER_EMAIL": "paper-digest@localhost"}
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX")


@dataclass(frozen=True)
class Repo:
    """A git repository, and the environment to run git in it with."""

    git_dir: Path
    top: Path
    env: dict

    def run(self, *args: str, env: dict | None = None, cwd: Path | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        """Run git with args in this repository; raise BuildError naming the command if it fails and check."""
        result = subprocess.run(["git", f"--git-dir={self.git_dir}", *args], cwd=cwd or self.top,
                                env={**self.env, **(env or {})}, capture_output=True, text=True,
                                encoding="utf-8", errors="replace")
        if check and result.returncode != 0:
            raise BuildError([Problem(str(self.top), 1, f"git {next(a for a in args if not a.startswith('-'))} failed: {git_message(result)}")])
        return result


def git_message(result: subprocess.CompletedProcess) -> str:
    """Return the last meaningful lines git printed, on one line."""
    text = (result.stderr or "") + "\n" + (result.stdout or "")
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("hint:")]
    return " / ".join(lines[-4:]) or f"exit status {result.returncode}"


def open_repo(where: Path) -> Repo:
    """Return the git repository containing where; raise BuildError if there is none."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    try:
        result = subprocess.run(["git", "rev-parse", "--absolute-git-dir", "--show-toplevel"], cwd=where, env=env,
                                capture_output=True, text=True, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise BuildError([Problem(str(where), 1, "git is not installed (digest deploy needs it)")]) from None
    lines = result.stdout.splitlines()
    if result.returncode != 0 or not lines:
        raise BuildError([Problem(str(where), 1, "not a git repository (run 'git init' and add a remote, "
                                                 "or publish with the GitHub Pages workflow)")])
    top = Path(lines[1]) if len(lines) > 1 else where
    repo = Repo(git_dir=Path(lines[0]), top=top, env=env)
    if repo.run("var", "GIT_COMMITTER_IDENT", check=False).returncode != 0:
        repo = Repo(git_dir=repo.git_dir, top=top, env={**DEFAULT_IDENTITY, **env})
    return repo


def check_remote(repo: Repo, remote: str) -> None:
    """Raise BuildError unless remote is one of the repository's remotes."""
    remotes = repo.run("remote").stdout.split()
    if remote not in remotes:
        known = f"known: {', '.join(remotes)}" if remotes else "this repository has none; add one with 'git remote add'"
        raise BuildError([Problem("--remote", 1, f"no such remote '{remote}' ({known})")])


def check_branch(repo: Repo, branch: str) -> None:
    """Raise BuildError if branch is not a valid name or is the branch checked out here."""
    if repo.run("check-ref-format", f"refs/heads/{branch}", check=False).returncode != 0:
        raise BuildError([Problem("--branch", 1, f"not a valid branch name: {branch!r}")])
    current = repo.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip()
    if current == branch:
        raise BuildError([Problem("--branch", 1, f"'{branch}' is the branch checked out here; "
                                                 "deploy to another branch (default gh-pages)")])


def fetch_tip(repo: Repo, remote: str, branch: str) -> str | None:
    """Fetch remote's branch and return its tip commit, or None if the remote has no such branch."""
    listed = repo.run("ls-remote", "--heads", remote, f"refs/heads/{branch}", check=False)
    if listed.returncode != 0:
        raise BuildError([Problem("--remote", 1, f"cannot reach remote '{remote}': {git_message(listed)}")])
    if not listed.stdout.strip():
        return None
    tracking = f"refs/remotes/{remote}/{branch}"
    repo.run("fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}")
    return repo.run("rev-parse", "--verify", f"{tracking}^{{commit}}").stdout.strip()


def write_tree(repo: Repo, site_dir: Path) -> str:
    """Return the tree object of every file in site_dir, written through a temporary index."""
    with tempfile.TemporaryDirectory(prefix="digest-deploy-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        repo.run(f"--work-tree={site_dir}", "add", "--all", "--force", "--", ".", env=env, cwd=site_dir)
        return repo.run("write-tree", env=env).stdout.strip()


def default_message(repo: Repo, config: Config) -> str:
    """Return the commit message of a deploy: the site and the source commit it was built from.

    When the content, the templates or the config differ from that commit (edited, added or
    deleted and not committed), the message says so: the deployed site is not that commit's.
    """
    head = repo.run("rev-parse", "--short=12", "--verify", "--quiet", "HEAD", check=False).stdout.strip()
    if not head:
        return f"Deploy {config.title}"
    inputs = [str(p) for p in (config.content_dir, config.templates_dir, config.config_path) if p.exists()]
    status = repo.run("status", "--porcelain", "--untracked-files=all", "--", *inputs, check=False)
    dirty = status.returncode == 0 and status.stdout.strip()
    return f"Deploy {config.title} from {head}" + (" with uncommitted changes" if dirty else "")


def push(repo: Repo, remote: str, commit: str, branch: str, force: bool) -> None:
    """Push commit to remote's branch; raise BuildError saying why if it is rejected."""
    result = repo.run("push", *(["--force"] if force else []), remote,
                      f"{commit}:refs/heads/{branch}", check=False)
    if result.returncode != 0:
        hint = "" if force else " (if the branch was rewritten elsewhere, 'digest deploy --force' replaces it)"
        raise BuildError([Problem("--remote", 1, f"push to {remote}/{branch} rejected: {git_message(result)}{hint}")])


def deploy(config: Config, remote: str = "origin", branch: str = "gh-pages", message: str | None = None,
           force: bool = False, drafts: bool = False) -> str:
    """Build the site, commit it onto remote's branch and push; return the line to print."""
    from .build import build

    repo = open_repo(config.root)
    check_remote(repo, remote)
    check_branch(repo, branch)
    tip = fetch_tip(repo, remote, branch)
    with tempfile.TemporaryDirectory(prefix="digest-deploy-") as tmp:
        site_dir = Path(tmp) / "site"
        report = build(config, output_dir=site_dir, drafts=drafts)
        tree = write_tree(repo, site_dir)
    if tip and not force and repo.run("rev-parse", f"{tip}^{{tree}}").stdout.strip() == tree:
        return f"nothing changed: {remote}/{branch} already holds this site ({tip[:12]}); no commit made"
    parents = ["-p", tip] if tip and not force else []
    commit = repo.run("commit-tree", tree, *parents, "-m", message or default_message(repo, config)).stdout.strip()
    push(repo, remote, commit, branch, force)
    how = "replaced the history of" if force and tip else "pushed to"
    return (f"deployed {report.digests} digests ({report.files} files) as {commit[:12]}: "
            f"{how} {remote}/{branch}")
