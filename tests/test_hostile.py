"""The hostile-input catalogue (../shared/hostile-inputs.md), case by case, as whole builds.

Each case is a site's hostile files and the outcome the catalogue (or, where they differ, the
digest-format contract) expects: the exact `PATH:LINE: level: message` of an error, or a
build whose named pages and feeds hold (or lack) given text. Every case first builds a good
site, then adds its hostile files and builds again, so every error case also proves the last
good output untouched, and every successful case is checked for what must hold of any build:
no event handler, script or dangerous URL in any page or feed, both feeds strict XML that
feedparser reads without complaint, and nothing written outside the output dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
from lxml import etree

from conftest import DEFAULT_SITE_TOML, digest_text, write_site
from generator.build import build
from generator.config import load_config
from generator.problems import BuildError

DAY = "## Daily Papers (2024-03-15)\n\n"
GOOD = {"2024-03-10.md": digest_text("2024-03-10", [("2403.00010", "A good paper")])}
SAFE_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "background", "cite", "data", "xlink:href",
                  "srcset", "ping", "longdesc", "manifest", "codebase"}
FORBIDDEN_TAGS = {"script", "iframe", "frame", "object", "embed", "applet", "base", "form", "svg", "math", "style",
                  "template", "noscript", "link", "meta"}  # link/meta only outside <head>, see HtmlScan
RSS_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
ATOM = "{http://www.w3.org/2005/Atom}"


def paper(title: str, url: str = "https://arxiv.org/abs/2403.00001", body: str = "- a bullet\n") -> str:
    """Return one paper section in the reference shape."""
    return f"### [{title}]({url})\n\n{body}\n"


def day(*sections: str, front: str = "", date: str = "2024-03-15") -> str:
    """Return a digest for date made of the given sections, with optional front matter."""
    head = f"---\n{front}---\n" if front else ""
    return head + f"## Daily Papers ({date})\n\n" + "".join(sections)


# --- what must hold of every built site ----------------------------------------------------


def dangerous_url(value: str, tag: str = "") -> bool:
    """Return whether a URL, as a browser would read it, runs code or leaves http(s)."""
    decoded = re.sub(r"[\x00-\x20\x7f]+", "", unquote(value)).lower()
    match = re.match(r"([a-z][a-z0-9+.-]*):", decoded)
    if not match or match.group(1) in SAFE_SCHEMES:
        return False
    return not (tag == "img" and re.match(r"data:image/(png|gif|jpeg|webp)[;,]", decoded))


def meta_is_url(attrs: list[tuple[str, str | None]]) -> bool:
    """Return whether a <meta>'s content is a URL (og:url, og:image, twitter:image...), not text."""
    kind = dict(attrs).get("property") or dict(attrs).get("name") or ""
    return kind.endswith((":url", ":image", ":video", ":audio"))


