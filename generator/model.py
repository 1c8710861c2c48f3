"""The site's data: frozen dataclasses independent of templates, and build_site, which derives them."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import pickle
import re
from dataclasses import dataclass, field
from itertools import repeat
from typing import Iterable, Iterator, NamedTuple, Protocol

from .markup import slugify
from .problems import BuildError, Problem, errors_in  # noqa: F401 - re-exported for callers of the model


@dataclass(frozen=True)
class Bullet:
    """One summary bullet: sanitized inline HTML, with an optional label."""

    html: str
    label: str = ""


_SEPARATORS = re.compile("[\x1c-\x1f]")


def pack_bullet(label: str, fragment: str) -> str:
    """Return one bullet in Summary's packed form: label is plain text, fragment sanitized HTML."""
    if _SEPARATORS.search(label) or _SEPARATORS.search(fragment):
        raise ValueError("summary text may not contain U+001C to U+001F")
    return f"\x1d{html.escape(label, quote=False)}\x1e{fragment}\x1f" if label else f"\x1c{fragment}\x1f"


class Summary:
    """A paper's bullets, packed in one UTF-8 string so that thousands of papers load and render fast.

    Each bullet is U+001D label U+001E html U+001F, or U+001C html U+001F without a label;
    the label is stored HTML-escaped. Digest text never holds these separators: the parser
    drops every C0 control character but tab and newline. `html` turns the whole string into
    list items with four replacements, so a page never loops over bullets in a template.
    Kept as bytes: moving parsed digests between processes and through the cache copies
    them instead of decoding them, and only pages that are rendered decode theirs.
    """

    __slots__ = ("_packed", "_count")

    def __init__(self, bullets: Iterable[tuple[str, str]] = ()):
        parts = [pack_bullet(label, fragment) for label, fragment in bullets]
        self._packed, self._count = "".join(parts).encode(), len(parts)

    @classmethod
    def from_packed(cls, packed: str | bytes, count: int) -> Summary:
        """Return the Summary of count bullets whose packed form (see the class) is already known."""
        summary = cls.__new__(cls)
        summary._packed, summary._count = packed.encode() if isinstance(packed, str) else packed, count
        return summary

    @property
    def html(self) -> str:
        """Return the bullets as sanitized <li> elements, labels in <strong class="label">."""
        return (self._packed.replace(b"\x1d", b'<li><strong class="label">').replace(b"\x1e", b":</strong> ")
                .replace(b"\x1c", b"<li>").replace(b"\x1f", b"</li>\n").decode())

    def __iter__(self) -> Iterator[Bullet]:
        for item in map(bytes.decode, self._packed.split(b"\x1f")[:-1]):  # a caller that stops early decodes no more
            if item[:1] == "\x1d":
                label, _, fragment = item[1:].partition("\x1e")
                yield Bullet(html=fragment, label=html.unescape(label))
            else:
                yield Bullet(html=item[1:])

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> Bullet:
        return tuple(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Summary):
            return self._packed == other._packed
        return isinstance(other, tuple) and tuple(self) == other

    def __hash__(self) -> int:
        return hash(self._packed)

    def __repr__(self) -> str:
        return f"Summary({list(self)!r})"

    def __reduce__(self):
        return (Summary.from_packed, (self._packed, self._count))


@dataclass(frozen=True)
class Paper:
    """One paper of one digest, as the source wrote it."""

    id: str
    title: str
    url: str | None
    thumbnail: str | None = None
    video: str | None = None
    votes: int | None = None
    authors: tuple[str, ...] = ()
    authors_omitted: bool = False
    summary: Summary = Summary()
    extra_html: str = ""
    line: int = 0

    @property
    def authors_text(self) -> str:
        """Return the authors as one line, comma-separated (a page shows them so; Jinja's join filter costs more)."""
        return ", ".join(self.authors)

    def __reduce__(self):
        """Pickle the paper as its field values and its summary's packed form, without field names.

        A cold build pickles every paper for the parse cache and half of them on their way
        from the worker that parsed them: as a dataclass, with its fields' names and a
        nested Summary, that took a third longer.
        """
        d = self.__dict__
        summary = d["summary"]
        return _unpickle_paper, (d["id"], d["title"], d["url"], d["thumbnail"], d["video"], d["votes"], d["authors"],
                                 d["authors_omitted"], summary._packed, summary._count, d["extra_html"], d["line"])


