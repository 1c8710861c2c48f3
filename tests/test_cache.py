"""The caches only ever speed a build up: same bytes with or without them, and a broken,
stale or foreign cache is ignored."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import digest_text, write_site
from generator import build as build_module, cache as cache_mod, workers
from generator.build import build
from generator.incremental import LastBuild, PaperPages, day_note, paper_pages, unchanged_pages
from generator.cache import ParseCache, read_shard, write_shard
from generator.model import build_site, release_papers
from generator.parse import parse_digest
from generator.problems import BuildError
from generator.write import missing_recorded
from generator.render import also_on
from test_build import tree_hashes


@pytest.fixture
def site(tmp_path):
    return write_site(tmp_path / "s", {f"2024-03-{d:02d}.md": digest_text(f"2024-03-{d:02d}") for d in range(1, 9)})


def test_cached_and_uncached_builds_are_identical(site, tmp_path):
    build(site, output_dir=tmp_path / "uncached", use_cache=False)
    build(site, output_dir=tmp_path / "cached")  # fills the caches
    build(site, output_dir=tmp_path / "cached2")  # reads them
    assert tree_hashes(tmp_path / "uncached") == tree_hashes(tmp_path / "cached") == tree_hashes(tmp_path / "cached2")


def test_second_build_with_nothing_changed_does_nothing(site, monkeypatch):
    time.sleep(0.15)  # older than a tick of the file clock, so the sources' stamps can be trusted
    build(site)
    assert reads_during(site, monkeypatch) == []  # stopped after a stat of each source
    report = build(site)
    assert report.written == 0 and report.files == report.unchanged > 20


def test_command_line_build_with_nothing_changed_loads_no_pipeline(site):
    """Jinja, the parser and the model are most of a no-change build's time: it needs none of them."""
    command = [sys.executable, "-X", "importtime", "-m", "generator", "build", "--config", str(site.config_path)]
    first = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "generator.build" in first.stderr and "jinja2" in first.stderr  # the import log names them when loaded
    time.sleep(0.15)  # older than a tick of the file clock, so the sources' stamps can be trusted
    subprocess.run(command, capture_output=True, check=True)  # now with stamps it can trust
    second = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "(0 written," in second.stdout
    loaded = {line.rsplit("|", 1)[-1].strip() for line in second.stderr.splitlines() if line.startswith("import time:")}
    assert "generator.fresh" in loaded
    assert not loaded & {"generator.build", "generator.parse", "generator.model", "generator.render", "jinja2"}


def test_corrupt_caches_are_ignored(site, tmp_path):
    build(site, output_dir=tmp_path / "good", use_cache=False)
    build(site)
    for path in site.cache_dir.rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x80\x04garbage" + os.urandom(64))
    path = site.content_dir / "2024-03-02.md"  # and force real work
    path.write_text(path.read_text() + "\n- 하나 더\n", encoding="utf-8")
    build(site)
    build(site, output_dir=tmp_path / "good", use_cache=False)
    assert tree_hashes(site.output_dir) == tree_hashes(tmp_path / "good")


def test_stale_cache_from_other_code_is_ignored(site):
    build(site)
    key = ParseCache.key_for(site.timezone)
    shard = next(path for path in (site.cache_dir / "parse").glob("*.pickle") if read_shard(path, key))
    entries = read_shard(shard, key)
    bogus = {rel: (sha, None, (), stamp) for rel, (sha, _, _, stamp) in entries.items()}  # "parsed to nothing"
    write_shard(shard, "another-version:UTC", bogus)
    assert not read_shard(shard, key) and read_shard(shard, "another-version:UTC")
    for record in site.cache_dir.glob("fresh-*.pickle"):
        record.unlink()
    report = build(site)
    assert report.digests == 8


def test_cache_entry_for_other_bytes_is_not_used(tmp_path):
    cache = ParseCache.open(tmp_path, "UTC")
    cache.put("2024-03-01.md", "sha-of-old-bytes", None, [])
    cache.save()
    cache = ParseCache.open(tmp_path, "UTC")
    assert cache.lookup("2024-03-01.md", "sha-of-new-bytes") is None
    assert cache.lookup("2024-03-01.md", "sha-of-old-bytes") == (None, [])


def test_edit_after_fresh_build_is_picked_up(site):
    build(site)
    path = site.content_dir / "2024-03-05.md"
    path.write_text(path.read_text().replace("첫 번째 요약", "바뀐 요약"), encoding="utf-8")
    report = build(site)
    assert report.written >= 1
    assert "바뀐 요약" in (site.output_dir / "2024/03/05/index.html").read_text()


@pytest.mark.parametrize("rel", ["2024/03/05/index.html", "feed.xml", "papers/2403.00001/index.html"])
def test_deleting_an_output_file_makes_the_build_restore_it(site, rel):
    time.sleep(0.15)  # so that nothing but the missing file stops the build from ending early
    build(site)
    (site.output_dir / rel).unlink()
    report = build(site)
    assert (site.output_dir / rel).is_file() and report.written == 1


def test_fork_call_returns_what_a_child_computed_or_none_if_it_failed(monkeypatch):
    # another test's threads (the browser tests' Playwright) would make fork_call run nothing
    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)
    parent = os.getpid()
    result = workers.fork_call(lambda: (os.getpid() != parent, [1, 2]))
    assert result() == (True, [1, 2]) and result() == (True, [1, 2])  # reaped once, kept
    big = "x" * (4 * workers.PIPE_BYTES)  # more than a pipe holds before the parent reads
    assert workers.fork_call(lambda: big)() == big

    def fail():
        raise ValueError("no")

    assert workers.fork_call(fail)() is None