class HtmlScan(HTMLParser):
    """Collect what a browser would act on in an HTML document or fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        if tag == "head":
            self.in_head = True
        if tag in FORBIDDEN_TAGS and not (self.in_head and tag in ("link", "meta")):
            self.bad.append(f"<{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.bad.append(f"event handler {name}={value!r} on <{tag}>")
            if name == "style":
                self.bad.append(f"style attribute on <{tag}>")
            if name in URL_ATTRIBUTES or (tag == "meta" and name == "content" and meta_is_url(attrs)):
                self.urls.append((tag, name, value))
                if dangerous_url(value, tag):
                    self.bad.append(f"dangerous URL {name}={value!r} on <{tag}>")
            if tag == "meta" and name == "http-equiv" and value.lower() == "refresh":
                self.bad.append("meta refresh")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def scan_html(text: str) -> HtmlScan:
    scan = HtmlScan()
    scan.feed(text)
    scan.close()
    return scan


def feed_fragments(path: Path) -> list[str]:
    """Return the HTML fragments a feed reader would render from an RSS or Atom feed (strict parse)."""
    root = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    fragments = []
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("description", RSS_CONTENT, ATOM + "content", ATOM + "summary"):
            if tag.startswith(ATOM):
                assert element.get("type", "text") in ("text", "html", "xhtml"), f"{path.name}: type={element.get('type')}"
            fragments.append(element.text or "")
    return fragments


def check_feed(path: Path, out: Path) -> None:
    """Assert a feed parses strictly and cleanly, and renders nothing that runs or is relative."""
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, f"{path.relative_to(out)}: {parsed.get('bozo_exception')!r}"
    for fragment in feed_fragments(path):
        scan = scan_html(fragment)
        assert not scan.bad, f"{path.relative_to(out)}: {scan.bad}"
        for tag, name, value in scan.urls:
            absolute = re.match(r"(https?|mailto):|#", value) or (tag == "img" and value.startswith("data:image/"))
            assert absolute, f"{path.relative_to(out)}: relative {name}={value!r}"


def check_site(out: Path) -> dict[str, bytes]:
    """Assert what must hold of any built site; return its files by relative path."""
    real = out.resolve()
    files = {}
    for path in sorted(out.rglob("*")):
        assert not path.is_symlink(), path
        assert path.resolve().is_relative_to(real), path
        if path.is_file():
            files[path.relative_to(out).as_posix()] = path.read_bytes()
    for rel, data in files.items():
        if rel.endswith(".html"):
            text = data.decode("utf-8")
            scan = scan_html(text)
            assert not scan.bad, f"{rel}: {scan.bad}"
        elif rel.endswith(("feed.xml", "atom.xml")):
            check_feed(out / rel, out)
        elif rel.endswith("feed.json"):
            feed = json.loads(data.decode("utf-8"))
            for entry in feed["items"]:
                scan = scan_html(entry["content_html"])
                assert not scan.bad, f"{rel}: {scan.bad}"
    for rel in ("index.html", "feed.xml", "atom.xml", "feed.json", "archive/index.html"):
        assert rel in files, rel
    return files


def tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def files_outside(root: Path, *inside: Path) -> set[str]:
    """Return every file under root that is not under one of inside (the build's own places)."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if (p.is_file() or p.is_symlink()) and not any(p.is_relative_to(i) for i in inside)}


# --- the cases ------------------------------------------------------------------------------


@dataclass
class Case:
    """One catalogue case: hostile files and the expected outcome of building them."""

    ref: str  # catalogue numbers
    files: dict[str, str | bytes]  # path under content/ -> text (or exact bytes)
    error: str | None = None  # the exact start of a reported error line
    warning: str | None = None  # the exact start of a reported warning line
    present: dict[str, list[str]] = field(default_factory=dict)  # output file -> text it holds
    absent: list[str] = field(default_factory=list)  # text no output file holds
    exists: list[str] = field(default_factory=list)  # output files that must exist
    seconds: float = 5.0  # the build's time bound


P = "2024/03/15/index.html"  # the hostile day's page
F = "feed.xml"
A = "atom.xml"
J = "feed.json"
X = "content/2024-03-15.md"  # how messages name the hostile file
JS = "alert(1)"

CASES: dict[str, Case] = {
    # A. Markdown body: XSS and raw HTML
    "script-in-bullet": Case("A1", {"2024-03-15.md": day(paper("T", body="- <script>alert(document.domain)</script>\n"))},
                             present={P: ["&lt;script&gt;alert(document.domain)&lt;/script&gt;"],
                                      A: ["&amp;lt;script&amp;gt;alert(document.domain)"]}),
    "script-in-intro": Case("A1", {"2024-03-15.md": day("<script>alert(1)</script>\n\n", paper("T"))},
                            present={P: ["&lt;script&gt;alert(1)&lt;/script&gt;"]}),
    "script-block-in-extra": Case("A1", {"2024-03-15.md": day(paper("T", body="Some text.\n\n<div>\n<script>alert(1)</script>\n</div>\n"))},
                                  present={P: ["&lt;script&gt;alert(1)&lt;/script&gt;"]}),
    "script-in-title": Case("A1", {"2024-03-15.md": day(paper("<script>alert(1)</script>"))},
                            present={P: ["&lt;script&gt;alert(1)&lt;/script&gt;"], F: ["<description>&amp;lt;script&amp;gt;alert(1)"],
                                     J: ['"summary": "<script>alert(1)</script>"']}),
    "img-onerror-bullet": Case("A2", {"2024-03-15.md": day(paper("T", body="- <img src=x onerror=alert(1)>\n"))},
                               present={P: ["&lt;img src=x onerror=alert(1)&gt;"]}),
    "img-onerror-title": Case("A2", {"2024-03-15.md": day(paper("<img src=x onerror=alert(1)>"))},
                              present={P: ["&lt;img src=x onerror=alert(1)&gt;"]}),
    "svg-onload-intro": Case("A2", {"2024-03-15.md": day("<svg/onload=alert(1)>\n\n", paper("T"))},
                             present={P: ["&lt;svg/onload=alert(1)&gt;"]}),
    "js-link-bullet": Case("A3", {"2024-03-15.md": day(paper("T", body="- see [paper](javascript:alert(1))\n"))},
                           present={P: ['<a rel="nofollow noopener">paper</a>']}),
    "js-link-heading": Case("A3", {"2024-03-15.md": day(paper("T", url="javascript:alert(1)"))},
                            warning=f"{X}:3: warning: paper link is not an http(s) URL and was dropped",
                            absent=["javascript:"]),
    **{f"js-link-{name}": Case("A4", {"2024-03-15.md": day(paper("T", body=f"- see [paper]({url}) and ![i]({url})\n"),
                                                           paper("U", url=url))},
                               present={P: ['<a rel="nofollow noopener">paper</a>']},
                               warning=f"{X}:7: warning: paper ")  # its link dropped, or no link at all
       for name, url in {"entity": "&#106;avascript:alert(1)", "hex-entity": "&#x6A;avascript:alert(1)",
                         "named-tab": "jav&Tab;ascript:alert(1)", "mixed-case": "JaVaScRiPt:alert(1)",
                         "percent-newline": "java%0ascript:alert(1)", "percent-j": "%6Aavascript:alert(1)",
                         "leading-space": " javascript:alert(1)", "tab-inside": "java\tscript:alert(1)",
                         "entity-colon": "javascript&colon;alert(1)", "vbscript": "vbscript:msgbox(1)",
                         "file": "file:///etc/passwd", "data-html": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}.items()},
    "data-svg-image": Case("A5", {"2024-03-15.md": day(paper("T", body="![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)\n\n- b\n"))},
                           warning=f"{X}:5: warning: thumbnail is not an http(s) image URL and was dropped",
                           absent=["data:image/svg"]),
    "data-png-thumbnail-kept": Case("A5", {"2024-03-15.md": day(paper("T", body="![x](data:image/png;base64,iVBORw0KGgo=)\n\n- b\n"))},
                                    present={P: ['src="data:image/png;base64,iVBORw0KGgo="']}),
    "https-video-and-thumbnail-kept": Case("A", {"2024-03-15.md": day(
        paper("T", body="[Watch Video](https://cdn.example.org/v.mp4)\n"
                        '<div><video controls src="https://cdn.example.org/v.mp4" muted="false"></video></div>\n\n- b\n'),
        paper("U", url="https://arxiv.org/abs/2403.00002", body="![](https://cdn.example.org/u.png)\n\n- b\n"))},
        present={P: ['<video class="media" controls preload="none" src="https://cdn.example.org/v.mp4">',
                     'src="https://cdn.example.org/u.png"']}),
    "video-js-src": Case("A", {"2024-03-15.md": day(paper("T", body='<div><video controls src="javascript:alert(1)"></video></div>\n\n- b\n'))},
                         absent=["<video"]),
    "autolink-js": Case("A7", {"2024-03-15.md": day(paper("T", body="- <javascript:alert(1)>\n"))},
                        present={P: ["&lt;javascript:alert(1)&gt;"]}),
    "autolink-https": Case("A7", {"2024-03-15.md": day(paper("T", body="- <https://ok.example/x>\n"))},
                           present={P: ["https://ok.example/x"]}),
    "attr-list-onclick": Case("A8", {"2024-03-15.md": day(paper("T", body='- [x](https://ok.example){: onclick="alert(1)" }\n'))},
                              present={P: ['<a href="https://ok.example" rel="nofollow noopener">x</a>{: onclick="alert(1)" }']}),
    "attr-list-style": Case("A9", {"2024-03-15.md": day(paper("T", body='Para\n{: style="position:fixed;top:0;left:0;width:100%;height:100%" }\n'))},
                            present={P: ['{: style="position:fixed']}),
    "quote-breakout-alt": Case("A10", {"2024-03-15.md": day(paper("T", body='Look: ![a" onerror="alert(1)](https://e.org/x.png)\n'))},
                               present={P: ['alt="a&quot; onerror=&quot;alert(1)"']}),
    "quote-breakout-title": Case("A10", {"2024-03-15.md": day(paper("T", body='- [a](http://x.example "t\\" onload=\\"x")\n'))},
                                 present={P: ['title="t\\&quot; onload=\\&quot;x"']}),
    "template-syntax-everywhere": Case("A11", {"2024-03-15.md": day(
        "{{ 7*7 }} in the intro\n\n",
        paper("{{ 7*7 }} {% raw %}", body="Authors: {{ config }}, {% if 1 %}x{% endif %}\n\n"
                                           "- {{ cycler.__init__.__globals__.os.popen('id').read() }}\n"),
        front="title: \"{{ 7*7 }} day\"\ndescription: \"{{ self }}\"\ntags: [\"{{ 7*7 }}\"]\n")},
        present={P: ["{{ 7*7 }} in the intro", "{{ 7*7 }} {% raw %}", "{{ config }}",
                     "os.popen('id').read() }}", "{{ 7*7 }} day"],
                 F: ["{{ 7*7 }} day"], J: ["{{ self }}"]},
        absent=["49 day", "uid="]),
    "comment-dash-space": Case("A12", {"2024-03-15.md": day(paper("T", body="<!-- a -- >" + "x" * 20_000 + "\n\n<![\n\n- b\n"))},
                               present={P: ["&lt;!-- a -- &gt;x", "&lt;![</p>"]}, seconds=2),
    "cdata-open-in-bullet": Case("A12", {"2024-03-15.md": day(paper("T", body="- <![CDATA[ x ]]> and <!-- y\n"))},
                                 present={P: ["&lt;![CDATA[ x ]]&gt; and &lt;!-- y"]}, seconds=2),
    # B. Front matter
    "unterminated-front-matter": Case("B1", {"2024-03-15.md": "---\ntitle: x\nno closing delimiter\n" + DAY + paper("T")},
                                      error=f"{X}:1: error: unterminated front matter (no closing '---')"),
    "bad-indent-after-blank-lines": Case("B2", {"2024-03-15.md": "\n\n---\ntitle: a\n  bad: indent\n---\n" + DAY + paper("T")},
                                         error=f"{X}:5: error: invalid front matter: mapping values are not allowed here"),
    "python-object-apply": Case("B3", {"2024-03-15.md": "---\nx: !!python/object/apply:os.system ['touch {PWNED}']\n---\n" + DAY + paper("T")},
                                error=f"{X}:2: error: invalid front matter: could not determine a constructor"),
    "front-matter-list": Case("B4", {"2024-03-15.md": "---\n- a\n- b\n---\n" + DAY + paper("T")},
                              error=f"{X}:2: error: front matter must be a mapping of keys to values"),
    "json-looking-body": Case("B5", {"2024-03-15.md": '{\n"title": "json"\n}\n\n' + DAY + paper("T")},
                              present={P: ["<h1 dir=\"auto\">Daily Papers (2024-03-15)</h1>", "\"title\": \"json\""]},
                              absent=["<title>json"]),
    "rule-first-body": Case("B6", {"2024-03-15.md": "---\n\nHello\n\n---\n\nWorld\n" + DAY + paper("T")},
                            error=f"{X}:2: error: front matter must be a mapping of keys to values"),
    "bom-front-matter": Case("B7", {"2024-03-15.md": b"\xef\xbb\xbf---\ntitle: bom title\n---\n" + (DAY + paper("T")).encode()},
                             present={P: ['<h1 dir="auto">bom title</h1>']}),
    "duplicate-key": Case("B8", {"2024-03-15.md": "---\ntitle: a\ntitle: b\n---\n" + DAY + paper("T")},
                          error=f"{X}:3: error: invalid front matter: duplicate key 'title'"),
    "yaml-bool-title": Case("B9", {"2024-03-15.md": "---\ntitle: yes\n---\n" + DAY + paper("T")},
                            error=f"{X}:2: error: 'title' must be text, got true/false (quote it)"),
    "yaml-sexagesimal-title": Case("B9", {"2024-03-15.md": "---\nlang: ko\ntitle: 10:00\n---\n" + DAY + paper("T")},
                                   error=f"{X}:3: error: 'title' must be text, got a number (quote it)"),
    "yaml-float-description": Case("B9", {"2024-03-15.md": "---\ndescription: 1.10\n---\n" + DAY + paper("T")},
                                   error=f"{X}:2: error: 'description' must be text, got a number (quote it)"),
    "yaml-draft-string": Case("B9", {"2024-03-15.md": "---\ndraft: \"no\"\n---\n" + DAY + paper("T")},
                              error=f"{X}:2: error: 'draft' must be true or false, got str"),
    "date-not-a-date": Case("B10 F4", {"2024-03-15.md": "---\ndate: \"Jan 5\"\n---\n" + DAY + paper("T")},
                            error=f"{X}:2: error: 'date' must be a date such as 2024-03-15, got 'Jan 5'"),
    "date-naive-datetime-in-site-tz": Case("B10 F5", {"2024-01-05.md": "---\ndate: 2024-01-05T23:30:00\n---\n## Daily Papers\n\n" + paper("T")},
                                           present={"2024/01/05/index.html": ["Daily Papers"],
                                                    F: ["<pubDate>Fri, 05 Jan 2024 23:30:00 +0900</pubDate>"],
                                                    A: ["<published>2024-01-05T23:30:00+09:00</published>"]}),
    "billion-laughs": Case("B11", {"2024-03-15.md": "---\n" + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
                                   + "".join(f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
                                   + "---\n" + DAY + paper("T")},
                           error=f"{X}:3: error: invalid front matter: aliases are not allowed", seconds=2),
    "unclosed-quote": Case("B12", {"2024-03-15.md": '---\nlang: ko\ntitle: "x\ndescription: y\n---\n' + DAY + paper("T")},
                           error=f"{X}:3: error: invalid front matter: found unexpected end of stream"),
    "tab-indent": Case("B13", {"2024-03-15.md": "---\nlang: ko\ntitle:\tx\n---\n" + DAY + paper("T")},
                       error=f"{X}:3: error: invalid front matter: found character '\\t' that cannot start any token"),
    "colon-in-value": Case("B13", {"2024-03-15.md": "---\ntitle: This thing: crashes\n---\n" + DAY + paper("T")},
                           error=f"{X}:2: error: invalid front matter: mapping values are not allowed here"),
    "unknown-key-is-a-warning": Case("B14 (contract)", {"2024-03-15.md": "---\ntitel: x\n---\n" + DAY + paper("T")},
                                     warning=f"{X}:2: warning: unknown front matter key 'titel' (known: title, date, lang, tags, draft, description)",
                                     present={P: ['<h1 dir="auto">Daily Papers (2024-03-15)</h1>']}),
    "no-date-anywhere": Case("B14 C4", {"notes.md": "## Daily Papers\n\n" + paper("T")},
                             error="content/notes.md:1: error: no date: give front matter 'date'"),
    "megabyte-title": Case("B15", {"2024-03-15.md": "---\ntitle: " + "x" * 1_000_000 + "\n---\n" + DAY + paper("T")},
                           error=f"{X}:2: error: front matter larger than 16 KiB"),
    "control-chars-in-title-and-bullet": Case("B15 F1", {"2024-03-15.md": day(paper("a\x00b\x0bc\ufffed]]>e", body="- x\x0cy\uffffz ]]> w\n"))},
                                             warning=f"{X}:3: warning: control characters removed",
                                             present={P: ["abcd]]&gt;e", "xyz ]]&gt; w"], A: ["abcd]]&amp;gt;e"], J: ["abcd]]>e"]}),
    "escaped-control-chars-in-front-matter": Case("B15 F1 F2", {"2024-03-15.md": day(
        paper("T"), front='title: "a\\x00b\\x0bc\\ufffed\\ud800e\\U0001F600"\ndescription: "p\\ud800q\\x1f"\ntags: ["t\\ud800ag", "\\udfff"]\n')},
        present={P: ["<h1 dir=\"auto\">abcde😀</h1>"], F: ["<title>abcde😀</title>", "<description>pq</description>"],
                 J: ['"title": "abcde😀"']},
        exists=["tags/tag/index.html"]),
    # C. File names, slugs and output paths
    **{f"title-path-{name}": Case("C1 C2 C3 C8", {"2024-03-15.md": day(paper(title, url="https://example.org/no-arxiv"))},
                                  warning=None, exists=[f"papers/{slug}/index.html"])
       for name, title, slug in [("dotdot", "../../.bashrc", "bashrc"), ("encoded", "%2e%2e%2f%2e%2e%2fetc", "2e-2e-2f-2e-2e-2fetc"),
                                 ("absolute", "/etc/cron.d/x", "etc-cron-d-x"), ("windows", "C:\\\\Windows\\\\x", "c-windows-x"),
                                 ("home", "~/x", "x"), ("con", "CON", "con_"), ("nul-dot", "nul.", "nul_"),
                                 ("trailing-space", "a ", "a"), ("dots-only", "..", "paper"), ("com1", "COM¹", "com1_")]},
    "tags-as-paths": Case("C1 C3 C8", {"2024-03-15.md": day(paper("T"), front='tags: ["../../etc", "/abs", "C:\\\\x", "CON", "..", "%2e%2e"]\n')},
                          exists=["tags/etc/index.html", "tags/abs/index.html", "tags/c-x/index.html", "tags/con_/feed.xml",
                                  "tags/2e-2e/atom.xml"]),
    "arxiv-old-style-id": Case("C1", {"2024-03-15.md": day(paper("T", url="https://arxiv.org/abs/hep-th/9901001v2"))},
                               exists=["papers/hep-th-9901001/index.html"]),
    "impossible-file-date": Case("C4", {"2024-13-45-digest.md": "## Daily Papers\n\n" + paper("T")},
                                 error="content/2024-13-45-digest.md:1: error: impossible date 2024-13-45 in the file name"),
    "file-and-front-matter-disagree": Case("C4", {"2024-01-05.md": "---\ndate: 2024-01-06\n---\n## Daily Papers\n\n" + paper("T")},
                                           error="content/2024-01-05.md:2: error: front matter date 2024-01-06 (line 2) disagrees "
                                                 "with file name date 2024-01-05"),
    "two-files-one-url": Case("C5", {"2024-01-05.md": day(paper("T"), date="2024-01-05"), "2024-01-05-v2.md": day(paper("U"), date="2024-01-05")},
                              error="content/2024-01-05.md:1: error: two digests for 2024-01-05: content/2024-01-05-v2.md and "
                                    "content/2024-01-05.md"),
    "flat-and-nested-one-url": Case("C5", {"2024-01-05.md": day(paper("T"), date="2024-01-05"), "2024/01/05.md": day(paper("U"), date="2024-01-05")},
                                    error="content/2024/01/05.md:1: error: two digests for 2024-01-05: content/2024-01-05.md and "
                                          "content/2024/01/05.md"),
    "titles-differing-in-case": Case("C6", {"2024-03-15.md": day(paper("Paper", url="https://e.org/1"), paper("PAPER", url="https://e.org/2"),
                                                                 paper("Straße", url="https://e.org/3"), paper("STRASSE", url="https://e.org/4"))},
                                     warning=f"{X}:7: warning: paper id 'paper' appears twice in this digest (first at line 3)",
                                     exists=["papers/paper/index.html", "papers/paper-2/index.html", "papers/strasse/index.html",
                                             "papers/strasse-2/index.html"]),
    "titles-differing-in-normal-form": Case("C6 D3", {"2024-03-15.md": day(paper(unicodedata.normalize("NFC", "café"), url="https://e.org/1"),
                                                                           paper(unicodedata.normalize("NFD", "café"), url="https://e.org/2"))},
                                            warning=f"{X}:7: warning: paper id 'café' appears twice in this digest (first at line 3)",
                                            exists=["papers/café/index.html", "papers/café-2/index.html"]),
    "tags-differing-in-case": Case("C6", {"2024-03-15.md": day(paper("T"), front="tags: [Agents, agents, AGENTS]\n")},
                                   exists=["tags/agents/index.html"]),
    "long-korean-title": Case("C7", {"2024-03-15.md": day(paper("가" * 100, url="https://e.org/1"), paper("각" * 2000, url="https://e.org/2"))},
                              exists=["papers/" + "가" * 26 + "/index.html", "papers/" + "각" * 26 + "/index.html"]),
    # D. Unicode
    "korean-and-emoji-byte-exact": Case("D1", {"2024-03-15.md": day(paper("한국어 요약 😀👩‍🔬", url="https://e.org/1", body="- 한국어 요약 😀👩‍🔬 본문\n"),
                                                                    front="title: 한국어 제목 😀👩‍🔬\n")},
                                        present={P: ['<meta charset="utf-8">', 'lang="ko"', "한국어 요약 😀👩‍🔬</a>", "한국어 요약 😀👩‍🔬 본문",
                                                     "<title>한국어 제목 😀👩‍🔬"],
                                                 F: ["<title>한국어 제목 😀👩‍🔬</title>", "한국어 요약 😀👩‍🔬 본문"],
                                                 A: ["<title>한국어 제목 😀👩‍🔬</title>"], J: ['"title": "한국어 제목 😀👩‍🔬"']},
                                        exists=["papers/한국어-요약/index.html"]),
    "bidi-override-in-paper-title": Case("D4 D6", {"2024-03-15.md": day(paper("Title \u202egpj.exe pa\u200bper\u2066x\u2069", url="https://e.org/1"))},
                                         warning=f"{X}:3: warning: invisible or bidirectional control characters removed from the title",
                                         present={P: ["Title gpj.exe paperx</a>"], F: ["Title gpj.exe paperx"]},
                                         exists=["papers/title-gpj-exe-paperx/index.html"],
                                         absent=["\u202e", "\u200b", "\u2066"]),
    "bidi-override-in-front-matter-title": Case("D4", {"2024-03-15.md": day(paper("T"), front='title: "Day \\u202eevil\\u200b"\n')},
                                                warning=f"{X}:2: warning: invisible or bidirectional control characters removed from 'title'",
                                                present={P: ['<h1 dir="auto">Day evil</h1>'], F: ["<title>Day evil</title>"]},
                                                absent=["\u202e", "\u200b"]),
    "bidi-override-in-heading": Case("D4", {"2024-03-15.md": "## Daily \u202ePapers\u200f (2024-03-15)\n\n" + paper("T")},
                                     warning=f"{X}:1: warning: invisible or bidirectional control characters removed from the title",
                                     present={P: ['<h1 dir="auto">Daily Papers (2024-03-15)</h1>']}, absent=["\u202e", "\u200f"]),
    "bidi-override-in-tags": Case("D4 D6", {"2024-03-15.md": day(paper("T"), front='tags: ["ag\\u200bents\\u202e"]\n')},
                                  warning=f"{X}:2: warning: invisible or bidirectional control characters removed from 'tags'",
                                  exists=["tags/agents/index.html"], absent=["\u202e", "\u200b"]),
    "arabic-title-dir-auto": Case("D5", {"2024-03-15.md": day(paper("مرحبا بالعالم", url="https://e.org/1"), front="title: עברית\n")},
                                  present={P: ['<h1 dir="auto">עברית</h1>', '<h2 class="paper-title" dir="auto">']}),
    "nfd-file-name": Case("D3", {unicodedata.normalize("NFD", "2024-03-15-café.md"): day("### No link\n\n- b\n")},
                          warning=unicodedata.normalize("NFC", "content/2024-03-15-café.md:3: warning: paper has no link"),
                          exists=[P, "papers/no-link/index.html"]),
    "nfc-and-nfd-file-names-collide": Case("D3 C6", {unicodedata.normalize("NFD", "2024-03-15-é.md"): day(paper("T")),
                                                     unicodedata.normalize("NFC", "2024-03-15-é.md"): day(paper("U"))},
                                           error="content/2024-03-15-é.md:1: error: two digests for 2024-03-15"),
    "invalid-utf8": Case("D7", {"2024-03-15.md": DAY.encode() + b"### [T](https://e.org/1)\n\nbad \xff\xfe bytes\n"},
                         error=f"{X}:5: error: not valid UTF-8 (byte offset 60)"),
    "lone-surrogate-bytes": Case("F2", {"2024-03-15.md": DAY.encode() + b"### [T \xed\xa0\x80](https://e.org/1)\n"},
                                 error=f"{X}:3: error: not valid UTF-8 (byte offset 37)"),
    # E. Size and pathological inputs (each with a time bound)
    "brackets-8000-bullet": Case("E1", {"2024-03-15.md": day(paper("T", body="- " + "[" * 8000 + "\n"))},
                                 present={P: ["[" * 8000]}, seconds=3),
    "brackets-8000-body": Case("E1", {"2024-03-15.md": day("[" * 8000 + "\n\n", paper("T"))}, present={P: ["[" * 8000]}, seconds=3),
    "brackets-8000-title": Case("E1", {"2024-03-15.md": day(paper("[" * 8000))}, seconds=3),
    "title-300000-characters": Case("E", {"2024-03-15.md": day(paper("가" * 300_000, url="https://e.org/1"))},
                                    exists=["papers/" + "가" * 26 + "/index.html"], seconds=5),
    "backticks": Case("E2", {"2024-03-15.md": day(paper("T", body="- " + "``a" * 2000 + "\n\n" + "`" * 5000 + "x\n"))}, seconds=3),
    "link-reference-spaces": Case("E3", {"2024-03-15.md": day(paper("T", body="[]:0" + " " * 4321 + "0\n"))}, seconds=3),
    "fence-spaces": Case("E3", {"2024-03-15.md": day(paper("T", body="```" + " " * 4321 + "\n"))}, seconds=3),
    "file-50-megabytes": Case("E4", {"2024-03-15.md": DAY + paper("T") + "- " + "x" * (50 * 1024 * 1024) + "\n"},
                              error=f"{X}:1: error: file too large (over 1024 KiB)", seconds=5),
    "file-just-under-the-cap": Case("E4", {"2024-03-15.md": DAY + paper("T", body="".join(f"- *bullet* {i} " + "_x" * 40 + "\n"
                                                                                      for i in range(10_000)))},
                                    seconds=30),
    "blockquote-10000-deep": Case("E5", {"2024-03-15.md": day(paper("T", body="> " * 10_000 + "x\n"))}, seconds=5),
    "list-10000-deep": Case("E5", {"2024-03-15.md": day(paper("T", body="Text\n\n" + "- " * 10_000 + "x\n"))}, seconds=5),
    "list-300-deep-indented": Case("E5", {"2024-03-15.md": day(paper("T", body="Text\n\n" + "".join("    " * i + "- x\n" for i in range(300))))},
                                   seconds=5),
    "links-5000-one-bullet": Case("E6", {"2024-03-15.md": day(paper("T", body="- " + " ".join(f"[l{i}](https://e.org/{i})" for i in range(5000)) + "\n"))},
                                  seconds=5),
    "links-5000-bullets": Case("E6", {"2024-03-15.md": day(paper("T", body="".join(f"- [l{i}](https://e.org/{i})\n" for i in range(5000))))},
                               present={P: ['<a href="https://e.org/4999" rel="nofollow noopener">l4999</a>']}, seconds=5),
    "emphasis-run": Case("E", {"2024-03-15.md": day(paper("T", body="- " + "*_" * 30_000 + "\n"))}, seconds=5),
    "angle-run": Case("E", {"2024-03-15.md": day(paper("T", body="<" * 60_000 + "\n"))}, seconds=5),
    "entity-run": Case("E", {"2024-03-15.md": day(paper("T", body="&#" * 30_000 + "\n"))}, seconds=5),
    "authors-list-literal-bomb": Case("E", {"2024-03-15.md": day(paper("T", body="Authors: [" + "[" * 5000 + "]" * 5000 + "]\n\n- b\n"))},
                                      warning=f"{X}:5: warning: Authors list could not be read as a list of names", seconds=5),
    "papers-2000": Case("E", {"2024-03-15.md": day(*(paper(f"Paper {i}", url=f"https://arxiv.org/abs/2403.{i:05d}") for i in range(2000)))},
                        exists=["papers/2403.01999/index.html"], seconds=30),
    # F. Feeds
    "cdata-end-everywhere": Case("F3", {"2024-03-15.md": day("]]> intro\n\n", paper("]]> T <![CDATA[", body="- ]]>]]> b\n"),
                                                             front='title: "]]>"\ndescription: "x ]]> y"\ntags: ["]]>z"]\n')},
                                 present={F: ["<title>]]&gt;</title>"], A: ['<content type="html">']},
                                 exists=["tags/z/feed.xml"]),
    "script-in-feed-summary": Case("F6", {"2024-03-15.md": day(paper("T", body='- <script>alert(1)</script> <a href="javascript:x">y</a>\n'),
                                                               front="description: <script>alert(1)</script>\n")},
                                   present={F: ["<description>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;</description>"],
                                            A: ["&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;"],
                                            J: ['"summary": "<script>alert(1)</script>"']}),  # JSON Feed summary: plain text
    "relative-links-made-absolute": Case("F7", {"2024-03-15.md": day(paper("T", body="- [x](/2024/01/05/) [y](../other/) ![z](img.png)\n"))},
                                         present={A: ['href="https://example.org/2024/01/05/"', 'href="https://example.org/2024/03/other/"',
                                                      'src="https://example.org/2024/03/15/img.png"'],
                                                  J: ['href=\\"https://example.org/2024/01/05/\\"']}),
    # G. Site config (trusted, but validated) -- see the config cases below for the file itself
    # H1: one bad digest among many: every error listed, nothing written
    "two-bad-among-thirty": Case("H1", {**{f"2024-02-{d:02d}.md": digest_text(f"2024-02-{d:02d}", [(f"2402.{d:05d}", f"P{d}")]) for d in range(1, 29)},
                                        "2024-03-15.md": "\n\n---\ntitle: a\n  bad: indent\n---\n" + DAY + paper("T"),
                                        "2024-03-16.md": day(paper("T", body="Vote: many\n\n- b\n"), date="2024-03-16")},
                                 error="content/2024-03-16.md:5: error: Vote must be a non-negative integer, got 'many'"),
}


def write_content(content: Path, files: dict[str, str | bytes], tmp_path: Path) -> None:
    for rel, text in files.items():
        path = content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, str):
            path.write_bytes(text.replace("{PWNED}", str(tmp_path / "pwned")).encode("utf-8"))
        else:
            path.write_bytes(text)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.timeout(max(20, 4 * case.seconds)))
                                  for name, case in CASES.items()])
