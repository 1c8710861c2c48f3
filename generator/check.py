"""Check a built site: every internal link and anchor resolves, and the feeds are sound.

`find_broken_links` and `find_feed_problems` work on any built output dir, so tests can
follow every link of a site built under any base path.
"""

from __future__ import annotations

import json
import posixpath
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .config import Config
from .problems import Problem

# attributes that hold a URL, by tag ("*": any tag)
_URL_ATTRS = {
    "a": ("href",), "area": ("href",), "link": ("href",), "img": ("src", "srcset"),
    "script": ("src",), "iframe": ("src",), "source": ("src", "srcset"), "video": ("src", "poster"),
    "audio": ("src",), "track": ("src",), "embed": ("src",), "form": ("action",), "object": ("data",),
}
_SKIPPED_SCHEMES = ("mailto", "tel", "data", "javascript", "about", "blob")
_ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass(frozen=True)
class Link:
    """One URL in an HTML file, where it was found."""

    url: str
    line: int
    tag: str
    attr: str


@dataclass
class PageScan:
    """What an HTML file links to and which fragment ids it defines."""

    links: list[Link] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        wanted = _URL_ATTRS.get(tag, ())
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.scan.ids.add(value)
            elif name in wanted:
                urls = [part.strip().split()[0] for part in value.split(",") if part.strip()] if name == "srcset" else [value]
                self.scan.links.extend(Link(url.strip(), line, tag, name) for url in urls)

    handle_startendtag = handle_starttag


def scan_html(text: str) -> PageScan:
    """Return the links and ids of an HTML document."""
    scanner = _Scanner()
    scanner.feed(text)
    scanner.close()
    return scanner.scan


class SiteIndex:
    """The files of a built site, with each HTML page's ids scanned once."""

    def __init__(self, output_dir: Path):
        self.root = Path(output_dir)
        self._scans: dict[str, PageScan] = {}

    def scan(self, rel: str) -> PageScan:
        """Return the scan of the HTML file at rel (relative to the output dir)."""
        if rel not in self._scans:
            text = (self.root / rel).read_text(encoding="utf-8", errors="replace")
            self._scans[rel] = scan_html(text)
        return self._scans[rel]

    def resolve(self, rel: str) -> str | None:
        """Return the file a site path serves (dir -> index.html, name -> name.html), or None."""
        rel = rel.lstrip("/")
        candidates = [rel + "index.html"] if rel == "" or rel.endswith("/") else [rel, rel + "/index.html", rel + ".html"]
        for candidate in candidates:
            path = self.root / candidate
            if path.is_file():
                return candidate
        return None


def html_files(output_dir: Path) -> list[str]:
    """Return the HTML files of a built site, relative to it, sorted."""
    return sorted(p.relative_to(output_dir).as_posix() for p in Path(output_dir).rglob("*.html") if p.is_file())


def find_broken_links(output_dir: Path, base_path: str = "/", base_url: str | None = None) -> list[Problem]:
    """Return a Problem for every internal href/src or #fragment of the site's HTML that resolves to nothing.

    base_path is the path the site is served under ("/" or "/repo/"); with base_url, absolute
    links into the site (canonical, og:url) are followed too.
    """
    index = SiteIndex(output_dir)
    base_path = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
    problems = []
    for rel in html_files(output_dir):
        for link in index.scan(rel).links:
            message = check_link(index, rel, link.url, base_path, base_url)
            if message:
                problems.append(Problem(rel, link.line, f"<{link.tag} {link.attr}=\"{link.url}\">: {message}"))
    return problems


