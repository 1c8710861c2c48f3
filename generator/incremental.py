"""Tell what a build can keep of the last build's output: its days, its paper pages, its day pages' keys.

The last build's record (a SiteWriter's files and keys, and the note a build keeps beside
them) against this build's model: a one-shot build reads the record from disk, the preview
carries it in memory from one rebuild to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .model import Site


@dataclass(frozen=True)
class LastBuild:
    """The last good build into an output: its shared key, its days, its files' keys (and in the preview its model)."""

    theme: str  # shared_key()
    days: dict[str, tuple[str, tuple[str, ...]]]  # digest path -> (digest hash, paper ids), newest first
    produced: dict[str, str]  # rel -> key, of every file still there
    site: Site | None = None  # the preview's, which lends its paper entries to the next model
    pages: PaperPages | None = None  # the paper pages among produced (the preview's; else found in produced)

    @classmethod
    def from_note(cls, note: object, files: dict[str, str]) -> LastBuild | None:
        """Return the last build that a SiteWriter's note (see day_note) and files describe; None if the note is not one."""
        if not (isinstance(note, tuple) and len(note) == 2 and isinstance(note[0], str) and isinstance(note[1], dict)):
            return None
        days = note[1]
        for day in days.values():
            if not (isinstance(day, tuple) and len(day) == 2 and isinstance(day[0], str) and isinstance(day[1], tuple)):
                return None
        return cls(note[0], days, files)


def day_note(theme: str, site: Site) -> tuple[str, dict[str, tuple[str, tuple[str, ...]]]]:
    """Return what a build keeps beside its files' keys, for the next build to tell what it can keep: (theme, days)."""
    return theme, {digest.path: (digest.digest_hash, digest.paper_ids) for digest in site.digests}


class PaperPages(NamedTuple):
    """The paper pages of an output: a paper's only file is papers/<id>/index.html."""

    files: dict[str, str]  # rel -> key
    ids: set[str]  # the ids they are pages of


def paper_pages(produced: dict[str, str], unchanged: Unchanged | None = None) -> PaperPages:
    """Return the paper pages among a build's produced files; given what it kept (unchanged), look only at the rest."""
    if unchanged is None or unchanged.redo is None:
        files = {rel: key for rel, key in produced.items() if rel[:7] == "papers/" and rel[-11:] == "/index.html"}
        return PaperPages(files, {rel[7:-11] for rel in files})
    files, ids = dict(unchanged.papers), set(unchanged.paper_ids)
    for pid in unchanged.redo:
        rel = f"papers/{pid}/index.html"
        if rel in produced:
            files[rel] = produced[rel]
            ids.add(pid)
    return PaperPages(files, ids)


class Unchanged(NamedTuple):
    """What a build can keep of the last one's output (see unchanged_pages)."""

    papers: dict[str, str]  # rel -> key of the paper pages kept as they are
    paper_ids: set[str]  # the ids of those papers
    redo: set[str] | None  # the ids of the papers whose pages are rendered again (None: all)
    days: dict[str, str]  # rel -> key of the day pages whose key is known


def unchanged_pages(last: LastBuild | None, note: tuple[str, dict], site: Site) -> Unchanged:
    """Return the paper pages this build can keep as they are, and the day pages' keys it can keep.

    note is this build's day_note: its theme and its days.
    A digest is the same as in the last build when its path and the hash of its bytes are
    (the theme, the same shared_key, covers the code and the config that parsed it).
    A paper page is made from the theme and the digests the paper appeared in: when the
    theme is the same, every paper of no new, changed or removed digest keeps its page if
    the file is still there; all other papers' pages are rendered. A day page's key hashes
    the theme, its digest, its neighbours' paths and titles and the other days of its
    papers: when no day was added or removed, a page whose digest and neighbours are the
    same as before, none of whose papers is on a changed day, keeps its key. At 1,000
    digests, computing the 15,000 paper keys and 1,000 day keys again took a quarter of
    a build that changes one digest.
    """
    theme, now = note
    if last is None or last.theme != theme:
        return Unchanged({}, set(), None, {})
    before = last.days
    missing = ("", ())
    touched = [ids for path, (sha, ids) in before.items() if not sha or now.get(path, missing)[0] != sha]  # old
    touched += [ids for path, (sha, ids) in now.items() if not sha or before.get(path, missing)[0] != sha]  # new
    papers = {pid for ids in touched for pid in ids}
    untouched = site.papers.keys() - papers
    pages = last.pages or paper_pages(last.produced)
    kept_ids = pages.ids - papers
    if kept_ids <= untouched:  # the last pages but the touched papers' (the preview's 15,000: a copy, not a loop)
        kept = dict(pages.files)
        for pid in pages.ids & papers:
            del kept[f"papers/{pid}/index.html"]
    else:  # a page of a paper on no day, which no day's change explains: never expected, but not kept
        kept_ids &= untouched
        kept = {rel: key for rel, key in pages.files.items() if rel[7:-11] in kept_ids}
    redo: set[str] | None = site.papers.keys() & papers  # the touched papers still on the site
    if not kept:  # none to keep (or no paper pages at all)
        redo = None
    elif len(kept) < len(untouched):  # pages gone from the output since: made again
        redo |= untouched - kept_ids
    paths = list(now)  # newest first, as site.digests
    if list(before) != paths:
        return Unchanged(kept, kept_ids, redo, {})
    redone = set()  # changed days and their neighbours, and the days of the changed days' papers
    for index, path in enumerate(paths):
        if not now[path][0] or before[path][0] != now[path][0]:
            redone.update(paths[max(index - 1, 0):index + 2])
    for pid in papers:
        entry = site.papers.get(pid)
        if entry is not None:
            redone.update(appearance.digest.path for appearance in entry.appearances)
    day_keys = {}
    for path in paths:
        rel = path + "index.html"
        if path not in redone and rel in last.produced:
            day_keys[rel] = last.produced[rel]
    return Unchanged(kept, kept_ids, redo, day_keys)
