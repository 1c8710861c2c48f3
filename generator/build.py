"""Build a site: config -> load -> parse -> model -> render -> feeds -> write.

Read top to bottom, this module is the whole pipeline; each stage lives in its own module.
Its first step, finding the sources and telling whether there is anything to do, is
fresh.scan_sources: the command line runs it before it imports this module.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import time
import traceback
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable, Collection, Iterator

import jinja2

from . import cache as cache_mod
from .cache import code_fingerprint, make_key
from .config import Config
from .fresh import BuildRecord, BuildReport, Scan, forget_fresh_record, save_fresh_record, scan_sources
from .feeds import feed_files, feed_keys, tag_feed_files
from .load import Source, read_source
from .incremental import LastBuild, day_note, paper_pages, unchanged_pages
from .model import (Digest, PaperEntry, PapersUnreadable, Site, build_site, card_hash, digest_from_parts, digest_parts,
                    release_papers)
from .problems import BuildError, Problem, errors_in
from .parse import decode_source, parse_digest
from .render import (also_on, set_site_globals, index_pages, index_path, iter_paths, make_env, render_archive,
                     render_digest_page, render_index_page, render_not_found, render_paper_page,
                     render_robots, render_search_page, render_sitemap, render_tag_page, render_tags_index,
                     render_top)
from .theme import static_files
from .search import BUNDLE_DIR, SearchError, pagefind_executable, stage_search_index
from .workers import fork_call, fork_map
from .write import KeptTree, OutputError, SiteWriter, missing_recorded, record_path


@dataclass
class BuildMemo:
    """What a long-running process (the preview server) keeps between builds: parsed digests, compiled templates."""

    parse_cache: cache_mod.ParseCache | None = None
    env: jinja2.Environment | None = None
    env_key: str = ""
    feed_contents: tuple[str, dict] = ("", {})  # a shared_key and the feed contents rendered under it
    last: LastBuild | None = None  # what the last good build wrote into the preview's (private) output
    search_index: KeptTree | None = None  # the index in the preview's output and its files (last build or indexer)


def build(config: Config, *, output_dir: Path | None = None, drafts: bool = False,
          use_cache: bool = True, memo: BuildMemo | None = None, scan: Scan | None = None) -> BuildReport:
    """Build the site into output_dir (default: the config's); raise BuildError on any error.

    scan, if given, is what fresh.scan_sources found for the same arguments (the command
    line asks it first, to finish a build with nothing to do without importing this module).
    """
    with _collector_paused():
        scan = scan or scan_sources(config, output_dir, drafts, signed=use_cache and memo is None)
        try:
            with contextlib.ExitStack() as at_exit:
                return _build(config, scan, drafts, use_cache, memo, at_exit)
        except PapersUnreadable:  # damage inside the parse cache, seen only when a page needed it
            cache_mod.ParseCache.clear(config.cache_dir)
            if memo is not None:
                memo.parse_cache = None
            with contextlib.ExitStack() as at_exit:
                return _build(config, scan, drafts, use_cache, memo, at_exit)


@contextlib.contextmanager
def _collector_paused():
    """Pause Python's cycle collector: a build makes millions of objects and few cycles, and
    each collection would walk the whole parsed archive (a tenth of a cold build's time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(config: Config, scan: Scan, drafts: bool, use_cache: bool,
           memo: BuildMemo | None, at_exit: contextlib.ExitStack) -> BuildReport:
    # the preview (memo) rebuilds only when told something changed, so its scan is not signed
    report = scan.unchanged_report()
    if report is not None:  # nothing changed since the last good build: nothing to do
        return report
    output_dir, sources, stamps, theme, signature = scan.output_dir, scan.sources, scan.stamps, scan.theme, scan.signature
    problems = list(scan.problems)
    checked = None  # which recorded output files are gone, found by another core while this one loads the archive
    if memo is None and use_cache and _record_bytes(output_dir, config.cache_dir) >= CHECK_AHEAD_BYTES:
        checked = fork_call(partial(missing_recorded, output_dir, config.cache_dir))
        at_exit.callback(checked)  # reaped whatever happens

    search_stale = False  # whether the preview's search index no longer matches its pages
    digests, more, save_cache = load_digests(config, sources, stamps, use_cache=use_cache, memo=memo)
    at_exit.callback(save_cache)  # when an error stops the build before the render stage saves it
    problems += more
    site, collisions = build_site(digests, drafts=drafts, previous=memo.last.site if memo and memo.last else None)
    problems += collisions
    if errors_in(problems):
        raise BuildError(problems)

    env = theme_env(config, site, memo, theme)
    try:
        if config.search:
            pagefind_executable()  # fail before writing anything when search cannot work
        forget_fresh_record(config, output_dir)  # until this build succeeds, the output is not known good
        last = memo.last if memo is not None else None
        previous = last.produced if last is not None else None
        if memo is not None:
            memo.last = None  # like the fresh record: until this build succeeds, the output is not known good
        with SiteWriter(output_dir, config.cache_dir, trust_state=use_cache, private=memo is not None,
                        previous=previous, checked=checked) as writer:
            shared = shared_key(env, config, theme)
            if last is None:  # a one-shot build: what the last one kept beside its files' keys
                last = LastBuild.from_note(writer.last_note, writer.last_files)
            writer.note = day_note(shared, site)
            unchanged = unchanged_pages(last, writer.note, site)
            writer.keep(unchanged.papers)
            if memo is not None:
                contents = memo.feed_contents[1] if memo.feed_contents[0] == shared else {}
            else:
                contents = cache_mod.load_feed_contents(config.cache_dir, shared) if use_cache else {}
            stored = set(contents)  # what the disk (or the memo) holds already
            outputs = site_files(env, config, site, shared, papers=unchanged.redo, day_keys=unchanged.days,
                                 contents=contents)
            write_outputs(writer, config, outputs, contents, site.digests, first=save_cache)
            if config.search and site.papers:  # index the finished new site before it is moved into place
                papers_changed = writer.changed_under("papers/")
                if memo is not None:  # the preview keeps its index and has it made again after the reload
                    memo.search_index = writer.keep_tree(BUNDLE_DIR, memo.search_index)
                    search_stale = memo.search_index is None or papers_changed
                elif papers_changed or not writer.keep_tree(BUNDLE_DIR):
                    stage_search_index(config, writer)
    except BuildError as exc:  # a template error in a build worker
        raise BuildError(problems + exc.problems) from None
    except SearchError as exc:
        raise BuildError(problems + [Problem(config.config_path.name, 1, str(exc))]) from None
    except jinja2.TemplateError as exc:
        raise BuildError(problems + [template_problem(exc, config)]) from None
    except OutputError as exc:
        raise BuildError(problems + [Problem(str(output_dir), 1, str(exc))]) from None

    in_feeds = feed_keys(config, site)
    contents = {key: content for key, content in contents.items() if key in in_feeds}
    if memo is not None:
        memo.last = LastBuild(shared, writer.note[1], writer.produced, site, paper_pages(writer.produced, unchanged))
        memo.feed_contents = (shared, contents)
    elif use_cache and contents.keys() != stored:
        cache_mod.save_feed_contents(config.cache_dir, shared, contents)
    warnings = [p for p in problems if p.level != "error"]
    if signature:
        save_fresh_record(config, output_dir, BuildRecord(signature, len(site.digests), site.paper_count,
                                                          tuple(writer.produced), tuple(warnings)))
    return BuildReport(
        digests=len(site.digests),
        papers=site.paper_count,
        files=writer.written + writer.unchanged,
        written=writer.written,
        unchanged=writer.unchanged,
        seconds=time.perf_counter() - scan.started,
        warnings=warnings,
        site=site if memo is None else None,  # the preview's rebuilds free theirs here, as before the reload
        search_stale=search_stale,
    )


# A record this big lists some 10,000 files or more, whose check (30 ms for the full site of
# 1,000 digests, a 1.3 MB record) is worth a fork; the plain site's (1,128 files, 0.3 MB) is not.
CHECK_AHEAD_BYTES = 1 << 19


def _record_bytes(output_dir: Path, cache_dir: Path) -> int:
    """Return the size of the last build's record of output_dir (0 if there is none or no output)."""
    try:
        return record_path(output_dir, cache_dir).stat().st_size if output_dir.is_dir() else 0
    except OSError:
        return 0


def theme_env(config: Config, site: Site, memo: BuildMemo | None, theme: str) -> jinja2.Environment:
    """Return the theme's Jinja environment, reusing memo's (and its compiled templates) if the theme is the same."""
    key = make_key(theme, repr(config))
    if memo is not None and memo.env is not None and memo.env_key == key:
        set_site_globals(memo.env, config, site)
        return memo.env
    env = make_env(config, site)
    if memo is not None:
        memo.env, memo.env_key = env, key
    return env


def load_digests(config: Config, sources: list[Source], stamps: list[tuple | None], use_cache: bool = True,
                 memo: BuildMemo | None = None) -> tuple[list[Digest], list[Problem], Callable[[], None]]:
    """Return the digests of sources (stamps: cache.file_stamp of each), all problems found reading
    them, and a function that saves what was parsed to the parse cache (calling it again writes nothing)."""
    problems: list[Problem] = []
    if not use_cache:
        cache = cache_mod.ParseCache.disabled()
    elif memo is not None and memo.parse_cache is not None and memo.parse_cache.key == cache_mod.ParseCache.key_for(config.timezone):
        cache = memo.parse_cache
    else:
        cache = cache_mod.ParseCache.open(config.cache_dir, config.timezone)
    parsed: dict[str, tuple[Digest | None, list[Problem]]] = {}
    misses: list[tuple[Source, tuple | None]] = []
    for source, stamp in zip(sources, stamps):
        hit = cache.get_unread(source.rel, stamp)
        if hit is None:
            misses.append((source, stamp))
        else:
            parsed[source.rel] = hit
    results = fork_map(partial(read_sources, cache, config.timezone), [source for source, _ in misses])
    for (source, stamp), (sha, digest, found) in zip(misses, results):
        if sha is not None:
            cache.put(source.rel, sha, digest, found, stamp)
        parsed[source.rel] = (digest, found)
    keep_in_memory = memo is not None and memo.parse_cache is not None  # the preview saves only its first build's
    save = (lambda: None) if keep_in_memory else cache.save
    if memo is not None and use_cache:
        memo.parse_cache = cache.carried()
    digests = []
    for source in sources:
        digest, found = parsed[source.rel]
        problems += found
        if digest is not None:
            digests.append(digest)
    return digests, problems, save


def read_sources(cache: cache_mod.ParseCache, timezone: str,
                 share: list[Source]) -> list[tuple[str | None, Digest | None, list[Problem]]]:
    """Return (content hash, digest, problems) for each source of share, parsing only bytes the cache does not know.

    A digest parsed here holds its papers pickled, as the parse cache does: a build worker
    sends them so anyway, the cache stores those bytes as they are, and the render workers
    unpickle only the days they render (see site_files).
    """
    results = []
    for source in share:
        data, found = read_source(source)
        if data is None:
            results.append((None, None, found))
            continue
        sha = hashlib.sha256(data).hexdigest()
        known = cache.lookup(source.rel, sha)
        if known is None:
            digest, problems = parse_source(data, sha, source, timezone)
            known = (digest and digest_from_parts(*digest_parts(digest)), problems)
        results.append((sha, *known))
    return results


def parse_source(data: bytes, sha: str, source: Source, timezone: str) -> tuple[Digest | None, list[Problem]]:
    """Return the digest in a source's bytes (whose sha256 is sha) and its problems."""
    text, found = decode_source(data, source.shown)
    digest = None
    if text is not None:
        digest, more = parse_digest(text, source.shown, timezone)
        found += more
    if digest is not None:
        digest = replace(digest, digest_hash=sha[:24], card_hash=card_hash(digest))
    return digest, found


def shared_key(env: jinja2.Environment, config: Config, theme_fp: str) -> str:
    """Return the part of every page's key that all pages share: the generator's code, the theme, the config, the site."""
    return make_key(code_fingerprint(), theme_fp, repr(config), repr(env.globals["site"]))


def site_files(env: jinja2.Environment, config: Config, site: Site, theme: str,
               papers: Collection[str] | None = None, day_keys: dict[str, str] | None = None,
               contents: dict[tuple[str, str], str] | None = None) -> Iterator[tuple]:
    """Yield every file of the site, costliest first: (path, content), or (path, key, render) to render in parallel.

    A key hashes everything its page is made from, so an unchanged key means unchanged bytes.
    List pages show digests as cards, so their keys hash cards (model.card_hash): editing a
    summary re-renders its day, its paper pages and the feeds, not the archive. theme is
    shared_key(); papers, if given, are the ids of the only papers whose pages are yielded
    (the writer keeps the others); day pages in day_keys take the key given there; contents
    holds feed contents already rendered with env.
    """
    day_keys = day_keys or {}
    cards = make_key(theme, *(d.card_hash for d in site.digests))  # list pages show only cards
    pages = index_pages(site, config.paginate)
    for number in range(1, len(pages) + 1):
        key = make_key(theme, number, len(pages), *(d.card_hash for d in pages[number - 1]))
        yield index_path(number) + "index.html", key, partial(render_index_page, env, pages, number)
    archive = make_key(theme, *((d.path, d.title, d.lang, len(d.paper_ids)) for d in site.digests))
    yield "archive/index.html", archive, partial(render_archive, env, site)  # a line a day, no papers
    yield "tags/index.html", cards, partial(render_tags_index, env, site)
    for tag in site.tags:
        yield tag.path + "index.html", make_key(theme, tag.name, *(d.card_hash for d in tag.digests)), \
            partial(render_tag_page, env, tag)
    yield "top/index.html", cards, partial(render_top, env, site)
    if env.globals["site"].search:  # on, and there are papers to find
        yield "search/index.html", theme, partial(render_search_page, env)
    yield "404.html", theme, partial(render_not_found, env)
    contents = {} if contents is None else contents
    yield from feed_files(env, config, site.digests[: config.feed_limit], theme, contents)
    for tag in site.tags:
        yield from tag_feed_files(env, config, tag, theme, contents)
    yield "sitemap.xml", sitemap_key(theme, site, len(pages), config.paper_pages), partial(sitemap, config, site, pages)
    yield "robots.txt", render_robots(config)
    yield ".nojekyll", b""
    if config.cname:
        yield "CNAME", config.cname + "\n"
    for rel, path in static_files(config).items():
        yield rel, path.read_bytes()
    # the many small pages last: workers take pages in runs from a queue, and a costly page
    # (a feed of 20 days, a tag's page) in the last run kept one process busy alone, 40 ms.
    # Each day's page comes with the pages of the papers it is the newest day of, which show
    # its papers: a run needs the papers of a few days, unpickled by the worker that takes
    # it, and no day's papers end up in every worker.
    if not config.paper_pages:
        entries = []
    elif papers is None:
        entries = site.papers.values()
    else:
        entries = [site.papers[pid] for pid in sorted(papers) if pid in site.papers]
    newest_of: dict[str, list[PaperEntry]] = {}
    for entry in entries:
        newest_of.setdefault(entry.appearances[-1].digest.path, []).append(entry)
    for index, digest in enumerate(site.digests):
        key = day_keys.get(digest.path + "index.html") or make_key(
            theme, digest.digest_hash, *(d and (d.path, d.title) for d in site.neighbours(index)),
            *((pid, *(d.path for d in days)) for pid, days in also_on(site, digest).items()))
        yield digest.path + "index.html", key, partial(render_digest_page, env, site, index)
        for entry in newest_of.get(digest.path, ()):
            yield entry.path + "index.html", paper_page_key(theme, entry), partial(render_paper_page, env, entry)


def sitemap(config: Config, site: Site, pages: list[tuple[Digest, ...]]) -> str:
    """Return the sitemap of the site whose home pages are pages: each day's page dated by its day, others by the newest."""
    lastmod = {d.path: d.published.date().isoformat() for d in site.digests}
    newest = site.digests[0].published.date().isoformat() if site.digests else None
    return render_sitemap(config, [(p, lastmod.get(p, newest)) for p in iter_paths(site, pages, config.paper_pages)])


def sitemap_key(theme: str, site: Site, home_pages: int, paper_pages: bool) -> str:
    """Return the key of the sitemap: the pages it lists and the days' dates, none of what the pages show.

    A new title or vote changes the cards, not the sitemap, which at 1,000 digests (15,000
    paper pages) took 25 ms to render again. Unambiguous as paper_page_key: no path holds a space.
    """
    text = " ".join([theme, str(home_pages), *(d.path + d.published.date().isoformat() for d in site.digests),
                     *(site.papers if paper_pages else ()), *(tag.path for tag in site.tags)])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def paper_page_key(theme: str, entry: PaperEntry) -> str:
    """Return the key of a paper's page: the theme, and the hash and path of each digest it appeared in.

    make_key's job, done in half its time: a build computes 15,000 of these at 1,000 digests.
    Unambiguous: the theme and the hashes are hex, ids and paths hold no space.
    """
    text = " ".join([theme, entry.id, *(a.digest.digest_hash + a.digest.path for a in entry.appearances)])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def write_outputs(writer: SiteWriter, config: Config, outputs: Iterator[tuple], contents: dict,
                  digests: list[Digest], first: Callable[[], None] | None = None) -> None:
    """Write every output; keyed pages are rendered (in parallel) only when their key changed.

    contents is the dict of feed contents the outputs' feeds render into (see feeds.feed_items):
    what the workers add to their copies of it comes back into it. digests are the site's,
    whose papers a worker unpickles as its pages need them and lets go after each run. first
    runs in this process while the workers start rendering (the parse cache is saved so).
    """
    pending = []
    for output in outputs:
        if len(output) == 2:
            writer.write(*output)
        elif not writer.is_current(output[0], output[1]):
            writer.claim(output[0])
            pending.append(output)
    rendered = fork_map(partial(render_share, writer, config, contents, digests), pending, first=first)
    for (rel, key, _), (staged, added) in zip(pending, rendered):
        writer.record(rel, key, staged)
        if added:
            contents.update(added)


def render_share(writer: SiteWriter, config: Config, contents: dict, digests: list[Digest],
                 outputs: list[tuple]) -> list[tuple[bool, dict | None]]:
    """Render and stage each (path, key, render) output; return whether each was staged, and
    the feed contents its render added to contents (None if none). The papers of digests
    it unpickled are dropped again."""
    results = []
    try:
        for rel, _, make in outputs:
            before = len(contents)
            staged = writer.stage(rel, make())
            added = dict(itertools.islice(contents.items(), before, None)) if len(contents) > before else None
            results.append((staged, added))
    except jinja2.TemplateError as exc:
        raise BuildError([template_problem(exc, config)]) from None
    finally:
        release_papers(digests)
    return results


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
