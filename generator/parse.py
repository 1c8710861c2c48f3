"""Parse one digest's text into a Digest, with every problem as PATH:LINE.

A line-based parser for the digest shape (see the README's "Digest format"): front matter,
the `## Daily Papers (date)` heading, one `### [title](url)` per paper with its thumbnail,
video, `Vote:`, `Authors:` and summary bullets. Only text that holds Markdown syntax is
sent through Python-Markdown; the structure never is.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field

from .frontmatter import front_matter_datetime, split_front_matter
from .markup import INVISIBLE_CHARS, XML_ILLEGAL, clean_text, markdown_budget, render_block, render_inline, safe_url, slugify
from .model import Digest, Paper, Summary, make_paper, pack_bullet
from .problems import Problem

MAX_AUTHORS_CHARS = 20_000

_DIGEST_HEADING = re.compile(r"^(#{1,2})[ \t]+(.*?)[ \t#]*$")
_HEADING_DATE = re.compile(r"\((\d{4})-(\d{1,2})-(\d{1,2})\)")
# greedy, the trailing blanks stripped after: a lazy (.*?) before [ \t]*$ tries the end at every
# character, ten times slower on a long heading or authors line
_PAPER_HEADING = re.compile(r"^###(?:[ \t]+(.*))?$")
_LINKED_TITLE = re.compile(r"^\[(.*)\]\(\s*<?([^\s<>]*)>?(?:\s+\"[^\"]*\")?\s*\)$")
_THUMBNAIL = re.compile(r"^!\[([^\]]*)\]\(\s*<?([^\s<>]*)>?\s*\)$")
_WATCH_VIDEO = re.compile(r"^\[Watch Video\]\(\s*<?([^\s<>]*)>?\s*\)$", re.IGNORECASE)
_VIDEO_HTML = re.compile(r"^<div>\s*<video\b[^>]*?\bsrc=\"([^\"]*)\"[^>]*>\s*</video>\s*</div>$", re.IGNORECASE)
_VOTE = re.compile(r"^Votes?:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)
_AUTHORS = re.compile(r"^Authors?:[ \t]*(.*)$", re.IGNORECASE)
_BULLET = re.compile(r"^[-*+][ \t]+(.*)$")
_ORDERED_ITEM = re.compile(r"^\d{1,9}[.)](?:[ \t]|$)")
_FIELD_START = re.compile(r"^(?:Votes?:|Authors?:|\[Watch Video\]\(|<div>\s*<video\b)", re.IGNORECASE)
_LABEL = re.compile(r"^(\*{2,3})([^*]{1,60}?)(:)?\1(?(3)|[ \t]*:)[ \t]*(.*)$", re.DOTALL)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_FENCE_STARTS = ("`", "~", " ", "\t")  # a line starting otherwise opens no fence
# The one-pass summary: a plain bullet's label (as _LABEL reads it, for labels with no space,
# colon or Markdown at either end), marked as such; other bullets stay marked unlabelled. The packed result is
# used only if no text holds Markdown syntax, an entity, an invisible character, or starts
# with space or a list marker (what markup.is_plain checks); otherwise each bullet is
# rendered on its own. tests/test_parse.py holds the two ways equal.
_PLAIN_LABEL = re.compile(r"\x1c(\*{2,3})([^*\s:](?:[^*\x1c-\x1f]{0,58}[^*\s:])?)(:)?\1(?(3)|[ \t]*:)[ \t]*")
_MARKDOWN_IN_PACKED = re.compile(rf"[\\`*_\[\]<>&\xa0\x00-\x09\x0b-\x1b{INVISIBLE_CHARS}]")
# two searches, each for one literal separator, run several times faster than one for either
_BLOCK_START_IN_PACKED = (re.compile(r"\x1c(?:[-+*#>=\s]|\d+[.)])"), re.compile(r"\x1e(?:[-+*#>=\s]|\d+[.)])"))
_SIMPLE_AUTHORS = re.compile(rf"\['[^'\\\x00-\x1f{INVISIBLE_CHARS}]*'(?:, '[^'\\\x00-\x1f{INVISIBLE_CHARS}]*')*\]")
_ARXIV = re.compile(
    r"^https?://(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)|huggingface\.co/papers)/"
    r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_C0_ILLEGAL_BYTES = bytes(0 if byte < 0x20 and byte not in b"\t\n\r" else 1 for byte in range(256))
_PATH_DATE_FLAT = re.compile(r"(?:^|/)(\d{4})-(\d{2})-(\d{2})[^/]*\.md$")
_PATH_DATE_NESTED = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})\.md$")


def decode_source(data: bytes, path: str) -> tuple[str | None, list[Problem]]:
    """Return the text of a digest file with newlines normalized, or None and the error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [Problem(path, line, f"not valid UTF-8 (byte offset {exc.start})")]
    if b"\r" in data:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    problems = []
    # a pass over the bytes finds the C0 controls XML forbids (each is one byte in UTF-8) in a
    # quarter of the time the regex takes; strict UTF-8 never decodes to a surrogate
    suspect = data.translate(_C0_ILLEGAL_BYTES).find(0) >= 0 or "\ufffe" in text or "\uffff" in text
    match = XML_ILLEGAL.search(text) if suspect else None
    if match:
        line = text.count("\n", 0, match.start()) + 1
        problems.append(Problem(path, line, "control characters removed", "warning"))
        text = XML_ILLEGAL.sub("", text)
    return text, problems