def make_paper(id: str, title: str, url: str | None, thumbnail: str | None, video: str | None, votes: int | None,
               authors: tuple[str, ...], authors_omitted: bool, summary: Summary, extra_html: str, line: int) -> Paper:
    """Return Paper(...) of these fields, made as unpickling makes one.

    The dataclass's __init__ sets each frozen field through object.__setattr__: 2.0 µs a
    paper against 0.7, for the 15,000 papers a cold build of 1,000 digests parses.
    """
    paper = object.__new__(Paper)
    paper.__dict__.update(id=id, title=title, url=url, thumbnail=thumbnail, video=video, votes=votes, authors=authors,
                          authors_omitted=authors_omitted, summary=summary, extra_html=extra_html, line=line)
    return paper


def _unpickle_paper(pid, title, url, thumbnail, video, votes, authors, authors_omitted, packed, count,
                    extra_html, line) -> Paper:
    return make_paper(pid, title, url, thumbnail, video, votes, authors, authors_omitted,
                      Summary.from_packed(packed, count), extra_html, line)


@dataclass(frozen=True)
class Digest:
    """One day's digest."""

    date: dt.date
    published: dt.datetime  # aware, in the site timezone
    title: str
    source: str  # path relative to the content dir, for messages
    papers: tuple[Paper, ...] = ()
    intro_html: str = ""
    lang: str | None = None
    tags: tuple[str, ...] = ()
    draft: bool = False
    description: str = ""
    digest_hash: str = ""  # hash of the source bytes, for caches
    card_hash: str = ""  # hash of what list pages show of the digest (see card_hash)

    @functools.cached_property  # asked for tens of thousands of times per build (links, keys)
    def path(self) -> str:
        """Return the digest's URL path relative to the site root."""
        date = self.date
        return f"{date.year:04d}/{date.month:02d}/{date.day:02d}/"

    @functools.cached_property
    def paper_ids(self) -> tuple[str, ...]:
        """Return the ids of the digest's papers, in order; known without unpickling the papers."""
        return tuple(paper.id for paper in self.papers)

    @functools.cached_property
    def paper_titles(self) -> tuple[str, ...]:
        """Return the titles of the digest's papers, in order; known without unpickling the papers."""
        return tuple(paper.title for paper in self.papers)

    @functools.cached_property
    def paper_votes(self) -> tuple[int | None, ...]:
        """Return the votes of the digest's papers, in order; known without unpickling the papers."""
        return tuple(paper.votes for paper in self.papers)

    def __reduce__(self):
        """Pickle the papers as one nested pickle that is unpickled only when something asks for them.

        A build reads every digest from the parse cache, or from the workers that parsed
        them, but most builds render few of them: the site's model needs only paper_ids, and
        list pages (cards, the top page) the papers' titles and votes.
        """
        state = dict(self.__dict__)
        stored = state.pop("_papers_pickle", None)
        unpickled = state.pop("papers", None)
        if stored is None:
            papers = pickle.dumps(unpickled, protocol=pickle.HIGHEST_PROTOCOL)
        else:
            papers = _stored_bytes(self, stored)
        state["paper_ids"], state["paper_titles"], state["paper_votes"] = self.paper_ids, self.paper_titles, self.paper_votes
        return digest_from_parts, (state, papers)

    def top_papers(self, n: int = 3) -> tuple[CardPaper, ...]:
        """Return the n most-voted papers as list pages show them, ties in source order."""
        votes = self.paper_votes
        ranked = sorted(range(len(votes)), key=lambda i: -(votes[i] or 0))[:n]
        return tuple(CardPaper(self.paper_ids[i], self.paper_titles[i], votes[i], i) for i in ranked)