@pytest.mark.parametrize("ahead", ["same record", "other record", "none"])
def test_the_writer_believes_the_check_done_ahead_only_for_the_record_it_reads(site, ahead, monkeypatch):
    time.sleep(0.15)  # as above: only the missing file makes the second build do anything
    build(site)
    rel = "2024/03/05/index.html"
    (site.output_dir / rel).unlink()
    version, missing = missing_recorded(site.output_dir, site.cache_dir)
    assert missing == [rel] and version is not None
    # a check ahead that found nothing missing: believed for the record it read, not for another
    told = {"same record": (version, []), "other record": ((0, 0, 0), []), "none": None}[ahead]
    monkeypatch.setattr(build_module, "fork_call", lambda fn: lambda: told)
    monkeypatch.setattr(build_module, "CHECK_AHEAD_BYTES", 0)  # checked ahead however small the site
    build(site)
    assert (site.output_dir / rel).is_file() == (ahead != "same record")


def test_a_small_output_is_checked_in_the_process_without_a_fork(site, monkeypatch):
    build(site)
    (site.output_dir / "feed.xml").unlink()
    forked = []
    monkeypatch.setattr(build_module, "fork_call", lambda fn: forked.append(fn) or (lambda: None))
    build(site)
    assert not forked and (site.output_dir / "feed.xml").is_file()
    monkeypatch.setattr(build_module, "CHECK_AHEAD_BYTES", 0)
    (site.output_dir / "feed.xml").unlink()
    build(site)
    assert len(forked) == 1 and (site.output_dir / "feed.xml").is_file()


def test_parallel_and_inline_builds_are_identical(site, tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "worker_count", lambda items: 1)
    build(site, output_dir=tmp_path / "inline", use_cache=False)
    monkeypatch.setattr(workers, "worker_count", lambda items: 2 if items > 1 else 1)
    build(site, output_dir=tmp_path / "forked", use_cache=False)
    assert tree_hashes(tmp_path / "inline") == tree_hashes(tmp_path / "forked")


@pytest.mark.parametrize("count", [1, 65, 1000, 1001])
def test_fork_map_hands_out_every_item_once_in_runs(count):
    parent = os.getpid()
    firsts = []

    def work(share):
        time.sleep(0.002)  # long enough that the child joins in before the parent has taken every run
        return [(i, os.getpid()) for i in share]

    results = workers.fork_map(work, list(range(count)), jobs=2, first=lambda: firsts.append(os.getpid()))
    assert [i for i, _ in results] == list(range(count))
    assert firsts == [parent]  # first runs once, in the parent
    if count >= 1000:  # both processes took runs
        assert len({pid for _, pid in results}) == 2


def test_fork_map_raises_what_first_raises():
    def fail():
        raise OSError("no")

    with pytest.raises(OSError):
        workers.fork_map(lambda share: list(share), list(range(100)), jobs=2, first=fail)


def test_fork_map_keeps_order_and_raises_worker_errors():
    items = list(range(10))
    assert workers.fork_map(lambda share: [i * i for i in share], items, jobs=3) == [i * i for i in items]

    def fail(share):
        if 7 in share:
            raise BuildError([])
        return list(share)

    with pytest.raises(BuildError):
        workers.fork_map(fail, items, jobs=2)


def test_fork_map_carries_results_larger_than_a_pipe_holds():
    parent = os.getpid()

    def work(share):
        time.sleep(0.002)
        return [(i, os.getpid(), str(i) * 300_000) for i in share]  # a run of 4 items: megabytes to send

    results = workers.fork_map(work, list(range(256)), jobs=2)
    assert [(i, text) for i, _, text in results] == [(i, str(i) * 300_000) for i in range(256)]
    assert {pid for _, pid, _ in results} - {parent}  # some came from the child


def test_a_worker_goes_on_while_the_parent_has_yet_to_read_its_results(tmp_path):
    """A child whose results fill the pipe keeps working: it does not wait for the parent to read."""
    parent = os.getpid()
    items = list(range(64))  # 64 runs of one item: the child sends 63 x 400 KB, many times what a pipe holds
    started, done = tmp_path / "parent-started", tmp_path / "child-done"
    done.mkdir()
    waited = []

    def wait_for(ready):
        deadline = time.monotonic() + 20
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.01)

    def work(share):
        if os.getpid() == parent and not waited:  # the parent's first run: wait for the child to do all the others
            started.touch()
            wait_for(lambda: len(os.listdir(done)) == len(items) - 1)
            waited.append(len(os.listdir(done)))
        elif os.getpid() != parent:
            wait_for(started.exists)  # so that the parent surely takes a run
            (done / str(share[0])).touch()
        return [str(i) * 400_000 for i in share]

    results = workers.fork_map(work, items, jobs=2)
    assert results == [str(i) * 400_000 for i in items]
    assert waited == [len(items) - 1]  # the child finished every other run before the parent read any