@dataclass
class _PaperDraft:
    line: int
    title: str
    url: str | None
    thumbnail: str | None = None
    video: str | None = None
    votes: int | None = None
    authors: tuple[str, ...] = ()
    authors_omitted: bool = False
    bullets: list[str] = field(default_factory=list)  # each bullet's text, continuation lines joined by newlines
    continued: bool = False  # whether some bullet has continuation lines
    summary_done: bool = False  # whether other text came after the bullets: later bullets are that text's
    extra: list[str] = field(default_factory=list)


@dataclass
class _DateClaim:
    date: dt.date
    where: str
    line: int


def parse_digest(text: str, path: str, tz: zoneinfo.ZoneInfo | str = "UTC") -> tuple[Digest | None, list[Problem]]:
    """Return the digest in text (None if it has errors) and its problems."""
    if isinstance(tz, str):
        tz = zoneinfo.ZoneInfo(tz)
    problems: list[Problem] = []

    def report(line: int, message: str, level: str = "error") -> None:
        problems.append(Problem(path, line, message, level))

    lines = text.split("\n")
    meta, body_start = split_front_matter(lines, path, problems)
    claims: list[_DateClaim] = []
    published: dt.datetime | None = None
    if "date" in meta:
        value, line = meta["date"]
        published = front_matter_datetime(value, tz)
        if published is None:
            report(line, f"'date' must be a date such as 2024-03-15, got {value!r}")
        else:
            claims.append(_DateClaim(published.date(), f"front matter date {published.date()} (line {line})", line))

    heading_title: str | None = None
    heading_date: _DateClaim | None = None
    intro: list[str] = []
    drafts: list[_PaperDraft] = []
    paper: _PaperDraft | None = None
    fence: str | None = None
    in_bullet = False

    for lineno, line in enumerate(lines[body_start:], start=body_start + 1):
        first = line[:1]
        if fence is not None:
            (paper.extra if paper else intro).append(line)
            if line.strip().startswith(fence):
                fence = None
            continue
        fence_match = _FENCE.match(line) if first in _FENCE_STARTS else None
        if fence_match:
            fence = fence_match.group(1)
            in_bullet = False
            if paper is not None and paper.bullets:
                paper.summary_done = True
            (paper.extra if paper else intro).append(line)
            continue
        if first == "#":
            match = _PAPER_HEADING.match(line)
            if match and not line.startswith("####"):
                paper = _start_paper((match.group(1) or "").rstrip(" \t"), lineno, report)
                drafts.append(paper)
                in_bullet = False
                continue
            match = _DIGEST_HEADING.match(line)
            date_match = _HEADING_DATE.search(match.group(2)) if match else None
            if match and (date_match or (heading_title is None and not drafts)):
                claim = _heading_claim(date_match, lineno, report) if date_match else None
                if claim and heading_date and claim.date != heading_date.date:
                    report(lineno, f"heading date {claim.date} disagrees with the heading date "
                                   f"{heading_date.date} at line {heading_date.line}")
                elif claim and not heading_date:
                    heading_date = claim
                    claims.append(claim)
                if heading_title is None:
                    heading_title = clean_text(match.group(2)).strip()
                    if heading_title != match.group(2).strip():
                        report(lineno, "invisible or bidirectional control characters removed from the title", "warning")
                paper = None
                in_bullet = False
                continue
        if paper is None:
            intro.append(line)
            continue
        if first == "-" and line[1:2] == " " and line[2:3] not in (" ", "\t") and not paper.summary_done:
            paper.bullets.append(line[2:])  # the common bullet, first: no other test below would take it
            in_bullet = True
            continue
        if not line or line.isspace():  # what strip() would empty, without copying the line
            in_bullet = False
            if paper.extra:
                paper.extra.append(line)
            continue
        if in_bullet and first in (" ", "\t"):
            paper.bullets[-1] += "\n" + line
            paper.continued = True
            continue
        after_bullet, in_bullet = in_bullet, False
        if not paper.summary_done:  # the summary is the paper's first list, after a note too
            bullet = _BULLET.match(line)
            if bullet:
                paper.bullets.append(bullet.group(1))
                in_bullet = True
                continue
            if after_bullet and _runs_on(line):  # a wrapped bullet's next line, not indented
                paper.bullets[-1] += "\n" + line
                paper.continued = in_bullet = True
                continue
            if not paper.bullets and _paper_field(paper, line, lineno, report, loose=bool(paper.extra)):
                continue
        if paper.bullets:
            paper.summary_done = True
            if misplaced := _FIELD_START.match(line):
                what = "video" if line[:1] in "[<" else misplaced.group(0).rstrip(":")
                report(lineno, f"{what} line after the paper's summary is shown as text; put it before the bullets", "warning")
        paper.extra.append(line)

    if fence is not None:
        report(len(lines), "code fence opened but never closed", "warning")

    date = _agreed_date(claims, path, report)
    if date is None and not claims and not any(p.level == "error" for p in problems):
        report(1, "no date: give front matter 'date', a heading like '## Daily Papers (2024-03-15)' "
                  "or a file name like 2024-03-15.md")
    with markdown_budget() as budget:
        intro_html = render_block("\n".join(intro))
        papers = _finish_papers(drafts, report)
    if budget.refused:
        report(1, f"Markdown too costly to render (long runs of '[', many headings in one block, or "
                  f"too much of it): {budget.refused} part(s) shown as plain text", "warning")
    if not papers and date is not None:
        report(heading_date.line if heading_date else 1, "digest has no papers", "warning")
    if any(p.level == "error" for p in problems) or date is None:
        return None, problems

    if published is None or published.date() != date:
        published = dt.datetime.combine(date, dt.time(0, 0), tz)
    published = published.astimezone(tz)  # the day is the one written; the time is shown in the site's zone
    title = meta["title"][0] if "title" in meta else heading_title or f"Daily Papers ({date})"
    tags = meta["tags"][0] if "tags" in meta else ()
    digest = Digest(
        date=date,
        published=published,
        title=clean_text(title),
        source=path,
        papers=papers,
        intro_html=intro_html,
        lang=meta["lang"][0] if "lang" in meta else None,
        tags=tags,
        draft=meta["draft"][0] if "draft" in meta else False,
        description=clean_text(meta["description"][0]) if "description" in meta else "",
    )
    return digest, problems


