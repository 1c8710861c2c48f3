"""Render the site's HTML pages through the Jinja theme.

Digest text only ever arrives here as data (already-sanitized HTML fragments and plain
strings); autoescaping is on for every template, whatever its file name.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from xml.sax.saxutils import escape as xml_escape

import jinja2
from markupsafe import Markup

from . import __version__
from .config import Config
from .model import Digest, PaperEntry, Site


def builtin_theme_dir() -> Path:
    """Return the folder of the default theme: inside the package, or the repository's templates/."""
    packaged = Path(__file__).parent / "theme"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "templates"


def theme_dirs(config: Config) -> list[Path]:
    """Return the template folders to search, the site's own first."""
    dirs = [config.templates_dir] if config.templates_dir.is_dir() else []
    builtin = builtin_theme_dir()
    if not dirs or dirs[0].resolve() != builtin.resolve():
        dirs.append(builtin)
    return dirs


def static_files(config: Config) -> dict[str, Path]:
    """Return the theme's static files by output path (the site's override the default)."""
    found: dict[str, Path] = {}
    for folder in reversed(theme_dirs(config)):
        static = folder / "static"
        if static.is_dir():
            for path in sorted(static.rglob("*")):
                if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
                    found["static/" + path.relative_to(static).as_posix()] = path
    return found


LABELS = {
    "en": {
        "skip": "Skip to content", "site_nav": "Site", "archive": "Archive", "papers": "papers",
        "days": "days", "votes": "Votes", "and_others": "and others", "watch_video": "Watch video",
        "thumbnail_of": "Thumbnail:", "paper_page": "Paper page", "also_on": "Also on",
        "contents": "Papers of the day", "day_nav": "Other days", "pages": "Pages", "newer": "Newer",
        "older": "Older", "no_digests": "No digests yet.", "not_found": "Page not found",
        "not_found_text": "There is nothing at this address. Try the home page or the archive:",
        "appeared_on": "Appeared on", "permalink": "Permalink",
    },
    "ko": {
        "skip": "본문으로 건너뛰기", "site_nav": "사이트", "archive": "아카이브", "papers": "편",
        "days": "일", "votes": "추천 수", "and_others": "외", "watch_video": "영상 보기",
        "thumbnail_of": "썸네일:", "paper_page": "논문 페이지", "also_on": "다른 날에도 소개됨:",
        "contents": "오늘의 논문", "day_nav": "다른 날", "pages": "페이지", "newer": "최신",
        "older": "이전", "no_digests": "아직 다이제스트가 없습니다.", "not_found": "페이지를 찾을 수 없습니다",
        "not_found_text": "이 주소에는 아무것도 없습니다. 홈이나 아카이브로 가 보세요:",
        "appeared_on": "소개된 날", "permalink": "고유 링크",
    },
}


@dataclass(frozen=True)
class SiteInfo:
    """What every template knows about the site."""

    title: str
    description: str
    author: str
    language: str
    base_url: str
    base_path: str
    search: bool
    generator: str
    digest_count: int
    paper_count: int


@dataclass(frozen=True)
class PageMeta:
    """What the head of a page says about it: canonical path, title, card."""

    path: str
    title: str
    description: str = ""
    image: str | None = None
    lang: str | None = None
    kind: str = "page"