def check_link(index: SiteIndex, page: str, url: str, base_path: str, base_url: str | None) -> str | None:
    """Return why url, found on page, is a broken internal link, or None if it is fine or external."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a valid URL"
    if parts.scheme in _SKIPPED_SCHEMES:
        return None
    if parts.scheme or parts.netloc:
        if not base_url or not url.startswith(base_url):
            return None  # external
        path = urlsplit(base_url).path.rstrip("/") + "/" + url[len(base_url):]
        parts = urlsplit(path)
    page_dir = base_path + posixpath.dirname(page)
    target = parts.path
    if target == "":
        target_rel = page
    else:
        absolute = target if target.startswith("/") else posixpath.join(page_dir, target)
        trailing = absolute.endswith("/") or target in (".", "..") or target.endswith(("/.", "/.."))
        absolute = posixpath.normpath(unquote(absolute)) + ("/" if trailing else "")
        absolute = absolute.replace("//", "/")
        if not (absolute + ("" if absolute.endswith("/") else "/")).startswith(base_path):
            return f"points outside the site's base path {base_path}"
        found = index.resolve(absolute[len(base_path):])
        if found is None:
            return f"no such file in the site: {absolute}"
        target_rel = found
    fragment = unquote(parts.fragment)
    if fragment and fragment != "top":
        if not target_rel.endswith(".html"):
            return None
        if fragment not in index.scan(target_rel).ids:
            return f"no element with id \"{fragment}\" in {target_rel}"
    return None


def find_feed_problems(output_dir: Path, base_url: str) -> list[Problem]:
    """Return the problems of the site's RSS, Atom and JSON feeds and sitemap: syntax, and links not under base_url or not in the site."""
    output_dir = Path(output_dir)
    index = SiteIndex(output_dir)
    problems: list[Problem] = []
    checks = {"feed.xml": _rss_links, "atom.xml": _atom_links, "sitemap.xml": _sitemap_links}
    for name, links_of in checks.items():
        path = output_dir / name
        if not path.is_file():
            problems.append(Problem(name, 1, "missing"))
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            root = ET.fromstring(path.read_bytes())
        except ET.ParseError as exc:
            problems.append(Problem(name, exc.position[0], f"not well-formed XML: {exc}"))
            continue
        for what, url, content in links_of(root):
            problems += _feed_link_problems(index, name, text, what, url, content, base_url)
    path = output_dir / "feed.json"
    if not path.is_file():
        return problems + [Problem("feed.json", 1, "missing")]
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return problems + [Problem("feed.json", getattr(exc, "lineno", 1), f"not valid JSON: {exc}")]
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/1"):
        return problems + [Problem("feed.json", 1, "not a JSON Feed (no version https://jsonfeed.org/version/1.x)")]
    links = [("home_page_url", data.get("home_page_url"), None), ("feed_url", data.get("feed_url"), None)]
    for item in data.get("items", []) if isinstance(data.get("items"), list) else []:
        if isinstance(item, dict):
            links.append(("item url", item.get("url"), item.get("content_html")))
    for what, url, content in links:
        problems += _feed_link_problems(index, "feed.json", text, what, url, content, base_url)
    return problems


def _rss_links(root: ET.Element):
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        yield "RSS root", None, None
        return
    yield "channel link", channel.findtext("link"), None
    for item in channel.iter("item"):
        content = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
        yield "item link", item.findtext("link"), content if content is not None else item.findtext("description")


def _atom_links(root: ET.Element):
    if root.tag != _ATOM + "feed":
        yield "Atom root", None, None
        return
    for entry in root.iter(_ATOM + "entry"):
        links = [l.get("href") for l in entry.findall(_ATOM + "link") if l.get("rel", "alternate") == "alternate"]
        yield "entry link", links[0] if links else None, entry.findtext(_ATOM + "content")


def _sitemap_links(root: ET.Element):
    for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc"):
        yield "sitemap loc", loc.text, None


def _feed_link_problems(index: SiteIndex, name: str, text: str, what: str, url: str | None,
                        content: str | None, base_url: str) -> list[Problem]:
    if not url or not isinstance(url, str):
        return [Problem(name, 1, f"{what}: missing")]
    line = _line_of(text, url)
    if not url.startswith(base_url):
        return [Problem(name, line, f"{what} {url!r} is not an absolute URL under {base_url}")]
    problems = []
    if index.resolve(urlsplit(url[len(base_url):]).path) is None:
        problems.append(Problem(name, line, f"{what} {url!r}: no such page in the site"))
    if isinstance(content, str):
        base_path = urlsplit(base_url).path or "/"
        for link in scan_html(content).links:
            try:
                parts = urlsplit(link.url)
            except ValueError:
                problems.append(Problem(name, line, f"{what} {url!r}: content has an invalid URL {link.url!r}"))
                continue
            if parts.scheme in _SKIPPED_SCHEMES:
                continue
            if not (parts.scheme and parts.netloc):
                problems.append(Problem(name, line, f"{what} {url!r}: content has a relative link "
                                                    f"{link.url!r}; feed readers need absolute URLs"))
                continue
            message = check_link(index, "", link.url, base_path, base_url)
            if message:
                problems.append(Problem(name, line, f"{what} {url!r}: content link {link.url!r}: {message}"))
    return problems


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def check_output(output_dir: Path, config: Config) -> list[Problem]:
    """Return every broken link, anchor and feed problem of a site built into output_dir."""
    return find_broken_links(output_dir, config.base_path, config.base_url) + find_feed_problems(output_dir, config.base_url)


def check_site(config: Config, drafts: bool = False) -> tuple[list[Problem], str]:
    """Build the site into a temporary dir; return its problems and a one-line summary."""
    from .build import build

    with tempfile.TemporaryDirectory(prefix="digest-check-") as tmp:
        output_dir = Path(tmp) / "site"
        report = build(config, output_dir=output_dir, drafts=drafts)
        found = check_output(output_dir, config)
        pages = len(html_files(output_dir))
    errors = sum(1 for p in found if p.level == "error")
    summary = (f"checked {pages} pages and the feeds: "
               + (f"{errors} broken link{'s' if errors != 1 else ''} or feed problem{'s' if errors != 1 else ''}"
                  if errors else "no broken links"))
    return report.warnings + found, summary