class CardPaper(NamedTuple):
    """A paper as a list page shows it, made without unpickling its day's papers."""

    id: str
    title: str
    votes: int | None
    position: int  # among its digest's papers


class _PapersOnDemand:
    """Digest.papers of a digest unpickled without them: unpickle them on first use.

    A non-data descriptor: a digest made by its constructor holds its own papers, which win.
    """

    def __get__(self, digest: Digest | None, owner: type | None = None) -> tuple[Paper, ...]:
        if digest is None:
            return ()
        state = digest.__dict__
        try:
            papers = pickle.loads(_stored_bytes(digest, state["_papers_pickle"]))
        except Exception:  # noqa: BLE001 - any damage to the bytes, or a file that cannot give them back
            papers = None
        if not isinstance(papers, tuple):
            raise PapersUnreadable(f"the parsed papers of {digest.source} are damaged")
        state["papers"] = papers  # beside the pickled form, which release_papers goes back to
        return papers


class PapersUnreadable(Exception):
    """A digest's pickled papers cannot be unpickled: the parse cache they came from is damaged."""


Digest.papers = _PapersOnDemand()  # type: ignore[assignment] # after @dataclass, which has taken the default


def release_papers(digests: Iterable[Digest]) -> None:
    """Drop the unpickled papers of digests that hold them pickled too: asked for again, they are unpickled again.

    A render worker does so after each run of pages: it then holds the papers of a few days
    at a time, not of every day it has rendered (at 1,000 digests, the peak of the full
    site's cold build went from 154 to 114 MB, the plain site's from 131 to 94 MB).
    """
    for digest in digests:
        state = digest.__dict__
        if "_papers_pickle" in state:
            state.pop("papers", None)


def digest_parts(digest: Digest) -> tuple[dict, bytes]:
    """Return what digest is made of as the parse cache stores it: its state without papers, and its papers pickled."""
    _, (state, papers) = digest.__reduce__()
    return state, papers


def digest_from_parts(state: dict, papers: bytes | StoredPapers) -> Digest:
    """Return the digest of digest_parts' state and papers, which may stay where they are stored until asked for."""
    digest = object.__new__(Digest)
    digest.__dict__.update(state, _papers_pickle=papers)
    return digest


def _stored_bytes(digest: Digest, stored: bytes | StoredPapers) -> bytes:
    """Return a digest's pickled papers: stored, or read back now from where the parse cache keeps them."""
    if isinstance(stored, bytes):
        return stored
    try:
        return stored.read()
    except (OSError, ValueError) as exc:
        raise PapersUnreadable(f"the parsed papers of {digest.source} cannot be read back: {exc}") from None


class StoredPapers(Protocol):
    """Pickled papers not read yet: read() returns their bytes, or raises OSError or ValueError."""

    def read(self) -> bytes: ...


def card_hash(digest: Digest) -> str:
    """Return a hash of what list pages (home, archive, tags, top) show of digest: all but its summaries, intro and extra text."""
    # One joined string, not the repr of a tuple: a cold build hashes 1,000 digests. A paper's
    # text never holds a C0 control but tab and newline (the parser drops them), and its
    # links are None or non-empty; the digest's own fields, fewer, go in as their repr.
    parts = [repr((digest.date, digest.published, digest.title, digest.source, digest.lang, digest.tags,
                   digest.draft, digest.description))]
    for p in digest.papers:
        parts += (p.id, p.title, p.url or "", p.thumbnail or "", p.video or "", str(p.votes), "\x1e".join(p.authors),
                  "+" if p.authors_omitted else "")
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


