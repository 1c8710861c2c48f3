"""Render the site's HTML pages through the Jinja theme.

Digest text only ever arrives here as data (already-sanitized HTML fragments and plain
strings); autoescaping is on for every template, whatever its file name.
"""

from __future__ import annotations

import collections
import hashlib
import html
import math
import os
import re
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import quote

import jinja2
import jinja2.compiler
import jinja2.nodes
from markupsafe import Markup

try:  # markupsafe 3's escaping into a str: its C speedups, or their pure-Python twin
    from markupsafe import _escape_inner as _escaped
except ImportError:  # another markupsafe: its public escape, through a Markup
    from markupsafe import escape as _markup_escape

    def _escaped(text: str) -> str:
        return str(_markup_escape(text))

from . import __version__
from .cache import code_fingerprint, prune_records
from .config import Config
from .theme import static_files, theme_dirs
from .markup import clean_text, rebase_links, slugify
from .model import Appearance, Digest, Month, PaperEntry, Site, Tag


LABELS = {
    "en": {
        "skip": "Skip to content", "site_nav": "Site", "archive": "Archive", "papers": "papers",
        "days": "days", "votes": "Votes", "and_others": "and others", "watch_video": "Watch video",
        "thumbnail_of": "Thumbnail:", "paper_page": "Paper page", "also_on": "Also on",
        "contents": "Papers of the day", "day_nav": "Other days", "pages": "Pages", "newer": "Newer",
        "older": "Older", "no_digests": "No digests yet.", "not_found": "Page not found",
        "not_found_text": "There is nothing at this address. Try the home page or the archive:",
        "appeared_on": "Appeared on", "permalink": "Permalink",
        "tags": "Tags", "tag": "Tag", "top": "Top papers", "search": "Search", "search_label": "Search papers",
        "search_placeholder": "Title, author, topic", "search_no_js": "Search needs JavaScript. Every paper is also "
        "listed in the archive:", "tagged": "Digests tagged", "no_tags": "No tags yet.", "feed_of_tag": "Feed of this tag",
        "top_lede": "The most-voted papers of each month.", "no_votes": "No votes recorded yet.",
        "first_seen": "first seen", "tags_lede": "Topics the digests are tagged with.",
    },
    "ko": {
        "skip": "본문으로 건너뛰기", "site_nav": "사이트", "archive": "아카이브", "papers": "편",
        "days": "일", "votes": "추천 수", "and_others": "외", "watch_video": "영상 보기",
        "thumbnail_of": "썸네일:", "paper_page": "논문 페이지", "also_on": "다른 날에도 소개됨:",
        "contents": "오늘의 논문", "day_nav": "다른 날", "pages": "페이지", "newer": "최신",
        "older": "이전", "no_digests": "아직 다이제스트가 없습니다.", "not_found": "페이지를 찾을 수 없습니다",
        "not_found_text": "이 주소에는 아무것도 없습니다. 홈이나 아카이브로 가 보세요:",
        "appeared_on": "소개된 날", "permalink": "고유 링크",
        "tags": "태그", "tag": "태그", "top": "인기 논문", "search": "검색", "search_label": "논문 검색",
        "search_placeholder": "제목, 저자, 주제", "search_no_js": "검색에는 JavaScript가 필요합니다. 모든 논문은 "
        "아카이브에서도 볼 수 있습니다:", "tagged": "태그가 붙은 다이제스트", "no_tags": "아직 태그가 없습니다.",
        "feed_of_tag": "이 태그의 피드", "top_lede": "달마다 추천을 가장 많이 받은 논문입니다.",
        "no_votes": "아직 추천 수가 없습니다.", "first_seen": "처음 소개", "tags_lede": "다이제스트에 붙은 주제입니다.",
    },
}


class Labels(dict):
    """A language's labels, read as t.name in templates (an attribute, so Jinja finds it without a failed lookup)."""

    def __init__(self, labels: dict[str, str]):
        super().__init__(labels)
        self.__dict__.update(labels)


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
    paper_pages: bool = True


@dataclass(frozen=True)
class PageMeta:
    """What the head of a page says about it: canonical path, title, card."""

    path: str
    title: str
    description: str = ""
    image: str | None = None
    lang: str | None = None
    kind: str = "page"


