"""Create a new site (`digest init`) and a new digest skeleton (`digest new`).

The files a new site starts with live in the package (scaffold_files/), so `digest init`
works from any install; the GitHub Pages workflow there is the same file as this
repository's .github/workflows/pages.yml.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import re
from importlib import resources
from pathlib import Path
from string import Template

import frontmatter

from .config import Config
from .load import find_sources, shown_path
from .problems import BuildError, Problem
from .parse import path_date

SAMPLE_DATE = "2024-01-15"  # in the past, so `digest new` for today never meets the sample
ALLOWED_IN_NEW_SITE = {".git"}  # `git init` first, then `digest init .`
WORKFLOW_PATH = ".github/workflows/pages.yml"
DISTRIBUTION = "paper-digest"
# When no installable source is known: what the publisher must write, and why not the name alone.
REQUIREMENT_TO_WRITE = f"""\
# digest init ran from a paper-digest installed from this machine's disk, so it cannot name
# one that GitHub's runner can reach. Add a line that installs paper-digest from its
# repository, pinned to a tag or commit, for example:
#   {DISTRIBUTION}[search] @ git+https://github.com/OWNER/paper-digest@COMMIT
# Not a bare "{DISTRIBUTION}": on PyPI that name belongs to another project."""


def scaffold_text(name: str) -> str:
    """Return the text of one file of the package's scaffold_files."""
    return resources.files(__package__).joinpath("scaffold_files", name).read_text(encoding="utf-8")


def installed_direct_url() -> str | None:
    """Return the direct_url.json (PEP 610) of the running paper-digest's install, or None."""
    try:
        return importlib.metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None


def requirement_from(direct_url: str | None) -> str | None:
    """Return the pip requirement that installs, on another machine, the paper-digest direct_url describes.

    A git repository (pinned to the commit pip checked out) or an archive at an http(s) URL
    can be reached from a CI runner; a local folder or file cannot, and neither can the bare
    name: the package index a runner asks is PyPI, where it is another project's.
    """
    try:
        info = json.loads(direct_url or "")
        url = info["url"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or url.startswith("file:") or any(c.isspace() for c in url):
        return None
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and isinstance(vcs.get("commit_id"), str):
        return f"{DISTRIBUTION}[search] @ git+{url}@{vcs['commit_id']}"
    if "archive_info" in info and url.startswith(("https://", "http://")):
        return f"{DISTRIBUTION}[search] @ {url}"
    return None


def new_site_files(directory: Path, requirement: str | None = None) -> dict[str, str]:
    """Return the files of a new site in directory, by path relative to it; requirement installs paper-digest."""
    name = directory.resolve().name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "digests"
    title = name if name and name not in (".", "/") else "Daily Papers"
    values = {"title": json.dumps(title, ensure_ascii=False), "slug": slug, "date": SAMPLE_DATE,
              "lines": requirement or REQUIREMENT_TO_WRITE}
    return {
        "site.toml": Template(scaffold_text("site.toml")).substitute(values),
        f"content/{SAMPLE_DATE}.md": Template(scaffold_text("sample.md")).substitute(values),
        ".gitignore": scaffold_text("gitignore"),
        "requirements.txt": Template(scaffold_text("requirements.txt")).substitute(values),
        WORKFLOW_PATH: scaffold_text("pages.yml"),
    }


def init_site(directory: Path) -> list[str]:
    """Create a new site in directory (absent or empty); return the lines saying what was done and what next."""
    directory = Path(directory)
    shown = str(directory)
    if directory.exists() and not directory.is_dir():
        raise BuildError([Problem(shown, 1, "exists and is not a directory")])
    if directory.is_dir():
        present = sorted(p.name for p in directory.iterdir() if p.name not in ALLOWED_IN_NEW_SITE)
        if present:
            listed = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
            raise BuildError([Problem(shown, 1, f"directory is not empty ({listed}); "
                                                "digest init only writes into a new or empty directory")])
    requirement = requirement_from(installed_direct_url())
    files = new_site_files(directory, requirement)
    try:
        for rel, text in files.items():
            path = directory / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
    except OSError as exc:
        raise BuildError([Problem(str(directory / rel), 1, f"cannot write: {exc.strerror or exc}")]) from None
    return [*(f"created {directory / rel}" for rel in files), "", "next steps:",
            f"  cd {directory}",
            "  digest serve            # preview at http://127.0.0.1:8000",
            "  digest new              # a draft digest for today",
            "  digest check            # broken links and feeds",
            *([] if requirement else ["  name in requirements.txt where GitHub's runner gets paper-digest (see its comment)"]),
            "  push to GitHub, then Settings -> Pages -> Source: GitHub Actions"]


def digest_date(config: Config, date: str | None) -> dt.date:
    """Return the date named by date (YYYY-MM-DD), or today in the site's time zone."""
    if date is None:
        return dt.datetime.now(config.tz).date()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            raise ValueError
        return dt.date.fromisoformat(date)
    except ValueError:
        raise BuildError([Problem("digest new", 1, f"not a date: {date!r} (use YYYY-MM-DD, e.g. 2024-03-15)")]) from None


def existing_digest(config: Config, day: dt.date) -> Path | None:
    """Return the digest file already written for day (by its file name, any layout), if any."""
    sources, _ = find_sources(config.content_dir, config.root)
    wanted = (day.year, day.month, day.day)
    return next((Path(s.path) for s in sources if path_date(s.rel) == wanted), None)


def skeleton(config: Config, day: dt.date) -> str:
    """Return the text of a draft digest for day, in the reference shape."""
    body = (
        f"## Daily Papers ({day.isoformat()})\n"
        "\n"
        f"### [Paper title](https://arxiv.org/abs/{day:%y%m}.00000)\n"
        "\n"
        "Vote: 0\n"
        "\n"
        "Authors: First Author, Second Author, +, Last Author\n"
        "\n"
        "- What the paper does, in one sentence.\n"
        "- ***What's New***: what is new about it.\n"
    )
    post = frontmatter.Post(body, title=f"Daily Papers ({day.isoformat()})", date=day,
                            lang=config.language, tags=[], draft=True)
    return frontmatter.dumps(post, sort_keys=False) + "\n"


def new_digest(config: Config, date: str | None) -> Path:
    """Write a draft digest skeleton for date (default today) and return its path."""
    day = digest_date(config, date)
    found = existing_digest(config, day)
    if found is not None:
        raise BuildError([Problem(shown_path(found, config.root), 1, f"a digest for {day} already exists; not overwritten")])
    path = config.content_dir / f"{day.isoformat()}.md"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(skeleton(config, day))
    except FileExistsError:
        raise BuildError([Problem(shown_path(path, config.root), 1, f"a digest for {day} already exists; not overwritten")]) from None
    except OSError as exc:
        raise BuildError([Problem(shown_path(path, config.root), 1, f"cannot write: {exc.strerror or exc}")]) from None
    return path