def path_date(path: str) -> tuple[int, int, int] | None:
    """Return the (year, month, day) a digest's path names, unchecked, or None."""
    match = _PATH_DATE_NESTED.search(path) or _PATH_DATE_FLAT.search(path)
    return tuple(int(g) for g in match.groups()) if match else None


def paper_id(url: str | None, title: str) -> str:
    """Return a paper's id: its arXiv id when url is an arXiv link, else a slug of its title."""
    if url:
        match = _ARXIV.match(url)
        if match:
            return match.group(1).lower().replace("/", "-")
    return slugify(title) or "paper"


# --- dates ------------------------------------------------------------------------------


def _heading_claim(match: re.Match, lineno: int, report) -> _DateClaim | None:
    year, month, day = (int(g) for g in match.groups())
    try:
        date = dt.date(year, month, day)
    except ValueError:
        report(lineno, f"impossible date {match.group(0)[1:-1]} in the heading")
        return None
    return _DateClaim(date, f"heading date {date} (line {lineno})", lineno)


def _agreed_date(claims: list[_DateClaim], path: str, report) -> dt.date | None:
    """Return the digest's date from its claims and its path, reporting disagreements."""
    found = path_date(path)
    if found:
        try:
            claims = claims + [_DateClaim(dt.date(*found), f"file name date {dt.date(*found)}", 1)]
        except ValueError:
            report(1, "impossible date {:04d}-{:02d}-{:02d} in the file name".format(*found))
            return None
    if not claims:
        return None
    first = claims[0]
    for other in claims[1:]:
        if other.date != first.date:
            report(max(first.line, other.line), f"{first.where} disagrees with {other.where}")
            return None
    return first.date


