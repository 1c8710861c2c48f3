"""Search: the Pagefind index is built with the site, and finds papers in a real browser."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from conftest import DEFAULT_SITE_TOML, digest_text, offline_routes, serve_dir, wait_for, write_site
from generator.build import build

pytest.importorskip("pagefind_bin", reason="search needs pagefind-bin")

SEARCH_TOML = DEFAULT_SITE_TOML.replace("search = false", "search = true").replace(
    'base_url = "https://example.org/"', 'base_url = "https://example.org/digest/"')

PAPERS = """\
## Daily Papers ({date})

### [{title}](https://arxiv.org/abs/{pid})

![](https://cdn.example.org/thumbs/{pid}.png)

Vote: {votes}

Authors: {authors}

- {summary}
- ***What's New***: {new}
"""


def paper_digest(date: str, *papers: dict) -> str:
    """Return a digest of the given papers (dicts of the PAPERS fields)."""
    head, *_ = PAPERS.split("### ")
    body = "".join("### " + PAPERS.split("### ", 1)[1].format(**p) + "\n" for p in papers)
    return head.format(date=date) + "\n" + body


QUANTUM = dict(pid="2405.01234", title="Error-Corrected Sampling on Noisy Devices", votes=31,
               authors="Yoon Seoyeon, Marek Kowalczyk",
               summary="양자컴퓨터 오류 정정을 위한 표본 추출 기법을 제안합니다.",
               new="잡음이 많은 장치에서도 정확도가 유지됩니다.")
SPEECH = dict(pid="2405.04321", title="Streaming Speech Translation with Tiny Latency", votes=12,
              authors="Priya Raman, Tomasz Wrobel",
              summary="실시간 음성 번역의 지연 시간을 줄이는 방법을 다룹니다.",
              new="스트리밍 디코더를 새로 설계했습니다.")
VISION = dict(pid="2405.07777", title="Counting Objects by Looking Twice", votes=20,
              authors="Elena Petrova, Chen Wei",
              summary="이미지 속 물체의 개수를 세는 시각 모델을 개선합니다.",
              new="두 단계 주의 메커니즘을 사용합니다.")


@pytest.fixture(scope="module")
def search_site(tmp_path_factory):
    """Return the output dir of a built site with search on, served under /digest/."""
    root = tmp_path_factory.mktemp("search") / "site"
    config = write_site(root, {
        "2024-05-02.md": paper_digest("2024-05-02", QUANTUM, SPEECH),
        "2024-05-03.md": paper_digest("2024-05-03", VISION),
    }, SEARCH_TOML)
    build(config)
    return config.output_dir


def test_index_is_built_inside_the_output(search_site):
    bundle = search_site / "pagefind"
    for name in ["pagefind.js", "pagefind-ui.js", "pagefind-ui.css", "pagefind-entry.json"]:
        assert (bundle / name).is_file(), name
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    assert entry["languages"]["ko"]["page_count"] == 3  # one page per paper, nothing else
    search_page = (search_site / "search/index.html").read_text(encoding="utf-8")
    assert "/digest/pagefind/pagefind-ui.js" in search_page and 'name="robots" content="noindex"' in search_page
    home = (search_site / "index.html").read_text(encoding="utf-8")
    assert 'action="/digest/search/"' in home and 'name="q"' in home


def test_search_results_in_headless_chromium(search_site, chromium):
    page = chromium.new_page()
    offline_routes(page)
    try:
        with serve_dir(search_site, "/digest/") as base:
            # the header box on any page submits to the search page, which runs the query
            page.goto(base)
            page.fill("#site-search", "양자컴퓨터")
            page.press("#site-search", "Enter")
            page.wait_for_url("**/digest/search/?q=*")
            results = page.locator(".pagefind-ui__result-link")
            results.first.wait_for(timeout=15000)
            assert results.all_inner_texts() == [QUANTUM["title"]]
            assert results.first.get_attribute("href") == f"/digest/papers/{QUANTUM['pid']}/"
            looks = results.first.evaluate("a => [getComputedStyle(a).color, getComputedStyle(document.body).color]")
            assert looks[0] != looks[1], looks  # a result's title looks like a link, not like the text around it

            # typing into the search page's own box: an author's name
            box = page.locator(".pagefind-ui__search-input")
            box.fill("")
            box.press_sequentially("Petrova", delay=20)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.pagefind-ui__result-link')]"
                ".map(a => a.textContent.trim()).join('|') === %s" % json.dumps(VISION["title"]), timeout=15000)
            assert "q=Petrova" in page.url

            # a Korean word from a summary, typed on the search page
            box.fill("")
            box.press_sequentially("음성", delay=20)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.pagefind-ui__result-link')]"
                ".map(a => a.textContent.trim()).join('|') === %s" % json.dumps(SPEECH["title"]), timeout=15000)
    finally:
        page.close()


def test_site_without_papers_builds_no_search(tmp_path):
    config = write_site(tmp_path / "site", {}, SEARCH_TOML)
    build(config)
    out = config.output_dir
    assert (out / "index.html").is_file()
    assert not (out / "search").exists() and not (out / "pagefind").exists()
    assert 'role="search"' not in (out / "index.html").read_text(encoding="utf-8")


def test_index_is_rebuilt_only_when_a_paper_page_changed(tmp_path, monkeypatch):
    from generator import build as build_module

    config = write_site(tmp_path / "s", {"2024-03-13.md": digest_text("2024-03-13")},
                        DEFAULT_SITE_TOML.replace("search = false", "search = true"))
    build(config)
    runs = []
    real = build_module.stage_search_index
    monkeypatch.setattr(build_module, "stage_search_index", lambda c, w: runs.append(1) or real(c, w))
    templates = config.root / "templates"
    templates.mkdir()
    (templates / "404.html").write_text('{% extends "base.html" %}{% block content %}<p>gone</p>{% endblock %}\n')
    build(config)  # only the 404 page changed: the index is kept as it is
    assert runs == [] and (config.output_dir / "pagefind" / "pagefind-ui.js").is_file()
    path = config.content_dir / "2024-03-13.md"
    path.write_text(path.read_text().replace("첫 번째 요약", "새 요약"))
    build(config)
    assert runs == [1]


HOSTILE_TAG = "<img src=x onerror=\"window.pwned = 'tag'\">"


def test_hostile_tags_and_titles_stay_text_in_the_search_ui(tmp_path, chromium):
    hostile = dict(QUANTUM, title="<img src=x onerror=\"window.pwned = 'title'\"> Sampling")
    text = f'---\ntags: ["{HOSTILE_TAG.replace(chr(34), chr(92) + chr(34))}", "R&D", "양자"]\n---\n'
    config = write_site(tmp_path / "site", {"2024-05-02.md": text + paper_digest("2024-05-02", hostile)}, SEARCH_TOML)
    build(config)
    page = chromium.new_page()
    offline_routes(page)
    try:
        with serve_dir(config.output_dir, "/digest/") as base:
            page.goto(base + "search/?q=양자컴퓨터")
            results = page.locator(".pagefind-ui__result-link")
            results.first.wait_for(timeout=15000)
            page.locator(".pagefind-ui__filter-panel").first.wait_for(timeout=15000)
            page.wait_for_timeout(300)  # any image the UI wrote has had its error by now
            assert page.evaluate("() => window.pwned") is None
            assert page.locator(".pagefind-ui img").count() == 0
            assert results.first.inner_text() == hostile["title"]
            filters = page.locator(".pagefind-ui__filter-panel").inner_text()
            assert "R&D" in filters and "양자" in filters and "onerror" not in filters  # that tag is no filter
    finally:
        page.close()


# --- the preview: the index is made after the reload, not before ---------------------------

def indexed_text(site_dir) -> str:
    """Return the text of every page the site's Pagefind index holds (its fragments, unpacked)."""
    import gzip

    fragments = sorted((site_dir / "pagefind" / "fragment").glob("*.pf_fragment"))
    return "\n".join(gzip.decompress(path.read_bytes()).decode("utf-8", "replace") for path in fragments)


def get(url: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_a_preview_build_keeps_the_index_and_says_when_it_is_stale(tmp_path, monkeypatch):
    from generator import write
    from generator.build import BuildMemo
    from generator.search import refresh_search_index

    config = write_site(tmp_path / "site", {"2024-05-02.md": paper_digest("2024-05-02", QUANTUM, SPEECH)}, SEARCH_TOML)
    out, memo = tmp_path / "preview", BuildMemo()
    first = build(config, output_dir=out, memo=memo)
    assert first.search_stale and not (out / "pagefind").exists()  # no Pagefind run inside the preview's build
    refresh_search_index(config, out)
    assert "양자컴퓨터" in indexed_text(out)
    again = build(config, output_dir=out, memo=memo)  # no paper page changed: the index is current
    assert not again.search_stale and (out / "pagefind" / "pagefind-ui.js").is_file()
    path = config.content_dir / "2024-05-02.md"
    path.write_text(path.read_text(encoding="utf-8").replace("양자컴퓨터", "양자계산기"), encoding="utf-8")
    edited = build(config, output_dir=out, memo=memo)
    assert edited.search_stale  # the paper's page changed; the last index is still there, until it is made again
    assert "양자컴퓨터" in indexed_text(out) and "/pagefind/pagefind-ui.js" in (out / "search/index.html").read_text()
    tree = refresh_search_index(config, out)  # a new folder in place of the last, and its files
    assert "양자계산기" in indexed_text(out) and "양자컴퓨터" not in indexed_text(out)
    assert tree == write.list_tree(out / "pagefind", "pagefind")  # what a rebuild would find by looking
    memo.search_index = tree  # as the preview's indexer hands it over: the rebuild need not look
    monkeypatch.setattr(write, "_tree_files", lambda *args: pytest.fail("the index's files were looked for again"))
    assert not build(config, output_dir=out, memo=memo).search_stale  # the new index's files are the build's own
    on_disk = {path.relative_to(out).as_posix() for path in (out / "pagefind").rglob("*") if path.is_file()}
    assert {rel for rel in memo.last.produced if rel.startswith("pagefind/")} == on_disk
    assert [p.name for p in tmp_path.glob(".preview.*")] == [".preview.lock"]  # no scratch folder left beside it


def test_the_preview_reloads_first_and_indexes_the_edit_after(tmp_path):
    from generator.serve import start_preview

    config = write_site(tmp_path / "site", {"2024-05-02.md": paper_digest("2024-05-02", QUANTUM)}, SEARCH_TOML)
    said: list[str] = []
    with start_preview(config, port=0, say=said.append) as preview:
        base = f"http://127.0.0.1:{preview.port}/digest/"
        wait_for(lambda: any(line.startswith("search index updated") for line in said), timeout=60)
        assert get(base + "pagefind/pagefind-ui.js")[0] == 200 and "양자컴퓨터" in indexed_text(preview.site_dir)
        path = config.content_dir / "2024-05-02.md"
        tmp = path.with_name(".2024-05-02.md.tmp")
        tmp.write_text(path.read_text(encoding="utf-8").replace("양자컴퓨터", "얼룩말컴퓨터"), encoding="utf-8")
        tmp.replace(path)  # saved as editors and the pipeline save
        wait_for(lambda: "얼룩말컴퓨터".encode() in get(base + f"papers/{QUANTUM['pid']}/")[1], timeout=60)
        # the reload did not wait for Pagefind: the page is new, the index the last one, and still served
        assert get(base + "pagefind/pagefind-ui.js")[0] == 200
        wait_for(lambda: "얼룩말컴퓨터" in indexed_text(preview.site_dir), timeout=60)
        wait_for(lambda: sum(line.startswith("search index updated") for line in said) == 2, timeout=60)
        rebuilt = [i for i, line in enumerate(said) if "(rebuilt in" in line]
        indexed = [i for i, line in enumerate(said) if line.startswith("search index updated")]
        assert len(rebuilt) == 2 and rebuilt[1] < indexed[1], said  # the reload's line comes before the index's
    assert not [t for t in threading.enumerate() if t.name == "digest-search-index" and t.is_alive()]


def pagefind_children() -> dict[int, int]:
    """Return the pid and niceness of each of this process's Pagefind children (Linux /proc)."""
    import os

    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            name, rest = stat[stat.index(b"(") + 1:stat.rindex(b")")], stat[stat.rindex(b")") + 2:].split()
            if name.startswith(b"pagefind") and int(rest[1]) == os.getpid() and rest[0] != b"Z":
                found[int(entry)] = int(rest[16])  # fields 3 (state), 4 (parent) ... 19 (nice)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_stopping_the_preview_stops_pagefind_and_leaves_no_scratch(tmp_path):
    from watchdog.observers import Observer

    from generator.search import BACKGROUND_NICENESS
    from generator.serve import start_preview

    papers = [dict(QUANTUM, pid=f"2405.{n:05d}", title=f"Paper {n}") for n in range(1000)]
    digests = {f"2024-05-{day:02d}.md": paper_digest(f"2024-05-{day:02d}", *papers[(day - 1) * 50:day * 50])
               for day in range(1, 21)}
    config = write_site(tmp_path / "site", digests, SEARCH_TOML)
    said: list[str] = []
    at_watcher_stop: list[dict[int, int]] = []

    class Recording(Observer):
        def stop(self):
            at_watcher_stop.append(pagefind_children())
            super().stop()

    preview = start_preview(config, port=0, say=said.append, observer_factory=Recording)
    try:
        running = wait_for(pagefind_children, timeout=60)  # the index of the first build is being made
    finally:
        preview.stop()
    if shutil.which("nice"):
        assert list(running.values()) == [BACKGROUND_NICENESS]  # behind the rebuilds, which someone waits for
    assert not pagefind_children()
    assert at_watcher_stop == [{}]  # Pagefind was stopped first: a watcher slow to stop cannot leave it running
    assert not [line for line in said if line.startswith("search index")], said  # stopped, not finished
    assert not [t for t in threading.enumerate() if t.name == "digest-search-index" and t.is_alive()]
    assert not list(preview.site_dir.parent.glob(f".{preview.site_dir.name}.reindex-*"))