def test_a_workers_results_reach_the_parent_while_it_works_on(tmp_path, monkeypatch):
    """A run's results that outgrow the pipe are written while the child works on the next
    run, and taken in by the parent as they arrive: not held back until the child sends again."""
    parent = os.getpid()
    marker = tmp_path / "received"
    children_runs = []

    def work(share):
        child_waited = None
        if os.getpid() != parent:
            if children_runs:  # after its first run: wait until the parent has received a run of the child's
                deadline = time.monotonic() + 20
                while not marker.exists() and time.monotonic() < deadline:
                    time.sleep(0.01)
                child_waited = marker.exists()
            children_runs.append(share[0])
        return [(os.getpid(), child_waited, bytes([i]) * 2_500_000) for i in share]  # a run: over twice a pipe

    received = []
    take = workers._Inbox.take

    def taken(inbox, block):
        runs = take(inbox, block)
        received.extend(results for _, results in runs)
        if runs:
            marker.touch()
        return runs

    monkeypatch.setattr(workers._Inbox, "take", taken)
    results = workers.fork_map(work, list(range(16)), jobs=2)
    assert [data for _, _, data in results] == [bytes([i]) * 2_500_000 for i in range(16)]
    from_child = [r for r in results if r[0] != parent]
    assert from_child and sum(len(run) for run in received) == len(from_child)  # only the child's, each once
    waits = [waited for _, waited, _ in from_child]
    assert waits.count(None) == 1 and waits.count(True) == len(waits) - 1  # None: the child's first run


def test_fork_map_reports_a_worker_that_dies():
    parent = os.getpid()

    def work(share):
        if os.getpid() != parent:
            os._exit(3)  # killed mid-run, say: no result, no error sent
        time.sleep(0.01)
        return list(share)

    with pytest.raises(RuntimeError, match="worker died"):
        workers.fork_map(work, list(range(200)), jobs=2)


def test_template_error_in_a_worker_names_the_template(site, tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "worker_count", lambda items: 2 if items > 1 else 1)
    templates = site.root / "templates"
    templates.mkdir()
    (templates / "paper.html").write_text('{% extends "base.html" %}\n{% block content %}{{ nope() }}{% endblock %}\n')
    with pytest.raises(BuildError) as caught:
        build(site, use_cache=False)
    assert str(caught.value.problems[-1]).startswith("templates/paper.html:2: error: template error")


def reads_during(site, monkeypatch, **build_args):
    """Build site and return the content files the build read."""
    from generator import build as build_mod
    read = []
    original = build_mod.read_source
    monkeypatch.setattr(build_mod, "read_source", lambda source: read.append(source.rel) or original(source))
    build(site, **build_args)
    monkeypatch.setattr(build_mod, "read_source", original)
    return read


def test_files_untouched_since_the_last_build_are_not_read_again(site, monkeypatch):
    time.sleep(0.15)  # older than a tick of the file clock, so their stamps can be trusted
    build(site)
    edited = site.content_dir / "2024-03-05.md"
    edited.write_text(digest_text("2024-03-05", [("2403.00009", "Edited")]), encoding="utf-8")
    read = reads_during(site, monkeypatch, output_dir=site.root / "other")  # another output: no early stop
    assert read == ["2024-03-05.md"]
    assert "Edited" in (site.root / "other/2024/03/05/index.html").read_text()


def test_same_size_rewrite_with_the_old_mtime_is_still_seen(site, monkeypatch):
    time.sleep(0.15)
    build(site)
    path = site.content_dir / "2024-03-05.md"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    changed = text.replace("Daily", "Dairy", 1)
    assert len(changed) == len(text) and changed != text
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back; the change time cannot be
    time.sleep(0.15)
    assert reads_during(site, monkeypatch) == ["2024-03-05.md"]
    assert "Dairy" in (site.output_dir / "2024/03/05/index.html").read_text()


def test_a_file_written_just_before_a_build_is_read_again_next_time(site, monkeypatch):
    time.sleep(0.15)
    build(site)
    path = site.content_dir / "2024-03-05.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    build(site)  # within a tick of the write: its stamp is not trusted
    assert reads_during(site, monkeypatch, output_dir=site.root / "other") == ["2024-03-05.md"]


def test_preview_rebuilds_with_a_memo_match_a_build_from_scratch(site, tmp_path):
    from generator.build import BuildMemo
    memo = BuildMemo()
    preview = tmp_path / "preview"
    build(site, output_dir=preview, memo=memo)
    content = site.content_dir
    edits = [
        lambda: (content / "2024-03-05.md").write_text(  # a paper dropped, one renamed, one added
            digest_text("2024-03-05", [("2403.00001", "Renamed"), ("2403.09999", "New one")]), encoding="utf-8"),
        lambda: (content / "2024-03-09.md").write_text(digest_text("2024-03-09"), encoding="utf-8"),  # a new day
        lambda: (content / "2024-03-02.md").unlink(),  # a day removed
        lambda: (content / "2024-03-03.md").write_text(  # a paper moves to another day
            digest_text("2024-03-03", [("2403.00002", "Paper two of 2024-03-03"), ("2403.00077", "Moved")]),
            encoding="utf-8"),
    ]
    for number, edit in enumerate(edits):
        edit()
        build(site, output_dir=preview, memo=memo)
        scratch = tmp_path / f"scratch{number}"
        build(site, output_dir=scratch, use_cache=False)
        assert tree_hashes(preview) == tree_hashes(scratch), number
    bad = content / "2024-03-06.md"
    good = bad.read_text(encoding="utf-8")
    bad.write_text("## Daily Papers (2024-03-07)\n", encoding="utf-8")  # the date disagrees with the file name
    with pytest.raises(BuildError):
        build(site, output_dir=preview, memo=memo)
    bad.write_text(good.replace("Paper one", "Paper uno"), encoding="utf-8")
    build(site, output_dir=preview, memo=memo)
    build(site, output_dir=tmp_path / "scratch-last", use_cache=False)
    assert tree_hashes(preview) == tree_hashes(tmp_path / "scratch-last")