def test_catalogue_case(tmp_path, name):
    case = CASES[name]
    config = write_site(tmp_path / "site", GOOD)
    out = config.output_dir
    build(config, use_cache=False)
    before = tree_hashes(out)
    write_content(config.content_dir, case.files, tmp_path)
    inputs = files_outside(tmp_path, out, config.cache_dir)

    started = time.perf_counter()
    try:
        report = build(config, use_cache=False)
        problems, failed = report.warnings, None
    except BuildError as exc:
        problems, failed = exc.problems, exc
    elapsed = time.perf_counter() - started
    lines = [str(p) for p in problems]

    assert elapsed < case.seconds, f"took {elapsed:.2f} s"
    for line in lines:  # every problem says where, in the contract's format (no column)
        assert re.fullmatch(r"[^:\n]+:\d+: (error|warning): [^\n]+", line, re.DOTALL), line
    # nothing outside the output dir changed, whatever happened (B3: no command ran)
    assert files_outside(tmp_path, out, config.cache_dir) - {"site/._site.lock"} == inputs - {"site/._site.lock"}
    assert not (tmp_path / "pwned").exists()
    assert not [p.name for p in out.parent.iterdir() if ".tmp-" in p.name or ".full-" in p.name]

    if case.error:
        assert failed is not None, f"expected {case.error!r}, built with {lines}"
        assert any(line.startswith(case.error) for line in lines), lines
        assert tree_hashes(out) == before  # K: the last good output untouched
        return
    assert failed is None, lines
    assert not [line for line in lines if ": error: " in line]
    if case.warning:
        assert any(line.startswith(case.warning) for line in lines), lines
    files = check_site(out)
    texts = {rel: data.decode("utf-8") for rel, data in files.items() if not rel.startswith("static/")}
    for rel, needles in case.present.items():
        assert rel in texts, (rel, sorted(texts)[:20])
        for needle in needles:
            assert needle in texts[rel], f"{rel} lacks {needle!r}"
    for needle in case.absent:
        holders = [rel for rel, text in texts.items() if needle in text]
        assert not holders, f"{needle!r} in {holders}"
    for rel in case.exists:
        assert rel in files, (rel, sorted(f for f in files if f.startswith(rel.split("/")[0]))[:20])