class Appearance(NamedTuple):  # a tuple: a build makes one per paper of every digest, faster than a dataclass
    """One day a paper appeared on: a digest and the paper's place among its papers."""

    digest: Digest
    position: int

    @property
    def paper(self) -> Paper:
        """Return the paper as that day's digest has it."""
        return self.digest.papers[self.position]

    @property
    def votes(self) -> int | None:
        """Return the paper's votes on that day, without unpickling the day's papers."""
        return self.digest.paper_votes[self.position]

    @property
    def title(self) -> str:
        """Return the paper's title on that day, without unpickling the day's papers."""
        return self.digest.paper_titles[self.position]


class PaperEntry(NamedTuple):  # a tuple, as Appearance
    """A paper across the whole site: its newest version and every day it appeared."""

    id: str
    appearances: tuple[Appearance, ...]  # oldest first

    @property
    def paper(self) -> Paper:
        """Return the paper as its newest day has it."""
        return self.appearances[-1].paper

    @property
    def path(self) -> str:
        """Return the paper page's URL path relative to the site root."""
        return f"papers/{self.id}/"

    @property
    def votes(self) -> int:
        """Return the most votes the paper had on any day."""
        return max((a.votes or 0) for a in self.appearances)


@dataclass(frozen=True)
class Month:
    """Digests of one month, newest first."""

    year: int
    month: int
    digests: tuple[Digest, ...]

    @property
    def key(self) -> str:
        """Return the month as YYYY-MM."""
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Tag:
    """A tag with its digests, newest first."""

    name: str
    slug: str
    digests: tuple[Digest, ...]

    @property
    def path(self) -> str:
        """Return the tag page's URL path relative to the site root."""
        return f"tags/{self.slug}/"


@dataclass(frozen=True)
class Site:
    """Everything the renderers need: digests newest first and what derives from them."""

    digests: tuple[Digest, ...]
    papers: dict[str, PaperEntry] = field(default_factory=dict)
    tags: tuple[Tag, ...] = ()
    months: tuple[Month, ...] = ()

    def neighbours(self, index: int) -> tuple[Digest | None, Digest | None]:
        """Return (older, newer) digests around digests[index]."""
        older = self.digests[index + 1] if index + 1 < len(self.digests) else None
        newer = self.digests[index - 1] if index > 0 else None
        return older, newer

    @property
    def paper_count(self) -> int:
        """Return how many papers the digests hold, counting repeats."""
        return sum(len(d.paper_ids) for d in self.digests)


def build_site(digests: list[Digest], drafts: bool = False, previous: Site | None = None) -> tuple[Site, list[Problem]]:
    """Return the Site of the digests (drafts only when asked) and the collisions found.

    previous, a Site of the same process's last build, lends its entries of papers on no
    new, changed or removed day: the preview's rebuilds pass it (see _paper_entries).
    """
    problems: list[Problem] = []
    by_date: dict[dt.date, Digest] = {}
    left_out: list[Digest] = []
    for digest in sorted(digests, key=lambda d: d.source):
        if digest.draft and not drafts:
            left_out.append(digest)
            continue
        other = by_date.get(digest.date)
        if other is not None:
            problems.append(Problem(digest.source, 1, f"two digests for {digest.date}: "
                                                       f"{other.source} and {digest.source}"))
            continue
        by_date[digest.date] = digest
    for draft in left_out:  # said now, not first when the preview runs with --drafts
        if draft.date in by_date:
            problems.append(Problem(draft.source, 1, f"draft for {draft.date} shares its date with "
                                                     f"{by_date[draft.date].source}: --drafts will fail", "warning"))
    ordered = tuple(sorted(by_date.values(), key=lambda d: d.date, reverse=True))
    return Site(
        digests=ordered,
        papers=_paper_entries(ordered, previous),
        tags=_tags(ordered),
        months=_months(ordered),
    ), problems