PAPER_IDS = [f"2403.{n:05d}" for n in range(1, 7)]
day_edits = st.lists(st.tuples(st.integers(1, 6), st.none() | st.just("retitled")
                               | st.lists(st.sampled_from(PAPER_IDS), unique=True, max_size=4)),
                     min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(start=st.lists(st.lists(st.sampled_from(PAPER_IDS), unique=True, max_size=4), min_size=6, max_size=6),
       edits=day_edits)
def test_the_preview_model_reuses_entries_and_equals_a_model_made_afresh(start, edits):
    """After any run of edits (a day's papers replaced, in any order, or retitled, or the day removed),
    the papers of a model made from the last one are those of a model made from nothing, in the same order."""
    def day(number: int, ids: list[str], title: str = "on"):
        date = f"2024-03-{number:02d}"
        return parse_digest(digest_text(date, [(pid, f"{pid} {title} {date}") for pid in ids]), f"{date}.md")[0]

    days = {number: day(number, ids) for number, ids in enumerate(start, 1)}
    site, _ = build_site(list(days.values()))
    for round_, (number, ids) in enumerate(edits):
        old = days.pop(number, None)
        if ids == "retitled":  # the same papers, other text: each day keeps its papers
            if old is not None:
                days[number] = day(number, list(old.paper_ids), f"retitled {round_}")
        elif ids is not None:
            days[number] = day(number, ids)
        made, _ = build_site(list(days.values()), previous=site)
        fresh, _ = build_site(list(days.values()))
        assert list(made.papers.items()) == list(fresh.papers.items())
        touched = {pid for digest in (old, days.get(number)) if digest for pid in digest.paper_ids}
        assert all(made.papers[pid] is site.papers[pid] for pid in made.papers.keys() - touched)
        site = made


def test_preview_keeps_day_keys_only_where_nothing_they_hash_changed(tmp_path):
    from generator.build import BuildMemo
    days = {f"2024-03-{day:02d}.md": digest_text(f"2024-03-{day:02d}", [(f"2403.{day:05d}", f"Only on day {day}")])
            for day in range(1, 9)}
    for day in (2, 6):  # one paper on two days: each day page links the other
        days[f"2024-03-{day:02d}.md"] = digest_text(f"2024-03-{day:02d}", [(f"2403.{day:05d}", "Own"), ("2403.77777", "Both")])
    days["2024-03-05.md"] = digest_text("2024-03-05", [], intro="A quiet day.")  # no papers to notice it by
    config = write_site(tmp_path / "s", days)
    memo = BuildMemo()
    preview = tmp_path / "preview"
    build(config, output_dir=preview, memo=memo)
    content = config.content_dir
    edits = [
        ("2024-03-04.md", [("2403.00004", "Renamed")]),  # only its own day changes
        ("2024-03-06.md", [("2403.00006", "Own")]),  # the shared paper leaves: 2024-03-02 loses its link
        ("2024-03-08.md", [("2403.00008", "Own"), ("2403.77777", "Both")]),  # and comes back on another day
    ]
    edits.append(("2024-03-05.md", []))
    for number, (name, papers) in enumerate(edits):
        (content / name).write_text(digest_text(name[:-3], papers, intro="Still quiet." if not papers else ""),
                                    encoding="utf-8")
        build(config, output_dir=preview, memo=memo)
        assert len(memo.last.days) == 8
        assert memo.last.pages == paper_pages(memo.last.produced)  # carried from build to build, not looked for
        build(config, output_dir=tmp_path / f"scratch{number}", use_cache=False)
        assert tree_hashes(preview) == tree_hashes(tmp_path / f"scratch{number}"), number
    assert "2024-03-08" in (preview / "2024/03/02/index.html").read_text()


def test_a_kept_paper_page_is_of_a_paper_still_on_the_site():
    days = [replace(parse_digest(digest_text(f"2024-03-0{n}", [(f"2403.0000{n}", "Own")]), f"2024-03-0{n}.md")[0],
                    digest_hash=f"hash{n}") for n in (1, 2)]
    site, _ = build_site(days)
    note = day_note("theme", site)
    files = {f"papers/{pid}/index.html": "key" for pid in ("2403.00001", "2403.00002", "ghost")}
    last = LastBuild("theme", dict(note[1]), dict(files), pages=PaperPages(files, {"2403.00001", "2403.00002", "ghost"}))
    unchanged = unchanged_pages(last, note, site)  # no day changed, yet a page of a paper on none of them
    assert sorted(unchanged.papers) == ["papers/2403.00001/index.html", "papers/2403.00002/index.html"]
    assert unchanged.paper_ids == {"2403.00001", "2403.00002"}


def test_one_shot_builds_keep_what_no_edit_touched_and_equal_builds_from_nothing(tmp_path):
    """The preview's edits above, as separate `digest build`s: each output equals one built from nothing."""
    days = {f"2024-03-{day:02d}.md": digest_text(f"2024-03-{day:02d}", [(f"2403.{day:05d}", f"Only on day {day}")])
            for day in range(1, 9)}
    for day in (2, 6):
        days[f"2024-03-{day:02d}.md"] = digest_text(f"2024-03-{day:02d}", [(f"2403.{day:05d}", "Own"), ("2403.77777", "Both")])
    config = write_site(tmp_path / "s", days)
    build(config)
    edits = [
        ("2024-03-04.md", [("2403.00004", "Renamed")]),
        ("2024-03-06.md", [("2403.00006", "Own")]),
        ("2024-03-08.md", [("2403.00008", "Own"), ("2403.77777", "Both")]),
        ("2024-03-09.md", [("2403.00009", "A new day"), ("2403.77777", "Both")]),  # a day added: no day keys kept
        ("2024-03-01.md", None),  # and one removed
    ]
    for number, (name, papers) in enumerate(edits):
        if papers is None:
            (config.content_dir / name).unlink()
        else:
            (config.content_dir / name).write_text(digest_text(name[:-3], papers), encoding="utf-8")
        build(config)
        build(config, output_dir=tmp_path / f"scratch{number}", use_cache=False)
        assert tree_hashes(config.output_dir) == tree_hashes(tmp_path / f"scratch{number}"), number
    assert "2024-03-09" in (config.output_dir / "2024/03/02/index.html").read_text()
    assert not (config.output_dir / "papers/2403.00001").exists()


def test_one_shot_build_after_one_edit_computes_only_the_keys_it_must(tmp_path, monkeypatch):
    from generator import build as build_module
    site = write_site(tmp_path / "s", {f"2024-03-{day:02d}.md": digest_text(f"2024-03-{day:02d}", [(f"2403.{day:05d}", "Own")])
                                       for day in range(1, 9)})
    build(site)
    keyed = []
    real = build_module.paper_page_key
    monkeypatch.setattr(build_module, "paper_page_key", lambda theme, entry: keyed.append(entry.id) or real(theme, entry))
    path = site.content_dir / "2024-03-05.md"
    path.write_text(digest_text("2024-03-05", [("2403.00005", "Renamed")]), encoding="utf-8")
    report = build(site)
    assert keyed == ["2403.00005"]  # the others, the same papers on unchanged days, keep their pages
    assert report.written >= 2 and (site.output_dir / "papers/2403.00005/index.html").read_text().count("Renamed")
    build(site, output_dir=tmp_path / "scratch", use_cache=False)
    assert tree_hashes(site.output_dir) == tree_hashes(tmp_path / "scratch")


@pytest.mark.parametrize("note", [None, ("theme", []), ("theme", {"2024/03/05/": ("sha", "not-a-tuple")}), "garbage"])
def test_a_malformed_note_in_the_output_record_means_a_full_render(site, tmp_path, note):
    build(site)
    for record in site.cache_dir.glob("output-*.pickle"):
        with open(record, "rb") as handle:
            files, _ = pickle.load(handle)
        with open(record, "wb") as handle:
            pickle.dump((files, note), handle)
    path = site.content_dir / "2024-03-05.md"
    path.write_text(path.read_text() + "\n- 하나 더\n", encoding="utf-8")
    build(site)
    build(site, output_dir=tmp_path / "scratch", use_cache=False)
    assert tree_hashes(site.output_dir) == tree_hashes(tmp_path / "scratch")


def test_preview_keeps_the_day_keys_of_days_away_from_a_change(tmp_path, monkeypatch):
    """A changed day's neighbours (whose keys hash its title) and the days of its papers get new keys."""
    from generator import build as build_module
    from generator.build import BuildMemo
    days = {f"2024-03-0{day}.md": digest_text(f"2024-03-0{day}", [(f"2403.0000{day}", f"Only on day {day}")])
            for day in range(1, 6)}
    days["2024-03-05.md"] = digest_text("2024-03-05", [("2403.00005", "Own"), ("2403.77777", "Also on day 1")])
    days["2024-03-01.md"] = digest_text("2024-03-01", [("2403.77777", "Also on day 1")])
    config = write_site(tmp_path / "s", days)
    memo = BuildMemo()
    build(config, output_dir=tmp_path / "preview", memo=memo)
    kept = []
    real = build_module.unchanged_pages
    monkeypatch.setattr(build_module, "unchanged_pages", lambda *args: kept.append(sorted(real(*args).days)) or real(*args))
    for day, papers in ((3, [("2403.00003", "Renamed")]), (5, [("2403.00005", "Own, renamed"), ("2403.77777", "Also on day 1")])):
        (config.content_dir / f"2024-03-0{day}.md").write_text(digest_text(f"2024-03-0{day}", papers), encoding="utf-8")
        build(config, output_dir=tmp_path / "preview", memo=memo)
    assert kept == [["2024/03/01/index.html", "2024/03/05/index.html"], ["2024/03/02/index.html", "2024/03/03/index.html"]]


def test_preview_renders_feed_content_only_for_changed_digests(site, tmp_path, monkeypatch):
    from generator import feeds
    from generator.build import BuildMemo
    rendered = []
    render = feeds.render_feed_content
    monkeypatch.setattr(feeds, "render_feed_content", lambda env, digest: rendered.append(digest.path) or render(env, digest))
    memo = BuildMemo()
    build(site, output_dir=tmp_path / "preview", memo=memo)
    assert rendered == ["2024/03/08/", "2024/03/07/", "2024/03/06/"]  # the feeds' newest three
    rendered.clear()
    path = site.content_dir / "2024-03-07.md"
    path.write_text(path.read_text(encoding="utf-8").replace("첫 번째 요약", "바뀐 요약"), encoding="utf-8")
    build(site, output_dir=tmp_path / "preview", memo=memo)
    assert rendered == ["2024/03/07/"]
    build(site, output_dir=tmp_path / "scratch", use_cache=False)
    assert tree_hashes(tmp_path / "preview") == tree_hashes(tmp_path / "scratch")


def test_one_shot_build_renders_feed_content_only_for_changed_digests(tmp_path, monkeypatch):
    """Feed contents rendered by build workers come back and are kept: the next build renders only the edited day's."""
    from generator import feeds
    front = "tags: [agents]"
    config = write_site(tmp_path / "s", {f"2024-03-{d:02d}.md": digest_text(f"2024-03-{d:02d}", front=front if d in (2, 7) else "")
                                         for d in range(1, 9)})
    monkeypatch.setattr(workers, "worker_count", lambda items: 2 if items > 1 else 1)  # rendered by forked workers
    build(config)
    monkeypatch.setattr(workers, "worker_count", lambda items: 1)  # now in this process, where it can be seen
    rendered = []
    render = feeds.render_feed_content
    monkeypatch.setattr(feeds, "render_feed_content", lambda env, digest: rendered.append(digest.path) or render(env, digest))
    path = config.content_dir / "2024-03-07.md"
    path.write_text(path.read_text(encoding="utf-8").replace("첫 번째 요약", "바뀐 요약"), encoding="utf-8")
    build(config)
    assert rendered == ["2024/03/07/"]  # in the site's feed and in the agents feed, rendered once
    with open(config.cache_dir / "feeds.pickle", "rb") as handle:
        _, contents = pickle.load(handle)
    assert sorted(path for path, _ in contents) == ["2024/03/02/", "2024/03/06/", "2024/03/07/", "2024/03/08/"]
    assert "바뀐 요약" in contents[next(name for name in contents if name[0] == "2024/03/07/")]
    build(config, output_dir=tmp_path / "scratch", use_cache=False)
    assert tree_hashes(config.output_dir) == tree_hashes(tmp_path / "scratch")


@pytest.mark.parametrize("stale", ["other key", "not text"])
def test_stale_or_damaged_feed_contents_are_not_used(site, tmp_path, stale):
    build(site)
    with open(site.cache_dir / "feeds.pickle", "rb") as handle:
        key, contents = pickle.load(handle)
    assert len(contents) == 3  # the feeds' newest three days
    if stale == "other key":  # as after a change of code, theme or config
        stored = ("another-key", {name: "<p>STALE</p>" for name in contents})
    else:
        stored = (key, {name: b"<p>STALE</p>" for name in contents})
    with open(site.cache_dir / "feeds.pickle", "wb") as handle:
        pickle.dump(stored, handle)
    path = site.content_dir / "2024-03-08.md"  # the feed is made again: its other two days would come from the file
    path.write_text(path.read_text(encoding="utf-8") + "\n- 하나 더\n", encoding="utf-8")
    build(site)
    assert "하나 더" in (site.output_dir / "feed.xml").read_text(encoding="utf-8")
    build(site, output_dir=tmp_path / "scratch", use_cache=False)
    assert tree_hashes(site.output_dir) == tree_hashes(tmp_path / "scratch")
    assert "STALE" not in (site.output_dir / "feed.xml").read_text(encoding="utf-8")


def test_saving_the_parse_cache_twice_writes_it_once(tmp_path):
    cache = ParseCache.open(tmp_path, "UTC")
    cache.put("2024-03-01.md", "sha", None, [])
    cache.save()
    shards = list((tmp_path / "parse").glob("*.pickle"))
    before = {path: path.stat().st_mtime_ns for path in shards}
    time.sleep(0.01)
    cache.save()
    assert len(shards) == 1 and {path: path.stat().st_mtime_ns for path in shards} == before
    assert ParseCache.open(tmp_path, "UTC").lookup("2024-03-01.md", "sha") == (None, [])


def test_the_parse_cache_reads_a_digests_papers_only_when_asked(tmp_path):
    papers = {day: [(f"2403.0000{day}", f"Paper {day}"), ("2403.00009", "Both")] for day in (1, 2)}
    digests = {day: parse_digest(digest_text(f"2024-03-0{day}", papers[day]), f"2024-03-0{day}.md")[0] for day in (1, 2)}
    cache = ParseCache.open(tmp_path, "UTC")
    for day, digest in digests.items():
        cache.put(f"2024-03-0{day}.md", f"sha{day}", digest, [])
    cache.save()
    loaded = ParseCache.open(tmp_path, "UTC")
    copies = {day: loaded.lookup(f"2024-03-0{day}.md", f"sha{day}")[0] for day in digests}
    for copy in copies.values():  # read back without their papers: those stay in the file
        assert "papers" not in vars(copy) and not isinstance(vars(copy)["_papers_pickle"], bytes)
        assert copy.paper_ids == ("2403.0000%d" % copy.date.day, "2403.00009")
    # a later build replaces the shards: what was loaded before still reads its own papers
    for day, digest in digests.items():
        cache.put(f"2024-03-0{day}.md", f"other{day}", replace(digest, title="Replaced"), [])
    cache.save()
    assert {day: copy.papers for day, copy in copies.items()} == {day: d.papers for day, d in digests.items()}
    assert copies == digests
    again = ParseCache.open(tmp_path, "UTC")
    assert again.lookup("2024-03-01.md", "sha1") is None and again.lookup("2024-03-01.md", "other1")[0].title == "Replaced"
    # sent to another process (pickled), a digest whose papers are still in the file carries them
    copy = ParseCache.open(tmp_path, "UTC").lookup("2024-03-02.md", "other2")[0]
    assert pickle.loads(pickle.dumps(copy)).papers == digests[2].papers


def test_without_reading_by_offset_the_parse_cache_reads_the_papers_with_the_digests(tmp_path, monkeypatch):
    digest, _ = parse_digest(digest_text("2024-03-01", [("2403.00001", "One"), ("2403.00002", "Two")]), "2024-03-01.md")
    cache = ParseCache.open(tmp_path, "UTC")
    cache.put("2024-03-01.md", "sha", digest, [])
    cache.save()
    monkeypatch.delattr(os, "pread")  # as on Windows
    copy = ParseCache.open(tmp_path, "UTC").lookup("2024-03-01.md", "sha")[0]
    assert isinstance(vars(copy)["_papers_pickle"], bytes) and copy.papers == digest.papers and copy == digest


def test_a_parse_cache_shard_cut_short_loses_only_the_digests_past_its_end(site, tmp_path):
    build(site)
    key = ParseCache.key_for(site.timezone)
    shards = [path for path in (site.cache_dir / "parse").glob("*.pickle") if len(read_shard(path, key)) > 1]
    before = sum(len(read_shard(shard, key)) for shard in shards)
    for shard in shards:
        with open(shard, "r+b") as handle:
            handle.truncate(shard.stat().st_size - 100)  # the last digest's papers lose their end
    kept = [read_shard(shard, key) for shard in shards]
    assert kept and all(entries and all(digest is not None for _, digest, _, _ in entries.values()) for entries in kept)
    assert sum(map(len, kept)) == before - len(shards)  # one digest less in each
    for record in site.cache_dir.glob("fresh-*.pickle"):
        record.unlink()
    shutil.rmtree(site.output_dir)
    build(site)
    build(site, output_dir=tmp_path / "good", use_cache=False)
    assert tree_hashes(site.output_dir) == tree_hashes(tmp_path / "good")


def test_a_parse_cache_shard_cut_short_after_it_was_read_is_found_and_the_build_done_again(site, tmp_path, monkeypatch):
    build(site)
    for record in site.cache_dir.glob("fresh-*.pickle"):
        record.unlink()
    shutil.rmtree(site.output_dir)  # every page is rendered: every digest's papers are read
    real_open = ParseCache.open

    def open_then_cut(cache_dir, timezone):
        cache = real_open(cache_dir, timezone)
        for shard in (cache_dir / "parse").glob("*.pickle"):  # cut in place, as a careless tool would
            with open(shard, "r+b") as handle:
                handle.truncate(shard.stat().st_size // 2)
        return cache

    monkeypatch.setattr(ParseCache, "open", staticmethod(open_then_cut))
    build(site)
    monkeypatch.undo()
    build(site, output_dir=tmp_path / "good", use_cache=False)
    assert tree_hashes(site.output_dir) == tree_hashes(tmp_path / "good")


def test_digests_read_back_unpickle_their_papers_only_when_asked():
    shared = ("2403.00009", "Seen on both days")
    first, _ = parse_digest(digest_text("2024-03-01", [("2403.00001", "Only on the first"), shared]), "2024-03-01.md")
    second, _ = parse_digest(digest_text("2024-03-02", [shared]), "2024-03-02.md")
    copies = pickle.loads(pickle.dumps([first, second]))
    site, _ = build_site(copies)
    assert also_on(site, copies[0]) == {"2403.00009": (copies[1],)}
    assert site.paper_count == 3 and [a.digest for a in site.papers["2403.00009"].appearances] == copies
    assert all("papers" not in vars(copy) for copy in copies)  # the site's model needs only their ids
    assert pickle.loads(pickle.dumps(copies[0])) == first  # passed on still packed
    assert site.papers["2403.00009"].paper == second.papers[0] and copies == [first, second]
    assert "papers" in vars(copies[0]) and pickle.loads(pickle.dumps(copies[0])) == first


def test_list_pages_read_titles_and_votes_without_unpickling_the_papers():
    from generator.render import digest_description, top_papers_by_month
    texts = [digest_text("2024-03-01", [("2403.00001", "Low"), ("2403.00002", "Tie A"), ("2403.00003", "Tie B")]),
             digest_text("2024-03-02", [("2403.00002", "Tie A, renamed"), ("2403.00004", "Fourth")])]
    texts = [text.replace("Vote: 40", "Vote: 3") for text in texts]  # the first paper of each day drops to the bottom
    originals = [parse_digest(text, f"2024-03-0{n + 1}.md")[0] for n, text in enumerate(texts)]
    copies = pickle.loads(pickle.dumps(originals))
    site, _ = build_site(copies)
    assert [(p.id, p.title, p.votes) for p in copies[0].top_papers(2)] == [("2403.00002", "Tie A", 39), ("2403.00003", "Tie B", 38)]
    assert [p.position for p in copies[0].top_papers()] == [1, 2, 0]  # ties keep their source order
    assert digest_description(copies[1]) == "Fourth · Tie A, renamed"
    (month, top), = top_papers_by_month(site)
    assert [(t.entry.id, t.votes, t.title, t.appearance.digest.date.day) for t in top] == [
        ("2403.00002", 39, "Tie A, renamed", 1),  # its best day, under its newest title
        ("2403.00004", 39, "Fourth", 2), ("2403.00003", 38, "Tie B", 1), ("2403.00001", 3, "Low", 1)]
    assert all("papers" not in vars(copy) for copy in copies)  # none of it unpickled a day's papers
    papers = copies[0].papers  # unpickled, they sit beside the titles until released
    assert copies[0].paper_titles == ("Low", "Tie A", "Tie B") == tuple(p.title for p in papers)
    release_papers(copies)
    assert all("papers" not in vars(copy) for copy in copies) and copies[0].papers == papers
    # and what they say is what the papers say
    for copy, original in zip(copies, originals):
        ranked = sorted(original.papers, key=lambda p: -(p.votes or 0))
        assert [(p.id, p.title, p.votes) for p in copy.top_papers(9)] == [(p.id, p.title, p.votes) for p in ranked]


def test_a_paper_pickles_as_its_values_and_comes_back_equal():
    from dataclasses import fields
    from generator.model import Paper, Summary
    paper = Paper(id="2403.00001", title="T <b>", url="https://arxiv.org/abs/2403.00001", thumbnail="https://x/t.png",
                  video="https://x/v.mp4", votes=7, authors=("A", "B"), authors_omitted=True,
                  summary=Summary([("What's New", "<em>new</em>"), ("", "plain")]), extra_html="<p>x</p>", line=9)
    data = pickle.dumps(paper, protocol=pickle.HIGHEST_PROTOCOL)
    assert not any(f.name.encode() in data for f in fields(Paper) if len(f.name) > 5)  # no names: values only
    copy = pickle.loads(data)
    assert copy == paper and vars(copy) == vars(paper) and list(vars(copy)) == [f.name for f in fields(Paper)]
    assert copy.summary.html == paper.summary.html and len(copy.summary) == 2


def test_damage_a_render_worker_finds_in_a_digests_papers_is_dropped_and_the_build_done_again(tmp_path, monkeypatch):
    days = {f"2024-03-{day:02d}.md": digest_text(f"2024-03-{day:02d}", [(f"2403.{day:05d}", f"Day {day}")])
            for day in range(1, 7)}
    site = write_site(tmp_path / "s", days)
    # the sources were just written: trust their stamps anyway, so that the second build reads only the
    # edited day (racy stamps would send every day through the parse workers, which may find the damage first)
    monkeypatch.setattr(cache_mod, "RACY_NS", 0)
    build(site)
    key = ParseCache.key_for(site.timezone)
    for shard in (site.cache_dir / "parse").glob("*.pickle"):
        entries = read_shard(shard, key)
        for _, digest, _, _ in entries.values():
            vars(digest)["_papers_pickle"] = b"\x80\x05garbage"
        write_shard(shard, key, entries)
    (site.cache_dir / "feeds.pickle").unlink()  # the feeds' other days are rendered again: by a worker
    (site.content_dir / "2024-03-06.md").write_text(digest_text("2024-03-06", [("2403.00006", "Renamed")]), "utf-8")
    monkeypatch.setattr(workers, "worker_count", lambda items: 2 if items > 1 else 1)
    builds = []
    real = build_module._build

    def counted(*args):
        builds.append(args)
        return real(*args)

    monkeypatch.setattr(build_module, "_build", counted)
    build(site)
    assert len(builds) == 2  # the damage was found rendering a feed's day, and the build done again, from the sources
    build(site, output_dir=tmp_path / "good", use_cache=False)
    assert tree_hashes(site.output_dir) == tree_hashes(tmp_path / "good")
    assert all(b"garbage" not in path.read_bytes() for path in (site.cache_dir / "parse").glob("*.pickle"))


def test_a_cache_damaged_inside_a_digests_papers_is_dropped_and_the_build_done_again(site, tmp_path):
    build(site)
    key = ParseCache.key_for(site.timezone)
    shard = next(path for path in (site.cache_dir / "parse").glob("*.pickle") if read_shard(path, key))
    entries = read_shard(shard, key)
    for _, digest, _, _ in entries.values():
        vars(digest)["_papers_pickle"] = b"\x80\x05garbage"  # the digests stay whole: found only when used
    write_shard(shard, key, entries)
    for record in site.cache_dir.glob("fresh-*.pickle"):
        record.unlink()
    shutil.rmtree(site.output_dir)  # every page is rendered, the damaged digests' among them
    build(site)
    build(site, output_dir=tmp_path / "good", use_cache=False)
    assert tree_hashes(site.output_dir) == tree_hashes(tmp_path / "good")
    assert all(b"garbage" not in path.read_bytes() for path in (site.cache_dir / "parse").glob("*.pickle"))