# --- A: the sanitizer layer and the parser layer, each on its own -----------------------------


def test_sanitizer_alone_strips_what_markdown_would_pass():
    from generator.markup import sanitize

    raw = ('<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">a</a>'
           '<a href="java%0ascript:alert(1)">b</a><p style="position:fixed" onclick="x">c</p><iframe src="https://e.org"></iframe>'
           '<svg onload=alert(1)></svg><a href="&#106;avascript:alert(1)">d</a>')
    scan = scan_html(sanitize(raw))
    assert scan.bad == []
    assert "alert" not in sanitize(raw).replace("alert(1)</", "")  # the script's text may stay only as text


def test_parser_alone_escapes_raw_html():
    from generator.markup import _markdown

    out = _markdown().reset().convert("<script>alert(1)</script>\n\n<b onclick=x>hi</b>")
    assert "<script" not in out and "<b " not in out
    assert "&lt;script&gt;" in out


# --- C: symlinks, loops and odd files in content/ ---------------------------------------------


def build_problems(config) -> tuple[list[str], BuildError | None]:
    try:
        return [str(p) for p in build(config, use_cache=False).warnings], None
    except BuildError as exc:
        return [str(p) for p in exc.problems], exc


def test_symlink_to_system_file_is_refused_and_never_published(tmp_path):
    config = write_site(tmp_path / "site", GOOD)
    build(config, use_cache=False)
    before = tree_hashes(config.output_dir)
    (config.content_dir / "2024-03-20.md").symlink_to("/etc/passwd")
    lines, failed = build_problems(config)
    assert failed and "content/2024-03-20.md:1: error: symlink points outside the content dir; refused" in lines
    assert tree_hashes(config.output_dir) == before
    assert not any(b"root:" in p.read_bytes() for p in config.output_dir.rglob("*") if p.is_file())