def make_env(config: Config, site: Site | None = None) -> jinja2.Environment:
    """Return the Jinja environment of the site's theme, with its globals and filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme_dirs(config)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,
    )
    base_path = config.base_path
    base_url = config.base_url
    assets = {rel: hashlib.sha256(path.read_bytes()).hexdigest()[:10] for rel, path in static_files(config).items()}

    def url(path: str = "") -> str:
        return base_path + path.lstrip("/")

    def abs_url(path: str = "") -> str:
        return base_url + path.lstrip("/")

    def asset(path: str) -> str:
        version = assets.get(path)
        return url(path) + (f"?v={version}" if version else "")

    env.globals.update(
        url=url,
        abs_url=abs_url,
        asset=asset,
        site=SiteInfo(
            title=config.title,
            description=config.description,
            author=config.author,
            language=config.language,
            base_url=base_url,
            base_path=base_path,
            search=config.search,
            generator=f"paper-digest {__version__}",
            digest_count=len(site.digests) if site else 0,
            paper_count=site.paper_count if site else 0,
        ),
    )
    env.globals["t"] = LABELS.get(config.language.split("-")[0].lower(), LABELS["en"])
    env.filters["html"] = Markup  # for fragments the parser already sanitized
    env.filters["date_ko"] = lambda d: f"{d.year}년 {d.month}월 {d.day}일"
    env.filters["isodate"] = lambda d: d.isoformat()
    return env


def theme_fingerprint(config: Config) -> str:
    """Return a hash of every template and static file, for caches."""
    digest = hashlib.sha256(__version__.encode())
    for folder in theme_dirs(config):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def digest_description(digest: Digest) -> str:
    """Return a one-line description of a digest for cards and feeds."""
    if digest.description:
        return digest.description
    titles = ", ".join(p.title for p in digest.top_papers(3))
    return f"{len(digest.papers)} papers: {titles}" if titles else digest.title


def render_digest_page(env: jinja2.Environment, site: Site, index: int) -> str:
    """Return the HTML page of site.digests[index]."""
    digest = site.digests[index]
    older, newer = site.neighbours(index)
    top = digest.top_papers(1)
    return env.get_template("digest.html").render(
        digest=digest,
        older=older,
        newer=newer,
        also_on=also_on(site, digest),
        page=PageMeta(
            path=digest.path,
            title=digest.title,
            description=digest_description(digest),
            image=top[0].thumbnail if top else None,
            lang=digest.lang,
            kind="article",
        ),
    )


def also_on(site: Site, digest: Digest) -> dict[str, tuple[Digest, ...]]:
    """Return, for each paper of digest seen on other days, those other digests."""
    found = {}
    for paper in digest.papers:
        entry = site.papers.get(paper.id)
        if entry and len(entry.appearances) > 1:
            found[paper.id] = tuple(a.digest for a in entry.appearances if a.digest is not digest)
    return found


def index_pages(site: Site, per_page: int) -> list[tuple[Digest, ...]]:
    """Return the digests split into home pages, newest first (one empty page if none)."""
    count = max(1, math.ceil(len(site.digests) / per_page))
    return [site.digests[i * per_page:(i + 1) * per_page] for i in range(count)]


def index_path(number: int) -> str:
    """Return the path of home page number (1-based)."""
    return "" if number == 1 else f"page/{number}/"


def render_index_page(env: jinja2.Environment, pages: list[tuple[Digest, ...]], number: int) -> str:
    """Return home page number (1-based) of the paginated digest list."""
    total = len(pages)
    return env.get_template("index.html").render(
        digests=pages[number - 1],
        number=number,
        total=total,
        newer_path=index_path(number - 1) if number > 1 else None,
        older_path=index_path(number + 1) if number < total else None,
        page=PageMeta(path=index_path(number), title=env.globals["site"].title, kind="website",
                      description=env.globals["site"].description),
    )


def render_archive(env: jinja2.Environment, site: Site) -> str:
    """Return the archive page: every digest grouped by year and month."""
    years: dict[int, list] = {}
    for month in site.months:
        years.setdefault(month.year, []).append(month)
    return env.get_template("archive.html").render(
        years=sorted(years.items(), reverse=True),
        page=PageMeta(path="archive/", title="Archive"),
    )


def render_not_found(env: jinja2.Environment) -> str:
    """Return the 404 page."""
    return env.get_template("404.html").render(page=PageMeta(path="404.html", title="Not found"))


def render_paper_page(env: jinja2.Environment, entry: PaperEntry) -> str:
    """Return the page of one paper, with every day it appeared on."""
    paper = entry.paper
    return env.get_template("paper.html").render(
        entry=entry,
        paper=paper,
        page=PageMeta(path=entry.path, title=paper.title, image=paper.thumbnail, kind="article",
                      description=_plain_summary(entry), lang=entry.appearances[-1].digest.lang),
    )


def render_feed_content(env: jinja2.Environment, digest: Digest) -> str:
    """Return a digest's full content as an HTML fragment for feeds (absolute links)."""
    return env.get_template("feed_item.html").render(digest=digest)


def render_sitemap(config: Config, paths: list[tuple[str, str | None]]) -> str:
    """Return sitemap.xml for (path, lastmod) pairs."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, lastmod in paths:
        loc = xml_escape(config.base_url + path)
        mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        lines.append(f"  <url><loc>{loc}</loc>{mod}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def render_robots(config: Config) -> str:
    """Return robots.txt pointing at the sitemap."""
    return f"User-agent: *\nAllow: /\n\nSitemap: {config.base_url}sitemap.xml\n"


def _plain_summary(entry: PaperEntry) -> str:
    import re

    for bullet in entry.paper.summary:
        text = re.sub(r"<[^>]+>", "", bullet.html)
        if text:
            import html

            text = html.unescape(text)
            return text if len(text) <= 200 else text[:199] + "…"
    return ""


def iter_paths(site: Site, pages: list) -> Iterator[str]:
    """Yield the path of every HTML page of the site, for the sitemap."""
    for number in range(1, len(pages) + 1):
        yield index_path(number)
    yield "archive/"
    for digest in site.digests:
        yield digest.path
