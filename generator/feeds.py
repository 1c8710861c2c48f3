"""Make the site's feeds: RSS 2.0 and Atom 1.0 (feedgen) and JSON Feed 1.1.

Every date comes from the digests themselves, never from the clock, so the same content
gives the same bytes and feed readers never see an item twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote

import jinja2

from .cache import make_key
from .config import Config
from .markup import XML_ILLEGAL, rebase_links
from .model import Digest, Site, Tag
from .render import digest_description, render_feed_content

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class FeedItem:
    """One digest as a feed entry: its permalink, its full HTML (links absolute) and a short summary."""

    digest: Digest
    url: str
    content_html: str
    summary: str


@dataclass(frozen=True)
class FeedInfo:
    """What a feed is: its title, the page it describes, and where it lives."""

    title: str
    description: str
    home_url: str
    rss_url: str
    atom_url: str
    json_url: str | None = None


def _xml_text(text: str) -> str:
    return XML_ILLEGAL.sub("", text)


def _generator(config: Config, info: FeedInfo, items: list[FeedItem], self_url: str) -> FeedGenerator:
    """Return a feedgen FeedGenerator holding items, whose self link is self_url."""
    from feedgen.feed import FeedGenerator  # imported when a feed is made: a no-change build never needs it

    fg = FeedGenerator()
    fg.id(info.home_url)
    fg.title(_xml_text(info.title))
    fg.subtitle(_xml_text(info.description or info.title))
    fg.link(href=self_url, rel="self")
    fg.link(href=info.home_url, rel="alternate")  # last: feedgen makes the last link RSS's channel <link>
    fg.language(config.language)
    fg.generator("paper-digest")
    fg.author({"name": _xml_text(config.author or config.title)})  # Atom requires an author of the feed
    newest = max((item.digest.published for item in items), default=_EPOCH)
    fg.updated(newest)
    fg.lastBuildDate(newest)
    for item in items:
        entry = fg.add_entry(order="append")
        entry.id(item.url)
        entry.guid(item.url, permalink=True)
        entry.title(_xml_text(item.digest.title))
        entry.link(href=item.url, rel="alternate")
        entry.published(item.digest.published)
        entry.updated(item.digest.published)
        entry.description(_xml_text(html.escape(item.summary, quote=False)))  # RSS readers render it as HTML
        entry.content(item.content_html, type="html")  # made XML-safe once, in feed_items
        for tag in item.digest.tags:
            entry.category(term=_xml_text(tag))
    return fg


def render_rss(config: Config, info: FeedInfo, items: list[FeedItem]) -> bytes:
    """Return the RSS 2.0 feed of items, newest first."""
    return _generator(config, info, items, info.rss_url).rss_str(pretty=True)


def render_atom(config: Config, info: FeedInfo, items: list[FeedItem]) -> bytes:
    """Return the Atom 1.0 feed of items, newest first; an entry in another language than the site's says so."""
    data = _generator(config, info, items, info.atom_url).atom_str(pretty=True)
    if all(not item.digest.lang or item.digest.lang == config.language for item in items):
        return data
    from lxml import etree  # feedgen's own XML library; feedgen has no per-entry language

    root = etree.fromstring(data, etree.XMLParser(remove_blank_text=True))
    for entry, item in zip(root.iterfind("{http://www.w3.org/2005/Atom}entry"), items):
        if item.digest.lang and item.digest.lang != config.language:
            entry.set("{http://www.w3.org/XML/1998/namespace}lang", item.digest.lang)
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def render_json_feed(config: Config, info: FeedInfo, items: list[FeedItem]) -> bytes:
    """Return the JSON Feed 1.1 of items, newest first."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": info.home_url,
        "feed_url": info.json_url,
        "description": info.description,
        "language": config.language,
        "items": [
            {
                "id": item.url,
                "url": item.url,
                "title": item.digest.title,
                "content_html": item.content_html,
                "summary": item.summary,
                "date_published": item.digest.published.isoformat(),
                **({"tags": list(item.digest.tags)} if item.digest.tags else {}),
                **({"language": item.digest.lang} if item.digest.lang else {}),
            }
            for item in items
        ],
    }
    if config.author:
        feed["authors"] = [{"name": config.author}]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def feed_files(env: jinja2.Environment, config: Config, digests: tuple[Digest, ...], theme: str,
               contents: dict[tuple[str, str], str]) -> Iterator[tuple]:
    """Yield the site's RSS, Atom and JSON feeds of the given digests, as keyed outputs."""
    base = config.base_url
    info = FeedInfo(title=config.title, description=config.description, home_url=base,
                    rss_url=base + "feed.xml", atom_url=base + "atom.xml", json_url=base + "feed.json")
    items = functools.cache(functools.partial(feed_items, env, config, digests, contents))
    key = make_key(theme, *(d.digest_hash for d in digests))
    yield "feed.xml", key, lambda: render_rss(config, info, items())
    yield "atom.xml", key, lambda: render_atom(config, info, items())
    yield "feed.json", key, lambda: render_json_feed(config, info, items())


def tag_feed_files(env: jinja2.Environment, config: Config, tag: Tag, theme: str,
                   contents: dict[tuple[str, str], str]) -> Iterator[tuple]:
    """Yield the RSS and Atom feeds of one tag's newest digests, as keyed outputs."""
    home = config.base_url + quote(tag.path, safe="/")
    info = FeedInfo(title=f"{config.title} · {tag.name}", description=config.description or config.title,
                    home_url=home, rss_url=home + "feed.xml", atom_url=home + "atom.xml")
    digests = tag.digests[: config.feed_limit]
    items = functools.cache(functools.partial(feed_items, env, config, digests, contents))
    key = make_key(theme, tag.name, *(d.digest_hash for d in digests))
    yield tag.path + "feed.xml", key, lambda: render_rss(config, info, items())
    yield tag.path + "atom.xml", key, lambda: render_atom(config, info, items())


def feed_keys(config: Config, site: Site) -> set[tuple[str, str]]:
    """Return the (path, digest hash) of every digest some feed of the site holds: whose contents are worth keeping."""
    digests = [*site.digests[: config.feed_limit], *(d for tag in site.tags for d in tag.digests[: config.feed_limit])]
    return {(digest.path, digest.digest_hash) for digest in digests}


def feed_items(env: jinja2.Environment, config: Config, digests: tuple[Digest, ...],
               contents: dict[tuple[str, str], str]) -> list[FeedItem]:
    """Return the feed entries of digests, rendering each digest's content only if contents lacks it.

    contents maps (path, digest_hash) to content, for one theme and config: a build's
    process renders each digest once, and the preview keeps them between builds. Content
    holds no character XML forbids (a theme could write one), so no feed cleans it again.
    """
    items = []
    for digest in digests:
        url = config.base_url + digest.path
        key = (digest.path, digest.digest_hash)
        if key not in contents:
            contents[key] = _xml_text(rebase_links(render_feed_content(env, digest), url))
        items.append(FeedItem(digest, url, contents[key], digest_description(digest)))
    return items