def _paper_entries(digests: tuple[Digest, ...], previous: Site | None = None) -> dict[str, PaperEntry]:
    """Return every paper by id, with the days it appeared on, oldest first (ids in order of first appearance).

    A paper on none of the digests that are not in previous, and on none of previous's
    that are gone, appears on the very same days as before: its entry is previous's. The
    digests are compared as objects, so only a process's own last Site can serve.
    """
    if previous is not None:
        return _paper_entries_since(digests, previous)
    make = Appearance._make  # tuple.__new__ itself: a NamedTuple's own constructor is a Python function
    seen: dict[str, tuple[Appearance, ...]] = {}
    for digest in reversed(digests):
        ids = digest.paper_ids
        for pid, appearance in zip(ids, map(make, zip(repeat(digest), range(len(ids))))):
            found = seen.get(pid)
            seen[pid] = (appearance,) if found is None else found + (appearance,)  # most papers are on one day
    return dict(zip(seen, map(PaperEntry._make, seen.items())))


def _paper_entries_since(digests: tuple[Digest, ...], previous: Site) -> dict[str, PaperEntry]:
    """Return _paper_entries(digests), reusing previous's entries of papers on no changed day (a third of the time)."""
    now = set(map(id, digests))
    before = set(map(id, previous.digests))
    changed = [d for d in digests if id(d) not in before] + [d for d in previous.digests if id(d) not in now]
    if not changed:
        return previous.papers
    if len(digests) == len(previous.digests):
        same = _same_papers_since(digests, previous)
        if same is not None:
            return same
    redone = {pid: [] for digest in changed for pid in digest.paper_ids}
    order: dict[str, None] = {}  # every id, in order of first appearance
    for digest in reversed(digests):
        ids = digest.paper_ids
        order.update(dict.fromkeys(ids))
        if not redone.keys().isdisjoint(ids):
            for position, pid in enumerate(ids):
                if pid in redone:
                    redone[pid].append(Appearance(digest, position))
    old = previous.papers
    return {pid: PaperEntry(pid, tuple(redone[pid])) if pid in redone else old[pid] for pid in order}


def _same_papers_since(digests: tuple[Digest, ...], previous: Site) -> dict[str, PaperEntry] | None:
    """Return _paper_entries(digests) if each digest holds the same papers as previous's of its day (an edited
    summary, say), else None: then every paper keeps its days and its place, and only the edited days' papers
    need entries that point to the new digests."""
    replaced: dict[int, Digest] = {}
    for new, old in zip(digests, previous.digests):
        if new is not old:
            if new.date != old.date or new.paper_ids != old.paper_ids:
                return None
            replaced[id(old)] = new
    papers = dict(previous.papers)
    for new in replaced.values():
        for pid in new.paper_ids:
            entry = papers[pid]
            papers[pid] = PaperEntry(pid, tuple(Appearance(replaced.get(id(a.digest), a.digest), a.position)
                                                for a in entry.appearances))
    return papers


def _tags(digests: tuple[Digest, ...]) -> tuple[Tag, ...]:
    """Return the tags used by the digests, sorted by slug."""
    found: dict[str, tuple[str, list[Digest]]] = {}
    for digest in digests:
        for name in digest.tags:
            slug = slugify(name, max_bytes=60)
            entry = found.setdefault(slug, (name, []))
            if not entry[1] or entry[1][-1] is not digest:
                entry[1].append(digest)
    return tuple(Tag(name, slug, tuple(ds)) for slug, (name, ds) in sorted(found.items()))


def _months(digests: tuple[Digest, ...]) -> tuple[Month, ...]:
    """Return the digests grouped by month, newest first."""
    months: dict[tuple[int, int], list[Digest]] = {}
    for digest in digests:
        months.setdefault((digest.date.year, digest.date.month), []).append(digest)
    return tuple(Month(y, m, tuple(ds)) for (y, m), ds in months.items())