# --- papers -----------------------------------------------------------------------------


def _start_paper(heading: str, lineno: int, report) -> _PaperDraft:
    match = _LINKED_TITLE.match(heading)
    title, url = (match.group(1), match.group(2)) if match else (heading, None)
    cleaned = clean_text(title).strip()
    if cleaned != title.strip():
        report(lineno, "invisible or bidirectional control characters removed from the title", "warning")
    if not cleaned:
        report(lineno, "paper heading has an empty title")
    if url is not None:
        checked = safe_url(url)
        if checked is None:
            report(lineno, f"paper link is not an http(s) URL and was dropped: {url[:80]!r}", "warning")
        url = checked
    else:
        report(lineno, "paper has no link", "warning")
    return _PaperDraft(line=lineno, title=cleaned, url=url)


def _runs_on(line: str) -> bool:
    """Return whether line, right after a bullet and not indented, continues its text (as Markdown reads it)."""
    first = line[:1]
    return ((first.isalnum() or first in "\"'(") and not _ORDERED_ITEM.match(line)
            and not _FIELD_START.match(line))


def _paper_field(paper: _PaperDraft, line: str, lineno: int, report, loose: bool = False) -> bool:
    """Take a thumbnail, video, vote or authors line into paper; return whether it was one.

    Trailing blanks do not count. With loose (the line follows a note), a vote that is no
    number is the note's text, not an error.
    """
    line = line.rstrip(" \t")
    first = line[:1]
    if first == "!":
        match = _THUMBNAIL.match(line)
        if match and paper.thumbnail is None:
            paper.thumbnail = safe_url(match.group(2), images=True)
            if paper.thumbnail is None:
                report(lineno, "thumbnail is not an http(s) image URL and was dropped", "warning")
            return True
    elif first == "[":
        match = _WATCH_VIDEO.match(line)
        if match:
            paper.video = paper.video or safe_url(match.group(1))
            return True
    elif first == "<":
        match = _VIDEO_HTML.match(line)
        if match:
            paper.video = paper.video or safe_url(match.group(1))
            return True
    elif first in "Vv":
        match = _VOTE.match(line)
        if match:
            raw = match.group(1)
            if raw.isascii() and raw.isdigit() and len(raw) <= 12:
                paper.votes = int(raw)
            elif loose:
                return False
            else:
                report(lineno, f"Vote must be a non-negative integer, got {raw[:40]!r}")
            return True
    elif first in "Aa":
        match = _AUTHORS.match(line)
        if match:
            paper.authors, paper.authors_omitted = _parse_authors(match.group(1).rstrip(" \t"), lineno, report)
            return True
    return False


