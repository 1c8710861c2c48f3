"""Build a site: config -> load -> parse -> model -> render -> feeds -> write.

Read top to bottom, this module is the whole pipeline; each stage lives in its own module.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import jinja2

from . import cache as cache_mod
from .config import Config, check_output_dir
from .feeds import FeedInfo, FeedItem, render_atom, render_json_feed, render_rss
from .load import find_sources, read_source
from .model import BuildError, Digest, Problem, Site, build_site, errors_in
from .parse import decode_source, parse_digest
from .render import (digest_description, index_pages, index_path, iter_paths, make_env, render_archive,
                     render_digest_page, render_feed_content, render_index_page, render_not_found, render_paper_page,
                     render_robots, render_sitemap, static_files)
from .search import SearchError, build_search_index, pagefind_executable
from .write import OutputError, SiteWriter


@dataclass
class BuildReport:
    """What a build did, for the summary line."""

    digests: int = 0
    papers: int = 0
    files: int = 0
    written: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    warnings: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """Return the one-line summary printed after a build."""
        return (f"built {self.digests} digests, {self.papers} papers: {self.files} files "
                f"({self.written} written, {self.unchanged} unchanged) in {self.seconds:.2f} s")


def build(config: Config, *, output_dir: Path | None = None, drafts: bool = False,
          use_cache: bool = True) -> BuildReport:
    """Build the site into output_dir (default: the config's); raise BuildError on any error."""
    started = time.perf_counter()
    output_dir = Path(output_dir or config.output_dir).absolute()
    check_output_dir(config, output_dir)

    digests, problems = load_digests(config, use_cache=use_cache)
    site, collisions = build_site(digests, drafts=drafts)
    problems += collisions
    if errors_in(problems):
        raise BuildError(problems)

    env = make_env(config, site)
    try:
        if config.search:
            pagefind_executable()  # fail before writing anything when search cannot work
        with SiteWriter(output_dir) as writer:
            for rel, data in site_files(env, config, site):
                writer.write(rel, data)
            if config.search:  # index the finished tree before it is swapped in
                build_search_index(config, writer.tmp_dir)
    except SearchError as exc:
        raise BuildError(problems + [Problem(config.config_path.name, 1, str(exc))]) from None
    except jinja2.TemplateError as exc:
        raise BuildError(problems + [template_problem(exc, config)]) from None
    except OutputError as exc:
        raise BuildError(problems + [Problem(str(output_dir), 1, str(exc))]) from None

    return BuildReport(
        digests=len(site.digests),
        papers=site.paper_count,
        files=writer.written + writer.unchanged,
        written=writer.written,
        unchanged=writer.unchanged,
        seconds=time.perf_counter() - started,
        warnings=[p for p in problems if p.level != "error"],
    )


def load_digests(config: Config, use_cache: bool = True) -> tuple[list[Digest], list[Problem]]:
    """Return every digest under the content dir and all problems found reading them."""
    sources, problems = find_sources(config.content_dir, config.root)
    cache = cache_mod.ParseCache.open(config.cache_dir, config.timezone) if use_cache else cache_mod.ParseCache.disabled()
    digests = []
    for source in sources:
        data, found = read_source(source)
        if data is None:
            problems += found
            continue
        hit = cache.get(source.rel, data)
        if hit is None:
            text, found = decode_source(data, source.shown)
            digest = None
            if text is not None:
                digest, more = parse_digest(text, source.shown, config.tz)
                found += more
            cache.put(source.rel, data, digest, found)
        else:
            digest, found = hit
        problems += found
        if digest is not None:
            digests.append(digest)
    cache.save()
    return digests, problems


def site_files(env: jinja2.Environment, config: Config, site: Site) -> Iterator[tuple[str, bytes | str]]:
    """Yield (path, content) for every file of the site."""
    pages = index_pages(site, config.paginate)
    for number in range(1, len(pages) + 1):
        yield index_path(number) + "index.html", render_index_page(env, pages, number)
    for index, digest in enumerate(site.digests):
        yield digest.path + "index.html", render_digest_page(env, site, index)
    for entry in site.papers.values():
        yield entry.path + "index.html", render_paper_page(env, entry)
    yield "archive/index.html", render_archive(env, site)
    yield "404.html", render_not_found(env)
    yield from feed_files(env, config, site.digests[: config.feed_limit])
    lastmod = {d.path: d.published.date().isoformat() for d in site.digests}
    newest = site.digests[0].published.date().isoformat() if site.digests else None
    yield "sitemap.xml", render_sitemap(config, [(p, lastmod.get(p, newest)) for p in iter_paths(site, pages)])
    yield "robots.txt", render_robots(config)
    yield ".nojekyll", b""
    if config.cname:
        yield "CNAME", config.cname + "\n"
    for rel, path in static_files(config).items():
        yield rel, path.read_bytes()


def feed_files(env: jinja2.Environment, config: Config, digests: tuple[Digest, ...]) -> Iterator[tuple[str, bytes]]:
    """Yield the site's RSS, Atom and JSON feeds of the given digests."""
    base = config.base_url
    info = FeedInfo(title=config.title, description=config.description, home_url=base,
                    rss_url=base + "feed.xml", atom_url=base + "atom.xml", json_url=base + "feed.json")
    items = [FeedItem(d, base + d.path, render_feed_content(env, d), digest_description(d)) for d in digests]
    yield "feed.xml", render_rss(config, info, items)
    yield "atom.xml", render_atom(config, info, items)
    yield "feed.json", render_json_feed(config, info, items)


def template_problem(exc: jinja2.TemplateError, config: Config) -> Problem:
    """Return a template error as a Problem naming the template file and line."""
    name, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if not name:  # a runtime error: Jinja puts the template's frames in the traceback
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith((".html", ".xml", ".j2"))]
        if frames:
            name, line = frames[-1].filename, frames[-1].lineno
    try:
        name = Path(name).resolve().relative_to(config.root).as_posix()
    except (TypeError, ValueError):
        name = name or "templates"
    return Problem(name, line or 1, f"template error: {exc.message or exc}")
