"""Turn untrusted digest text into safe HTML.

Two layers, each enough on its own for the common attacks: Python-Markdown runs with raw
HTML turned off (so tags come out as text), and every result goes through nh3's allowlist
(so no event handler, style or dangerous URL survives). Plain text, which is most summary
text, skips Markdown: it only needs escaping, and tests prove both paths agree on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import math
import re
import threading
import unicodedata
from typing import TYPE_CHECKING, Iterator
from urllib.parse import unquote, urljoin, urlsplit

import nh3

if TYPE_CHECKING:
    import markdown

# Characters that can start Markdown inline syntax (or an entity), and control characters
# (newlines start blocks, tabs are expanded, NUL/STX/ETX and CR are rewritten). Text without
# any of them renders through Markdown to exactly its escaped self.
_MARKDOWN_CHARS = re.compile(r"[\\`*_\[\]<>&\xa0\x00-\x1f]")
_NUMBERED = re.compile(r"\d+[.)]")  # at the start, a numbered list
_PLAIN = r"[^\\`*_\[\]<>&!\x00-\x1f\xa0]"  # a character no inline syntax can start at
_SIMPLE_TOKEN = re.compile(
    rf"(?P<plain>{_PLAIN}+)"
    r"|`(?P<code>[^`\s\x00-\x1f](?:[^`\x00-\x1f]*[^`\s\x00-\x1f])?)`"
    rf"|\*\*(?P<strong>{_PLAIN[:-1]}\s](?:{_PLAIN}*{_PLAIN[:-1]}\s])?)\*\*"
    rf"|\*(?P<em>{_PLAIN[:-1]}\s](?:{_PLAIN}*{_PLAIN[:-1]}\s])?)\*"
    rf"|\[(?P<text>{_PLAIN[:-1]}()\s](?:{_PLAIN[:-1]}()]*{_PLAIN[:-1]}()\s])?)\]"
    r"\((?P<url>https?://(?:[^\s()<>\"'`\\\x00-\x1f*_\[\]&]|&(?![#A-Za-z0-9]+;))+)\)"  # an entity: Markdown's job
)
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "dl", "dt", "dd", "span",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "nofollow noopener"  # what every link of digest text gets
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
# Names Windows reserves for devices: a folder named so cannot be created or served there.
_RESERVED_NAMES = re.compile(r"con|prn|aux|nul|com\d|lpt\d")
# Python-Markdown is quadratic on some inputs: a run of "[", many headings or rules in one
# block, a fence line padded with spaces. markdown_cost estimates a text's time from those
# counts (microseconds, measured on a 2-core build machine); a text larger than
# MAX_MARKDOWN_CHARS, or costing more than MAX_TEXT_COST, or more than what is left of the
# budget of the digest being parsed (see markdown_budget), is shown as plain text instead.
MAX_MARKDOWN_CHARS = 64 * 1024
MAX_TEXT_COST = 500_000
MARKDOWN_BUDGET = 2_000_000
_BLOCK_LINE = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$|(?:[-*_][ \t]*){3,}$)", re.MULTILINE)
_FENCE_LINE = re.compile(r"^ {0,3}(?:`{3,}|~{3,}).*", re.MULTILINE)
# Bidirectional overrides and zero-width characters: never wanted in titles or ids. The
# zero-width (non-)joiners U+200C/U+200D stay: emoji sequences and some scripts need them.
INVISIBLE_CHARS = "\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"  # a regex class body
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")
# Characters XML 1.0 forbids; feeds must never carry them.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_local = threading.local()


def _markdown() -> markdown.Markdown:
    import markdown  # imported when some text needs it: most summaries never do

    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists"], output_format="html")
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        _local.md = md
    return md


def sanitize(fragment: str) -> str:
    """Return fragment with everything outside the allowlist removed."""
    out = nh3.clean(
        fragment,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel=_LINK_REL,
        strip_comments=True,
        attribute_filter=_drop_disguised_url,
    )
    # nh3 writes what an entity such as &#x1d; stands for: a control character no page or
    # feed may hold (and the packed summary's own separator)
    return XML_ILLEGAL.sub("", out) if "&#" in fragment else out


def _drop_disguised_url(tag: str, attribute: str, value: str) -> str | None:
    """Drop a link whose percent-decoded form names a scheme other than http(s) or mailto."""
    if attribute not in ("href", "src"):
        return value
    decoded = re.sub(r"[\x00-\x20\x7f]+", "", unquote(html.unescape(value))).lower()
    match = _SCHEME.match(decoded)
    return None if match and match.group(1) not in _URL_SCHEMES else value


def is_plain(text: str) -> bool:
    """Return whether text has no Markdown syntax, so escaping alone renders it."""
    return not (
        _MARKDOWN_CHARS.search(text)
        or text[:1] in ("-", "+", "*", "#", ">", "=")
        or text[:1].isspace()
        or text[-1:].isspace()
        or _NUMBERED.match(text)
    )


def render_inline(text: str) -> str:
    """Return safe HTML for one line of inline Markdown, without a paragraph wrapper."""
    if is_plain(text):
        return html.escape(text, quote=False)
    simple = render_simple_inline(text)
    if simple is not None:
        return simple
    out = render_block(text)
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return out


_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?(?:/[^\s\"'<>\\`&\x00-\x1f\x7f]*)?\Z")
_DELIMITER = {"strong": "*", "em": "*", "code": "`"}


def render_simple_inline(text: str) -> str | None:
    """Return safe HTML for text made only of plain words, `code`, **strong**, *em* and [links](http...).

    None when text holds anything else: then only Python-Markdown knows what it means. On
    the texts it accepts, the result is the same as Python-Markdown's (a property test holds
    the two to that); it is the common case of summaries, at a fraction of the cost.
    """
    if text[:1] in ("-", "+", "*", "#", ">", "=") or text[:1].isspace() or text[-1:].isspace() or _NUMBERED.match(text):
        if not (text[:1] == "*" and text[1:2] not in ("", " ", "\t")):  # "*em*" is no list item
            return None
    parts = []
    position = 0
    previous = ""
    for match in _SIMPLE_TOKEN.finditer(text):
        kind = match.lastgroup
        if match.start() != position or _DELIMITER.get(kind, kind) == _DELIMITER.get(previous, previous) != "plain":
            return None  # a gap, or two runs of ` or * that touch: Markdown may pair them otherwise
        position = match.end()
        previous = kind
        if kind == "plain":
            parts.append(html.escape(match.group(kind), quote=False))
        elif kind == "code":
            parts.append("<code>" + html.escape(match.group(kind), quote=False) + "</code>")
        elif kind == "strong":
            parts.append("<strong>" + html.escape(match.group(kind), quote=False) + "</strong>")
        elif kind == "em":
            parts.append("<em>" + html.escape(match.group(kind), quote=False) + "</em>")
        else:
            url = html.escape(match.group("url"))  # http(s), with no quote, space or bracket: safe as it is
            parts.append(f'<a href="{url}" rel="{_LINK_REL}">{html.escape(match.group("text"), quote=False)}</a>')
    if position != len(text):
        return None
    return "".join(parts)  # escaped words in <a>, <code>, <strong>, <em>: what sanitize would leave as it is


def markdown_cost(text: str) -> float:
    """Return an estimate of the microseconds Python-Markdown takes to convert text."""
    brackets = text.count("[")
    blocks = len(_BLOCK_LINE.findall(text)) if "\n" in text else 0
    fences = sum(len(line) ** 2 for line in _FENCE_LINE.findall(text)) if "```" in text or "~~~" in text else 0
    return 5 * len(text) + 0.35 * brackets ** 2 + 0.1 * blocks ** 2 + 0.02 * fences


@contextlib.contextmanager
def markdown_budget(total: float = MARKDOWN_BUDGET) -> Iterator[MarkdownBudget]:
    """Give the render_block calls inside (in this thread) total microseconds of Markdown between them."""
    budget = MarkdownBudget(total)
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = None


@dataclasses.dataclass
class MarkdownBudget:
    left: float
    refused: int = 0  # texts shown as plain text because the budget was spent


def render_block(text: str) -> str:
    """Return safe HTML for a block of Markdown."""
    if not text.strip():
        return ""
    cost = markdown_cost(text) if len(text) <= MAX_MARKDOWN_CHARS else math.inf
    budget = getattr(_local, "budget", None)
    if cost > MAX_TEXT_COST or (budget is not None and cost > budget.left):
        if budget is not None:
            budget.refused += 1
        return "<p>" + html.escape(text, quote=False) + "</p>"
    if budget is not None:
        budget.left -= cost
    md = _markdown()
    try:
        out = md.reset().convert(text)
    except RecursionError:
        _local.md = None  # the failed run leaves the instance broken: later texts would come out raw
        out = "<p>" + html.escape(text, quote=False) + "</p>"
    return sanitize(out)


def safe_url(url: str, *, images: bool = False) -> str | None:
    """Return url if it is an absolute http(s) URL (or a raster data: image), else None."""
    if _PLAIN_HTTP_URL.match(url):  # the common case, with nothing to decode or doubt
        return url
    candidate = html.unescape(url).strip()
    if not candidate or re.search(r"[\x00-\x20\x7f\"'<>\\`]", candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:  # an unbalanced [ in the host, say
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return candidate
    if images and re.match(r"data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=]+$", candidate, re.I):
        return candidate
    return None


def clean_text(text: str) -> str:
    """Return text without bidi overrides, zero-width characters or XML-illegal characters."""
    if text.isascii() and text.isprintable():  # most titles: none of those can be in it
        return text
    return XML_ILLEGAL.sub("", _INVISIBLE.sub("", text))


def slugify(text: str, max_bytes: int = 80) -> str:
    """Return a lowercase, path-safe slug of text (Unicode letters kept, NFC), or ''."""
    text = unicodedata.normalize("NFKC", clean_text(text)).casefold()
    slug = re.sub(r"[^\w]+", "-", text).strip("-_")
    slug = re.sub(r"[-_]{2,}", "-", slug)
    if len(slug.encode("utf-8")) > max_bytes:  # cut at a character boundary, in one step
        slug = slug.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
    slug = slug.strip("-_")
    return slug + "_" if _RESERVED_NAMES.fullmatch(slug) else slug


# inside a tag only: text, where the sanitizer leaves '"' as it is, may hold ' src="..."' too;
# a '<' in sanitized HTML always opens a tag, and a '>' in an attribute value is written &gt;
_RELATIVE_LINK = re.compile(r'(<[a-z]+\s[^>]*?(?<=\s)(?:href|src)=")(?![a-zA-Z][a-zA-Z0-9+.-]*:)([^"]*)"')


def rebase_links(fragment: str, page_url: str) -> str:
    """Return fragment, written for the page at page_url, with its relative links resolved against that page.

    Digest text is written for its day's page: where the same fragment is shown elsewhere
    (a paper's page, a feed), its relative href and src values and its #anchors must still
    lead where they led there.
    """
    if ' href="' not in fragment and ' src="' not in fragment:  # most fragments: no link at all
        return fragment
    return _RELATIVE_LINK.sub(lambda match: f"{match[1]}{urljoin(page_url, match[2])}\"", fragment)