def test_symlink_inside_content_is_read_and_its_duplicate_named(tmp_path):
    config = write_site(tmp_path / "site", {"drafts/2024-03-15.md": day(paper("Linked in"))})
    (config.content_dir / "2024-03-15.md").symlink_to("drafts/2024-03-15.md")
    lines, failed = build_problems(config)
    assert failed and any("two digests for 2024-03-15" in line for line in lines)  # the same file twice: named


@pytest.mark.timeout(20)
def test_symlinked_folder_loop_terminates_with_warning(tmp_path):
    config = write_site(tmp_path / "site", GOOD)
    (config.content_dir / "loop").symlink_to(".")
    (config.content_dir / "sub").mkdir()
    (config.content_dir / "sub" / "back").symlink_to("..")
    lines, failed = build_problems(config)
    assert failed is None
    assert "content/loop:1: warning: symlinked folder in content dir skipped" in lines
    assert "content/sub/back:1: warning: symlinked folder in content dir skipped" in lines
    check_site(config.output_dir)


@pytest.mark.timeout(20)
def test_symlinked_file_loop_is_an_error_not_a_crash(tmp_path):
    config = write_site(tmp_path / "site", GOOD)
    (config.content_dir / "a.md").symlink_to("b.md")
    (config.content_dir / "b.md").symlink_to("a.md")
    lines, failed = build_problems(config)
    assert failed is not None
    assert "content/a.md:1: error: symlink loop; refused" in lines
    assert "content/b.md:1: error: symlink loop; refused" in lines