def _parse_authors(raw: str, lineno: int, report) -> tuple[tuple[str, ...], bool]:
    """Return (authors, whether some were left out) from an Authors: value."""
    if _SIMPLE_AUTHORS.fullmatch(raw):  # ['A', 'B'] with nothing to unescape or clean: what literal_eval reads
        names = raw[2:-2].split("', '")
    elif raw.startswith("[") and raw.endswith("]"):
        try:
            value = ast.literal_eval(raw) if len(raw) <= MAX_AUTHORS_CHARS else None
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            names = [clean_text(name) for name in value]
        else:
            report(lineno, "Authors list could not be read as a list of names; split at commas", "warning")
            names = clean_text(raw[1:-1].replace("'", "").replace('"', "")).split(",")
    else:
        names = clean_text(raw).split(",")
    authors = []
    omitted = False
    for name in names:
        name = name.strip()
        if name == "+":
            omitted = True
        elif name:
            authors.append(name)
    return tuple(authors), omitted


def _finish_papers(drafts: list[_PaperDraft], report) -> tuple[Paper, ...]:
    """Return the papers of the drafts, with ids made unique within the digest."""
    papers = []
    seen: dict[str, int] = {}
    for draft in drafts:
        pid = paper_id(draft.url, draft.title)
        if pid in seen:
            report(draft.line, f"paper id '{pid}' appears twice in this digest (first at line {seen[pid]})", "warning")
            n = 2
            while f"{pid}-{n}" in seen:
                n += 1
            pid = f"{pid}-{n}"
        seen[pid] = draft.line
        papers.append(make_paper(
            id=pid,
            title=draft.title,
            url=draft.url,
            thumbnail=draft.thumbnail,
            video=draft.video,
            votes=draft.votes,
            authors=draft.authors,
            authors_omitted=draft.authors_omitted,
            summary=_summary(draft),
            extra_html=render_block("\n".join(draft.extra)),
            line=draft.line,
        ))
    return tuple(papers)


def _summary(draft: _PaperDraft) -> Summary:
    """Return the Summary of a paper's bullets, in one pass over all of them when they are plain lines."""
    if not draft.bullets:
        return Summary()
    if draft.continued:
        return Summary(_bullet(text) for text in draft.bullets)
    packed = _PLAIN_LABEL.sub(_packed_label, "\x1c" + "\x1f\x1c".join(draft.bullets) + "\x1f")
    if not _needs_markdown(packed):
        return Summary.from_packed(packed, len(draft.bullets))
    items = [  # some bullets need Markdown: render those alone, keep the rest
        pack_bullet(*_bullet(text)) if _needs_markdown(item) else item + "\x1f"
        for item, text in zip(packed.split("\x1f"), draft.bullets)
    ]
    return Summary.from_packed("".join(items), len(items))


def _packed_label(match: re.Match) -> str:
    return "\x1d" + match[2] + "\x1e"  # a function: Python 3.11 expands a "\\2" template in Python, slower


def _needs_markdown(packed: str) -> bool:
    """Return whether some bullet of packed (or a part of it) holds Markdown syntax or starts like a block."""
    return bool(_MARKDOWN_IN_PACKED.search(packed) or _BLOCK_START_IN_PACKED[0].search(packed)
                or _BLOCK_START_IN_PACKED[1].search(packed))


def _bullet(text: str) -> tuple[str, str]:
    """Return (label, html) of one summary bullet, its continuation lines joined by newlines."""
    label = ""
    if text[:2] == "**":
        match = _LABEL.match(text)
        if match:
            label = clean_text(match.group(2)).strip()
            text = match.group(4)
    if "\n" in text:
        return label, render_block(_dedent_continuation(text))
    return label, render_inline(text)


def _dedent_continuation(text: str) -> str:
    first, _, rest = text.partition("\n")
    body = [line[2:] if line.startswith("  ") else line.lstrip("\t") for line in rest.split("\n")]
    return first + "\n\n" + "\n".join(body) if body and _BULLET.match(body[0].lstrip()) else first + "\n" + "\n".join(body)