def _bytecode_cache(config: Config) -> jinja2.BytecodeCache | None:
    """Return a cache of compiled templates under the cache dir, one folder per generator version.

    Jinja checks each template's source, but compiled code also holds how this version calls
    each filter: another version's compiled templates are stale even for the same source.
    """
    root = config.cache_dir / "templates"
    folder = root / code_fingerprint()[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # this version's is the newest: the pruning keeps it
    except OSError:
        return None
    prune_records(root, "*", keep=4)  # the folders of recent versions (a preview of one may still be running)
    return _TemplateCache(str(folder))


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates on disk; one that cannot be stored is compiled again next time."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def output_escape(value: object) -> str:
    """Return value as escaped text for a page: markupsafe.escape's text, without making a Markup of it.

    A page is joined from these as plain strings; a Markup object for each of the million
    values of a full build was a tenth of its rendering time.
    """
    if value.__class__ is str:
        return _escaped(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escaped(str(value))


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, with {{ value }} written through output_escape where autoescape is on,
    and each run of text and values between two tags yielded as one string.

    Jinja yields every piece of text and every value on its own, and a piece yielded inside
    an include inside a block passes up through four generators; joining them took a fifth
    off rendering a day page. (Overrides methods Jinja documents only in its source. Had they gone,
    templates would fall back to Jinja's own code: the same bytes, more slowly. Tests check
    that they are used.)
    """

    def visit_Output(self, node, frame) -> None:
        if (frame.buffer is not None or frame.require_output_check or frame.eval_ctx.volatile
                or self.environment.is_async or len(node.nodes) < 2):
            super().visit_Output(node, frame)  # into a buffer (macros, set blocks) Jinja already writes one call
            return
        finalize = self._make_finalize()
        self.writeline("yield ''.join((")
        self.indent()
        for child in node.nodes:
            if isinstance(child, jinja2.nodes.TemplateData):
                self.writeline(repr(child.data) + ",")
            else:
                self.newline(child)  # so that an error names the template line of this value
                self._output_child_pre(child, frame, finalize)
                self.visit(child, frame)
                self._output_child_post(child, frame, finalize)
                self.write(",")
        self.outdent()
        self.writeline("))")

    def _output_child_pre(self, node, frame, finalize) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.output_escape(")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)


class _Environment(jinja2.Environment):
    code_generator_class = _CodeGenerator
    output_escape = staticmethod(output_escape)

    def make_globals(self, d):
        """Return the globals of a template: the environment's own when the template adds none.

        Jinja gives each template a ChainMap over the environment's, which every render
        copies into a dict key by key in Python (6 us a page, a tenth of a paper page). The
        environment's dict itself is as live (set_site_globals updates it in place) and
        copies in C; no template here is given globals of its own, so none writes to it.
        """
        return self.globals if not d else super().make_globals(d)


def make_env(config: Config, site: Site | None = None) -> jinja2.Environment:
    """Return the Jinja environment of the site's theme, with its globals and filters."""
    env = _Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme_dirs(config)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,
        bytecode_cache=_bytecode_cache(config),
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

    env.globals.update(url=url, abs_url=abs_url, asset=asset)
    # and as filters ({{ 'archive/'|url }}), which the built-in theme uses: Jinja calls a filter
    # directly but a function through Context.call, which costs more than url itself
    env.filters.update(url=_unfoldable(url), abs_url=_unfoldable(abs_url), asset=_unfoldable(asset))
    env.globals["t"] = Labels(LABELS.get(config.language.split("-")[0].lower(), LABELS["en"]))
    env.filters["html"] = Markup  # for fragments the parser already sanitized
    env.filters["og_locale"] = og_locale

    def lang_attr(lang: str | None) -> Markup:
        # the page is in the site's language, interface and all; only digest text may differ
        return Markup(' lang="%s"') % lang if lang and lang != config.language else Markup("")

    env.filters["lang_attr"] = _unfoldable(lang_attr)
    # digest text shown away from its day (a paper's page) keeps its relative links and anchors working
    env.filters["links_from"] = lambda fragment, day_path: rebase_links(fragment, base_path + day_path) if day_path else fragment
    set_site_globals(env, config, site)
    return env


def _unfoldable(function):
    """Return function as a Jinja filter that Jinja does not compute at compile time.

    Jinja folds a filter of a constant ('feed.xml'|abs_url) into the compiled template, and
    compiled templates are cached on disk for any config: a changed base_url would not show.
    """
    @jinja2.pass_context
    def filter_(_context, *args):
        return function(*args)
    return filter_


def set_site_globals(env: jinja2.Environment, config: Config, site: Site | None) -> None:
    """Point env's site-wide globals at site (an env is reused across a preview's rebuilds)."""
    url = env.globals["url"]
    env.globals.update(
        site=SiteInfo(
            title=config.title,
            description=config.description,
            author=config.author,
            language=config.language,
            base_url=config.base_url,
            base_path=config.base_path,
            search=config.search and bool(site and site.papers),  # nothing to search: no box, no page
            generator=f"paper-digest {__version__}",
            paper_pages=config.paper_pages,
        ),
    )
    tag_paths = {tag.slug: tag.path for tag in (site.tags if site else ())}

    def tag_url(name: str) -> str | None:
        path = tag_paths.get(slugify(name, max_bytes=60))
        return url(path) if path else None

    env.globals["tag_url"] = tag_url


OG_LOCALES = {"ko": "ko_KR", "en": "en_US", "ja": "ja_JP", "zh": "zh_CN"}


def og_locale(lang: str) -> str | None:
    """Return the Open Graph locale of a language tag (ko and ko-KR give ko_KR), or None if unknown."""
    return OG_LOCALES.get(lang.split("-")[0].lower())


def digest_description(digest: Digest) -> str:
    """Return a one-line description of a digest for cards and feeds."""
    if digest.description:
        return digest.description
    titles = " · ".join(p.title for p in digest.top_papers(3))
    return titles or digest.title


def render_digest_page(env: jinja2.Environment, site: Site, index: int) -> str:
    """Return the HTML page of site.digests[index]."""
    digest = site.digests[index]
    older, newer = site.neighbours(index)
    top = digest.top_papers(1)
    image = digest.papers[top[0].position].thumbnail if top else None
    return env.get_template("digest.html").render(
        digest=digest,
        older=older,
        newer=newer,
        also_on=collections.defaultdict(tuple, also_on(site, digest)),
        page=PageMeta(
            path=digest.path,
            title=digest.title,
            description=digest_description(digest),
            image=_card_image(image),
            lang=digest.lang,
            kind="article",
        ),
    )


def also_on(site: Site, digest: Digest) -> dict[str, tuple[Digest, ...]]:
    """Return, for each paper of digest seen on other days, those other digests."""
    found = {}
    for pid in digest.paper_ids:
        entry = site.papers.get(pid)
        if entry and len(entry.appearances) > 1:
            found[pid] = tuple(a.digest for a in entry.appearances if a.digest is not digest)
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
    t = env.globals["t"]
    return env.get_template("archive.html").render(
        years=sorted(years.items(), reverse=True),
        digest_count=len(site.digests),
        paper_count=site.paper_count,
        page=PageMeta(path="archive/", title=t["archive"],
                      description=f"{len(site.digests)} {t['days']} · {site.paper_count} {t['papers']}"),
    )


def render_not_found(env: jinja2.Environment) -> str:
    """Return the 404 page."""
    t = env.globals["t"]
    return env.get_template("404.html").render(page=PageMeta(path="404.html", title=t["not_found"],
                                                              description=t["not_found_text"]))


def render_paper_page(env: jinja2.Environment, entry: PaperEntry) -> str:
    """Return the page of one paper, with every day it appeared on and the tags of those days."""
    paper = entry.paper
    tags = tuple(dict.fromkeys(tag for a in entry.appearances for tag in a.digest.tags))
    return env.get_template("paper.html").render(
        entry=entry,
        paper=paper,
        tags=tags,
        page=PageMeta(path=entry.path, title=paper.title, image=_card_image(paper.thumbnail), kind="article",
                      description=_plain_summary(entry), lang=entry.appearances[-1].digest.lang),
    )


def render_tags_index(env: jinja2.Environment, site: Site) -> str:
    """Return the page listing every tag with its number of digests."""
    t = env.globals["t"]
    return env.get_template("tags.html").render(
        tags=sorted(site.tags, key=lambda tag: (-len(tag.digests), tag.slug)),
        page=PageMeta(path="tags/", title=t["tags"], description=t["tags_lede"]),
    )


def render_tag_page(env: jinja2.Environment, tag: Tag) -> str:
    """Return the page of one tag: its digests, newest first, and its feeds."""
    t = env.globals["t"]
    return env.get_template("tag.html").render(
        tag=tag,
        page=PageMeta(path=tag.path, title=f"{t['tag']}: {tag.name}",
                      description=f"{t['tagged']} {tag.name}: {len(tag.digests)}"),
    )


@dataclass(frozen=True)
class TopPaper:
    """A paper among a month's most voted: its entry and the day it had the most votes
    (what a template reads of them needs no paper, so no day's papers are unpickled)."""

    entry: PaperEntry
    appearance: Appearance

    @property
    def votes(self) -> int:
        """Return the paper's votes on the day it is listed for."""
        return self.appearance.votes or 0

    @property
    def title(self) -> str:
        """Return the paper's newest title."""
        return self.entry.appearances[-1].title


def top_papers_by_month(site: Site, per_month: int = 10) -> list[tuple[Month, tuple[TopPaper, ...]]]:
    """Return each month (newest first) with its most-voted papers, ties by earliest day."""
    found = []
    for month in site.months:
        best: dict[str, tuple[int, Digest, int]] = {}
        for digest in reversed(month.digests):  # oldest first, so ties keep the first day
            for position, (pid, votes) in enumerate(zip(digest.paper_ids, digest.paper_votes)):
                if votes is None:
                    continue
                seen = best.get(pid)
                if seen is None or votes > seen[0]:
                    best[pid] = (votes, digest, position)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[1][1].date, item[0]))
        top = tuple(TopPaper(site.papers[pid], Appearance(digest, position))
                    for pid, (_, digest, position) in ranked[:per_month])
        if top:
            found.append((month, top))
    return found