@pytest.mark.timeout(20)
def test_fifo_in_content_is_refused_without_blocking(tmp_path):
    config = write_site(tmp_path / "site", GOOD)
    os.mkfifo(config.content_dir / "2024-03-20.md")
    lines, failed = build_problems(config)
    assert failed is not None and "content/2024-03-20.md:1: error: not a regular file; refused" in lines


def test_unreadable_folder_is_an_error_not_deleted_pages(tmp_path, monkeypatch):
    config = write_site(tmp_path / "site", {**GOOD, "2024/03/15.md": day(paper("T"))})
    build(config, use_cache=False)
    before = tree_hashes(config.output_dir)
    assert "2024/03/15/index.html" in before
    hidden = str(config.content_dir / "2024")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == hidden:
            raise PermissionError(13, "Permission denied", hidden)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    lines, failed = build_problems(config)
    assert failed is not None and "content/2024:1: error: cannot read folder: Permission denied" in lines
    assert tree_hashes(config.output_dir) == before


# --- D8: line endings -------------------------------------------------------------------------


def test_crlf_and_lone_cr_build_the_same_bytes_as_lf(tmp_path):
    text = digest_text("2024-03-15", front="title: 줄바꿈\ntags: [a, b]", intro="Intro line\nsecond line\n\n> quote\n\n```\ncode\n```")
    trees = []
    for n, newline in enumerate(["\n", "\r\n", "\r"]):
        config = write_site(tmp_path / f"s{n}", {})
        (config.content_dir / "2024-03-15.md").write_bytes(text.replace("\n", newline).encode())
        assert build(config, use_cache=False).warnings == []
        trees.append({rel: (config.output_dir / rel).read_bytes() for rel in tree_hashes(config.output_dir)})
    assert trees[0] == trees[1] == trees[2]
    assert "\r" not in trees[0]["2024/03/15/index.html"].decode()