def render_top(env: jinja2.Environment, site: Site, per_month: int = 10) -> str:
    """Return the page of the most-voted papers of each month, newest month first."""
    t = env.globals["t"]
    return env.get_template("top.html").render(
        months=top_papers_by_month(site, per_month),
        per_month=per_month,
        page=PageMeta(path="top/", title=t["top"], description=t["top_lede"]),
    )


def render_search_page(env: jinja2.Environment) -> str:
    """Return the search page, which runs the Pagefind UI on ?q=."""
    t = env.globals["t"]
    return env.get_template("search.html").render(
        page=PageMeta(path="search/", title=t["search"], description=t["search_label"], kind="search"),
    )


def render_feed_content(env: jinja2.Environment, digest: Digest) -> str:
    """Return a digest's full content as an HTML fragment for feeds (absolute links)."""
    return env.get_template("feed_item.html").render(digest=digest)


def render_sitemap(config: Config, paths: list[tuple[str, str | None]]) -> str:
    """Return sitemap.xml for (path, lastmod) pairs."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path, lastmod in paths:
        loc = html.escape(config.base_url + (path if _URL_SAFE.match(path) else quote(path, safe="/")), quote=False)
        mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        lines.append(f"  <url><loc>{loc}</loc>{mod}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


_URL_SAFE = re.compile(r"[A-Za-z0-9/._~-]*\Z")


def _card_image(url: str | None) -> str | None:
    """Return url if social cards can use it (http(s), not an inline data: image)."""
    return url if url and url.startswith(("https://", "http://")) else None


def render_robots(config: Config) -> str:
    """Return robots.txt pointing at the sitemap."""
    return f"User-agent: *\nAllow: /\n\nSitemap: {config.base_url}sitemap.xml\n"


def _plain_summary(entry: PaperEntry) -> str:
    for bullet in entry.paper.summary:
        text = clean_text(html.unescape(re.sub(r"<[^>]+>", "", bullet.html))).strip()  # no bidi override in a card
        if text:
            return text if len(text) <= 200 else text[:199] + "…"
    return ""


def iter_paths(site: Site, pages: list, paper_pages: bool = True) -> Iterator[str]:
    """Yield the path of every HTML page of the site worth indexing, for the sitemap."""
    for number in range(1, len(pages) + 1):
        yield index_path(number)
    yield "archive/"
    for digest in site.digests:
        yield digest.path
    if paper_pages:
        for entry in site.papers.values():
            yield entry.path
    yield "tags/"
    for tag in site.tags:
        yield tag.path
    yield "top/"