# --- F: feeds ---------------------------------------------------------------------------------


def test_feeds_rebuilt_are_byte_identical_with_stable_ids(tmp_path):
    config = write_site(tmp_path / "site", {**GOOD, "2024-03-15.md": day(paper("]]> \x0b T"))})
    build(config, use_cache=False)
    first = {rel: (config.output_dir / rel).read_bytes() for rel in ("feed.xml", "atom.xml", "feed.json")}
    build(config, use_cache=False)
    assert first == {rel: (config.output_dir / rel).read_bytes() for rel in first}
    assert b"<guid isPermaLink=\"true\">https://example.org/2024/03/15/</guid>" in first["feed.xml"]


def test_zero_digests_make_valid_empty_feeds(tmp_path):
    config = write_site(tmp_path / "site", {})
    build(config, use_cache=False)
    out = config.output_dir
    check_site(out)
    rss = etree.fromstring((out / "feed.xml").read_bytes())
    assert [c.tag for c in rss.find("channel")][:3] == ["title", "link", "description"]
    assert json.loads((out / "feed.json").read_text())["items"] == []


def test_config_title_with_control_characters_keeps_feeds_valid(tmp_path):
    toml = DEFAULT_SITE_TOML.replace('title = "Test Digests"', 'title = "T\\u000bitle ]]> \\uFFFE"').replace(
        'author = "Tester"', 'author = "A\\u0000u"').replace('description = "Papers of the day"', 'description = "D\\u0008"')
    config = write_site(tmp_path / "site", GOOD, site_toml=toml)
    build(config, use_cache=False)
    check_site(config.output_dir)


# --- G: the site config, and output dirs that would delete the sources --------------------------


CONFIG_CASES = {
    "base-url-javascript": ('base_url = "javascript:alert(1)"', "site.toml:2: error: 'base_url' must be an http(s) URL"),
    "base-url-breakout": ('base_url = "http://x\\"><script>"', "site.toml:2: error: 'base_url' must be a plain URL"),
    "python-tag": ('base_url = "https://example.org/"\nx = !!python/object/new:os.system [id]', "site.toml:3: error: invalid TOML"),
    "typo-key": ('base_url = "https://example.org/"\nouput_dir = "out"', "site.toml:3: error: unknown key 'ouput_dir' (did you mean 'output_dir'?)"),
    "bad-timezone": ('base_url = "https://example.org/"\ntimezone = "Mars/Base"', "site.toml:3: error: unknown timezone 'Mars/Base'"),
    **{f"output-{name}": (f'base_url = "https://example.org/"\noutput_dir = "{value}"', "site.toml:3: error: output dir ")
       for name, value in [("dot", "."), ("content", "content"), ("parent", ".."), ("root", "/"), ("home", "~"),
                           ("inside-content", "content/out"), ("templates", "templates")]},
}


@pytest.mark.parametrize("name", list(CONFIG_CASES))
def test_config_case(tmp_path, name):
    body, expected = CONFIG_CASES[name]
    root = tmp_path / "site"
    write_site(root, GOOD)
    (root / "templates").mkdir()
    (root / "site.toml").write_text(f'title = "T"\n{body}\nsearch = false\n', encoding="utf-8")
    before = files_outside(tmp_path)
    with pytest.raises(BuildError) as caught:
        build(load_config(root / "site.toml"), use_cache=False)
    lines = [str(p) for p in caught.value.problems]
    assert any(line.startswith(f"{root}/{expected}") for line in lines), lines
    assert files_outside(tmp_path) == before


def test_output_dir_symlinked_to_the_site_root_is_refused_before_deleting(tmp_path):
    config = write_site(tmp_path / "site", GOOD)
    link = tmp_path / "out"
    link.symlink_to(config.root)
    before = files_outside(tmp_path)
    for target in (link, config.root / "content" / "..", tmp_path):
        with pytest.raises(BuildError) as caught:
            build(config, output_dir=target, use_cache=False)
        assert "must not contain or equal" in str(caught.value)
    assert files_outside(tmp_path) == before


class DirAutoText(HTMLParser):
    """Collect the text inside elements marked dir="auto"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif ("dir", "auto") in attrs:
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += data


def test_right_to_left_titles_sit_in_dir_auto_elements(tmp_path):
    config = write_site(tmp_path / "site", {"2024-03-15.md": day(paper("مرحبا بالعالم", url="https://e.org/1"), front="title: עברית\n")})
    build(config, use_cache=False)
    for rel, expected in [("2024/03/15/index.html", {"עברית", "مرحبا بالعالم"}), ("papers/مرحبا-بالعالم/index.html", {"مرحبا بالعالم"})]:
        parser = DirAutoText()
        parser.feed((config.output_dir / rel).read_text())
        assert expected <= {t.strip() for t in parser.texts}, (rel, parser.texts)


def test_a_paper_pages_description_from_its_summary_holds_no_bidi_override(tmp_path):
    config = write_site(tmp_path / "site", {"2024-03-15.md": day(paper("T", body="- Title \u202egpj.exe and more\n"))})
    build(config, use_cache=False)
    page = (config.output_dir / "papers/2403.00001/index.html").read_text()
    described = re.findall(r'<meta (?:name|property)="(?:description|og:description|twitter:description)" content="([^"]*)"', page)
    assert described and all(text == "Title gpj.exe and more" for text in described), described


def test_too_deep_nesting_does_not_break_the_digests_rendered_after_it(tmp_path):
    config = write_site(tmp_path / "site", {
        "2024-03-14.md": day(paper("Deep", body="Text\n\n" + "- " * 10_000 + "x\n"), date="2024-03-14"),
        "2024-03-15.md": day(paper("After", body="- see *this* [link](https://e.org/after)\n"))})
    build(config, use_cache=False)
    page = (config.output_dir / "2024/03/15/index.html").read_text()
    assert '<em>this</em> <a href="https://e.org/after" rel="nofollow noopener">link</a>' in page


@pytest.mark.timeout(30)
def test_a_50_megabyte_digest_is_refused_in_bounded_memory(tmp_path):
    import tracemalloc

    config = write_site(tmp_path / "site", GOOD)
    with open(config.content_dir / "2024-03-15.md", "wb") as handle:
        handle.write(DAY.encode())
        for _ in range(50):
            handle.write(b"- " + b"x" * (1024 * 1024 - 3) + b"\n")
    tracemalloc.start()
    try:
        lines, failed = build_problems(config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert failed is not None and f"{X}:1: error: file too large (over 1024 KiB)" in lines
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("fragment", [
    "<script>x</script>", '<img src="x" onerror="alert(1)">', '<a href="javascript:alert(1)">', '<a href=" JaVa&#x09;script:x">',
    '<a href="java%0ascript:x">', '<a href="vbscript:x">', '<img src="data:image/svg+xml;base64,AA">', '<a href="data:text/html,x">',
    '<p style="position:fixed">', '<iframe src="https://e.org">', '<svg onload="x">', '<body><meta http-equiv="refresh">',
    '<div ONCLICK="x">',
])
def test_the_checker_itself_catches_what_would_run(fragment):
    assert scan_html(fragment).bad, fragment


@pytest.mark.parametrize("fragment", [
    '<a href="https://e.org/javascript:x">', '<img src="data:image/png;base64,AA" alt="a&quot; onerror=&quot;x">',
    '<p title="onclick=x">text onclick=x</p>', '<a href="/2024/01/05/">', '<a href="mailto:a@b.c">',
])
def test_the_checker_itself_lets_safe_html_pass(fragment):
    assert scan_html(fragment).bad == [], fragment
