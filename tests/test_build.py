"""The build end to end: output tree, determinism, drafts, integrity on bad input."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import DEFAULT_SITE_TOML, digest_text, write_site
from generator.build import build
from generator.problems import BuildError


def tree_hashes(root: Path) -> dict[str, str]:
    """Return {relative path: sha256} of every file under root."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_builds_every_kind_of_page(small_site):
    report = build(small_site)
    out = small_site.output_dir
    for rel in ["index.html", "page/2/index.html", "2024/03/13/index.html", "2024/03/14/index.html",
                "2024/03/15/index.html", "archive/index.html", "feed.xml", "atom.xml", "feed.json",
                "sitemap.xml", "robots.txt", "404.html", ".nojekyll", "static/style.css", "static/favicon.svg",
                "papers/2403.00001/index.html", "papers/2403.00003/index.html"]:
        assert (out / rel).is_file(), rel
    assert not (out / "CNAME").exists()
    assert report.digests == 3 and report.papers == 6
    assert "Sitemap: https://example.org/sitemap.xml" in (out / "robots.txt").read_text()


def test_home_pages_newest_first_with_links_between_them(small_site):
    build(small_site)
    first = (small_site.output_dir / "index.html").read_text()
    second = (small_site.output_dir / "page/2/index.html").read_text()
    assert first.index("2024-03-15") < first.index("2024-03-14")
    assert "2024-03-13" not in first and "2024-03-13" in second
    assert 'href="/page/2/"' in first and 'href="/"' in second


def test_digest_page_shows_every_part_of_a_paper(small_site):
    build(small_site)
    page = (small_site.output_dir / "2024/03/14/index.html").read_text()
    assert 'id="2403.00003"' in page
    assert 'href="https://arxiv.org/abs/2403.00003"' in page
    assert "Third &lt;paper&gt; &amp; &#34;friends&#34;" in page or "Third &lt;paper&gt; &amp; &quot;friends&quot;" in page
    assert 'loading="lazy"' in page and 'alt="' in page
    assert "▲ 40" in page
    assert "Kim Minji, Lee Jun, Ana Souza 외" in page
    assert '<strong class="label">What\'s New:</strong>' in page
    assert 'href="/2024/03/13/"' in page and 'href="/2024/03/15/"' in page  # older and newer
    assert 'rel="alternate" type="application/rss+xml"' in page and "application/atom+xml" in page


def test_paper_on_two_days_links_both_ways(small_site):
    build(small_site)
    later = (small_site.output_dir / "2024/03/14/index.html").read_text()
    assert 'href="/2024/03/13/#2403.00001"' in later
    paper = (small_site.output_dir / "papers/2403.00001/index.html").read_text()
    assert "2024-03-13" in paper and "2024-03-14" in paper


def test_archive_groups_by_year_and_month(tmp_path):
    config = write_site(tmp_path, {
        "2023-12-31.md": digest_text("2023-12-31"),
        "2024-01-02.md": digest_text("2024-01-02"),
        "2024-02-01.md": digest_text("2024-02-01"),
    })
    build(config)
    archive = (config.output_dir / "archive/index.html").read_text()
    assert archive.index(">2024<") < archive.index("2024-02") < archive.index("2024-01") < archive.index(">2023<")


def test_same_content_builds_byte_identical_trees(small_site, tmp_path):
    build(small_site, output_dir=tmp_path / "a", use_cache=False)
    build(small_site, output_dir=tmp_path / "b")
    build(small_site, output_dir=tmp_path / "c")  # from the cache
    a, b, c = (tree_hashes(tmp_path / n) for n in "abc")
    assert a == b == c


def test_rebuild_writes_only_changed_files(small_site):
    build(small_site)
    out = small_site.output_dir
    before = {p: os.stat(out / p).st_ino for p in tree_hashes(out)}
    path = small_site.content_dir / "2024-03-13.md"
    path.write_text(path.read_text().replace("첫 번째 요약", "고친 요약"), encoding="utf-8")
    report = build(small_site)
    after = {p: os.stat(out / p).st_ino for p in tree_hashes(out)}
    changed = {p for p in after if before.get(p) != after[p]}
    assert "2024/03/13/index.html" in changed
    assert "2024/03/15/index.html" not in changed and "static/style.css" not in changed
    assert report.written == len(changed)


@pytest.mark.parametrize("edit, list_pages_change", [
    (("첫 번째 요약", "고친 요약"), False),  # a summary bullet: list pages show only cards
    (("Vote: ", "Vote: 1"), True),  # votes show on the home page, the archive's cards and top/
    (("Paper two of", "Second paper of"), True),  # so do titles
    (("Lee Jun, +", "Lee Jun"), True),  # authors are in a card's hash, though no list page shows them yet
])
def test_list_pages_are_rendered_again_only_when_a_card_changes(small_site, edit, list_pages_change):
    build(small_site)
    path = small_site.content_dir / "2024-03-13.md"
    assert edit[0] in path.read_text()
    path.write_text(path.read_text().replace(*edit, 1), encoding="utf-8")
    from generator import build as build_mod
    rendered = []
    original = build_mod.render_share
    build_mod.render_share = lambda writer, config, contents, digests, outputs: (
        rendered.extend(o[0] for o in outputs) or original(writer, config, contents, digests, outputs))
    try:
        build(small_site, output_dir=small_site.output_dir)
    finally:
        build_mod.render_share = original
    assert "2024/03/13/index.html" in rendered
    assert any(p == "index.html" or p.startswith("page/") for p in rendered) == list_pages_change
    assert ("top/index.html" in rendered) == list_pages_change
    for page in ("archive/index.html", "sitemap.xml"):  # a line a day, and the pages with their dates
        assert page not in rendered, page
    # and either way the result is what a build from scratch makes
    fresh = small_site.root / "fresh"
    build(small_site, output_dir=fresh, use_cache=False)
    assert tree_hashes(fresh) == tree_hashes(small_site.output_dir)


def test_the_archive_is_rendered_again_when_a_days_title_or_paper_count_changes(small_site):
    build(small_site)
    path = small_site.content_dir / "2024-03-13.md"
    for text, shown in [(digest_text("2024-03-13", front="title: A new title"), "A new title"),
                        (digest_text("2024-03-13", [("2403.00001", "Paper one")]), "(1)")]:
        path.write_text(text, encoding="utf-8")
        build(small_site)
        assert shown in (small_site.output_dir / "archive/index.html").read_text(encoding="utf-8")
        build(small_site, output_dir=small_site.root / "fresh", use_cache=False)
        assert tree_hashes(small_site.root / "fresh") == tree_hashes(small_site.output_dir)


@pytest.mark.parametrize("name, text, listed", [
    ("2024-03-13.md", digest_text("2024-03-13", [("2403.00001", "Paper one"), ("2403.00042", "A paper added")]),
     "papers/2403.00042/"),  # a new paper page
    ("2024-03-16.md", digest_text("2024-03-16"), "2024/03/16/"),  # a new day
    ("2024-03-13.md", digest_text("2024-03-13", front="tags: [agents, robotics]"), "tags/robotics/"),  # a new tag
])
def test_the_sitemap_is_rendered_again_when_the_pages_it_lists_change(small_site, name, text, listed):
    build(small_site)
    assert listed not in (small_site.output_dir / "sitemap.xml").read_text(encoding="utf-8")
    (small_site.content_dir / name).write_text(text, encoding="utf-8")
    build(small_site)
    assert f"<loc>https://example.org/{listed}</loc>" in (small_site.output_dir / "sitemap.xml").read_text(encoding="utf-8")
    build(small_site, output_dir=small_site.root / "fresh", use_cache=False)
    assert tree_hashes(small_site.root / "fresh") == tree_hashes(small_site.output_dir)


def test_deleted_digest_leaves_no_stale_file(small_site):
    build(small_site)
    (small_site.content_dir / "2024-03-13.md").unlink()
    build(small_site)
    out = small_site.output_dir
    assert not (out / "2024/03/13").exists()
    assert "2024/03/13" not in (out / "feed.xml").read_text()
    assert "/2024/03/13/" not in (out / "archive/index.html").read_text()


def test_output_keeps_git_checkout(small_site):
    build(small_site)
    (small_site.output_dir / ".git").mkdir()
    (small_site.output_dir / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    build(small_site)
    assert (small_site.output_dir / ".git" / "HEAD").is_file()


def test_drafts_left_out_unless_asked(tmp_path):
    config = write_site(tmp_path, {
        "2024-03-13.md": digest_text("2024-03-13"),
        "2024-03-14.md": digest_text("2024-03-14", front="draft: true"),
    })
    build(config)
    assert not (config.output_dir / "2024/03/14").exists()
    build(config, drafts=True)
    assert (config.output_dir / "2024/03/14/index.html").is_file()


def test_a_draft_sharing_a_published_date_is_a_warning_without_drafts_and_an_error_with(tmp_path):
    config = write_site(tmp_path, {
        "2024-03-13.md": digest_text("2024-03-13"),
        "2024-03-13-next.md": digest_text("2024-03-13", front="draft: true"),
    })
    report = build(config)
    assert [str(p) for p in report.warnings] == [
        "content/2024-03-13-next.md:1: warning: draft for 2024-03-13 shares its date with content/2024-03-13.md: "
        "--drafts will fail"]
    with pytest.raises(BuildError) as caught:
        build(config, drafts=True)
    assert "two digests for 2024-03-13" in str(caught.value.problems[0])


def test_cname_written_when_set(tmp_path):
    config = write_site(tmp_path, {"2024-03-13.md": digest_text("2024-03-13")},
                        DEFAULT_SITE_TOML + 'cname = "papers.example.org"\n')
    build(config)
    assert (config.output_dir / "CNAME").read_text() == "papers.example.org\n"


def test_empty_site_builds_valid_pages(tmp_path):
    config = write_site(tmp_path, {})
    build(config)
    assert (config.output_dir / "index.html").is_file()
    assert "<rss" in (config.output_dir / "feed.xml").read_text()


def test_dates_follow_site_timezone_not_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    config = write_site(tmp_path, {"2024-01-05.md": digest_text("2024-01-05", front="date: 2024-01-05T23:30:00")})
    build(config)
    rss = (config.output_dir / "feed.xml").read_text()
    assert "Fri, 05 Jan 2024 23:30:00 +0900" in rss
    assert (config.output_dir / "2024/01/05/index.html").is_file()


def test_generated_pages_contain_no_live_reload_or_clock(small_site):
    build(small_site)
    for path in small_site.output_dir.rglob("*.html"):
        text = path.read_text()
        assert "__livereload" not in text and "EventSource" not in text


def test_templates_autoescape_whatever_their_name(tmp_path):
    config = write_site(tmp_path, {"2024-03-13.md": digest_text("2024-03-13", [("2403.00009", "<b>bold</b>")])})
    build(config)
    for path in config.output_dir.rglob("*.html"):
        assert "<b>bold</b>" not in path.read_text(), path


# --- bad input ------------------------------------------------------------------------

BAD_DIGESTS = {
    "no date": ("notes.md", "### [Paper](https://arxiv.org/abs/2403.00001)\n\n- 요약\n",
                "content/notes.md:1: error: no date"),
    "impossible date": ("2024-02-30.md", digest_text("2024-02-30"), "content/2024-02-30.md:1: error: impossible date"),
    "bad vote": ("2024-03-16.md", digest_text("2024-03-16").replace("Vote: 40", "Vote: lots"),
                 "content/2024-03-16.md:7: error: Vote must be a non-negative integer"),
    "front matter not yaml": ("2024-03-16.md", "---\ntitle: [unclosed\n---\n" + digest_text("2024-03-16"),
                              "content/2024-03-16.md:2: error: invalid front matter"),
    "front matter not a mapping": ("2024-03-16.md", "---\n- a\n- b\n---\n" + digest_text("2024-03-16"),
                                   "content/2024-03-16.md:2: error: front matter must be a mapping"),
    "empty title": ("2024-03-16.md", digest_text("2024-03-16").replace("[Paper one of 2024-03-16]", "[]"),
                    "content/2024-03-16.md:3: error: paper heading has an empty title"),
    "two digests one date": ("2024/03/13.md", digest_text("2024-03-13"),
                             "error: two digests for 2024-03-13: content/2024-03-13.md and content/2024/03/13.md"),
}


@pytest.mark.parametrize("case", sorted(BAD_DIGESTS))
def test_bad_input_reports_and_keeps_last_good_output(small_site, case):
    build(small_site)
    before = tree_hashes(small_site.output_dir)
    rel, text, expected = BAD_DIGESTS[case]
    path = small_site.content_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build(small_site)
    messages = [str(p) for p in caught.value.problems]
    assert any(expected in m for m in messages), messages
    assert tree_hashes(small_site.output_dir) == before
    assert not list(small_site.output_dir.parent.glob("._site.tmp-*"))


def test_invalid_utf8_is_an_error_with_line(small_site):
    build(small_site)
    before = tree_hashes(small_site.output_dir)
    (small_site.content_dir / "2024-03-16.md").write_bytes(b"## Daily Papers (2024-03-16)\n\nbad \xff\xfe bytes\n")
    with pytest.raises(BuildError) as caught:
        build(small_site)
    assert [str(p) for p in caught.value.problems] == [
        "content/2024-03-16.md:3: error: not valid UTF-8 (byte offset 34)"]
    assert tree_hashes(small_site.output_dir) == before


def test_all_errors_of_a_build_reported_together(small_site):
    (small_site.content_dir / "2024-03-16.md").write_text(
        digest_text("2024-03-16").replace("Vote: 40", "Vote: -1").replace("Vote: 39", "Vote: x"), encoding="utf-8")
    (small_site.content_dir / "undated.md").write_text("### [P](https://arxiv.org/abs/2403.00001)\n", encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        build(small_site)
    errors = [str(p) for p in caught.value.problems if p.level == "error"]
    assert len(errors) == 3, errors


def test_template_error_names_template_and_keeps_output(small_site):
    build(small_site)
    before = tree_hashes(small_site.output_dir)
    templates = small_site.root / "templates"
    templates.mkdir()
    (templates / "archive.html").write_text('{% extends "base.html" %}\n{% block content %}\n{{ nothing.here }}\n{% endblock %}\n')
    with pytest.raises(BuildError) as caught:
        build(small_site)
    message = str(caught.value.problems[-1])
    assert message.startswith("templates/archive.html:3: error: template error"), message
    assert tree_hashes(small_site.output_dir) == before


def test_output_dir_that_would_delete_sources_is_refused(small_site, tmp_path):
    for bad in (small_site.root, small_site.content_dir, small_site.root.parent, Path("/")):
        with pytest.raises(BuildError):
            build(small_site, output_dir=bad)
    assert (small_site.content_dir / "2024-03-15.md").is_file()


def test_symlink_out_of_content_is_refused(small_site, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text(digest_text("2024-03-20"))
    (small_site.content_dir / "2024-03-20.md").symlink_to(secret)
    with pytest.raises(BuildError) as caught:
        build(small_site)
    assert "content/2024-03-20.md:1: error: symlink points outside the content dir; refused" in [
        str(p) for p in caught.value.problems]


# --- the command line ---------------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_cli_build_prints_one_summary_line(small_site):
    result = run_cli("build", cwd=small_site.root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("built 3 digests, 6 papers:")


def test_cli_bad_input_exits_nonzero_without_traceback(small_site):
    (small_site.content_dir / "2024-03-16.md").write_text(digest_text("2024-03-16").replace("Vote: 40", "Vote: many"))
    result = run_cli("build", cwd=small_site.root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "content/2024-03-16.md:7: error: Vote must be a non-negative integer, got 'many'" in result.stderr


def test_cli_base_url_and_output_options(small_site, tmp_path):
    out = tmp_path / "elsewhere"
    result = run_cli("build", "--output", str(out), "--base-url", "https://user.github.io/repo", cwd=small_site.root)
    assert result.returncode == 0, result.stderr
    assert 'href="/repo/archive/"' in (out / "index.html").read_text()


def test_cli_missing_config_is_a_clear_error(tmp_path):
    result = run_cli("build", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("site.toml:1: error: no such config file")


def test_build_uses_config_relative_paths_from_anywhere(small_site, tmp_path):
    result = run_cli("build", "--config", str(small_site.root / "site.toml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (small_site.root / "_site" / "index.html").is_file()
    assert replace(small_site).output_dir == small_site.root / "_site"


def test_site_without_paper_pages_has_no_links_to_them(tmp_path):
    from generator.check import find_broken_links

    config = write_site(tmp_path, {"2024-03-13.md": digest_text("2024-03-13"),
                                   "2024-03-14.md": digest_text("2024-03-14", [("2403.00001", "Seen twice"),
                                                                                ("2403.00009", "Seen once")])},
                        DEFAULT_SITE_TOML + "paper_pages = false\n")
    build(config)
    assert not (config.output_dir / "papers").exists()
    for page in config.output_dir.rglob("*.html"):
        text = page.read_text()
        assert "/papers/" not in text, page
        assert not re.search(r'<p class="paper-links">\s*</p>', text), f"{page}: an empty paragraph under a paper"
    day = (config.output_dir / "2024/03/14/index.html").read_text()
    assert day.count('<p class="paper-links">') == 1  # the other days of the paper seen twice, nothing for the other
    assert find_broken_links(config.output_dir, "/", "https://example.org/") == []


def test_foreign_nonempty_output_dir_is_refused_and_left_alone(small_site, tmp_path):
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.tex").write_text("precious")
    with pytest.raises(BuildError) as caught:
        build(small_site, output_dir=documents)
    assert "is not empty and was not made by digest build" in str(caught.value)
    assert (documents / "thesis.tex").read_text() == "precious"
    assert sorted(p.name for p in documents.iterdir()) == ["thesis.tex"]


def test_output_dir_holding_only_a_git_checkout_is_fine(small_site, tmp_path):
    out = tmp_path / "gh-pages"
    (out / ".git").mkdir(parents=True)
    build(small_site, output_dir=out)
    assert (out / "index.html").is_file() and (out / ".git").is_dir()


def test_unparsable_urls_and_huge_votes_are_reported_not_raised(small_site):
    text = digest_text("2024-03-16").replace("https://arxiv.org/abs/2403.00001", "http://[x").replace(
        "Vote: 39", "Vote: " + "9" * 5000)
    (small_site.content_dir / "2024-03-16.md").write_text(text)
    with pytest.raises(BuildError) as caught:
        build(small_site)
    messages = [str(p) for p in caught.value.problems]
    assert any("paper link is not an http(s) URL and was dropped" in m for m in messages), messages
    assert any("error: Vote must be a non-negative integer" in m for m in messages), messages


def test_cached_build_after_a_no_cache_build_is_still_correct(small_site, tmp_path):
    build(small_site)
    path = small_site.content_dir / "2024-03-13.md"
    original = path.read_text()
    path.write_text(original.replace("첫 번째 요약", "잠깐 바뀐 요약"))
    build(small_site, use_cache=False)
    path.write_text(original)
    build(small_site)
    build(small_site, output_dir=tmp_path / "clean", use_cache=False)
    assert tree_hashes(small_site.output_dir) == tree_hashes(tmp_path / "clean")


def test_refused_file_fails_even_when_nothing_else_changed(small_site, tmp_path):
    build(small_site)
    secret = tmp_path / "secret.md"
    secret.write_text(digest_text("2024-03-20"))
    (small_site.content_dir / "2024-03-20.md").symlink_to(secret)
    with pytest.raises(BuildError):
        build(small_site)


def test_empty_digest_file_is_an_error_not_an_empty_page(small_site):
    build(small_site)
    before = tree_hashes(small_site.output_dir)
    (small_site.content_dir / "2024-03-16.md").write_text("")
    with pytest.raises(BuildError) as caught:
        build(small_site)
    assert [str(p) for p in caught.value.problems] == ["content/2024-03-16.md:1: error: file is empty (still being written?)"]
    assert tree_hashes(small_site.output_dir) == before


@pytest.mark.parametrize("stat_size", [0, 100, 1024 * 1024 + 5])
def test_a_digest_read_while_it_grows_is_read_whole_or_refused(small_site, monkeypatch, stat_size):
    from generator import load
    from generator.load import MAX_DIGEST_BYTES, find_sources, read_source

    sources, _ = find_sources(small_site.content_dir, small_site.root)
    source = next(s for s in sources if s.rel.endswith("2024-03-13.md"))
    whole = Path(source.path).read_bytes()
    real_fstat = os.fstat
    monkeypatch.setattr(load.os, "fstat", lambda fd: os.stat_result((0,) * 6 + (stat_size,) + (0,) * 3)
                        if fd > 2 else real_fstat(fd))  # as if the stat came before the last write
    assert read_source(source) == (whole, [])
    Path(source.path).write_bytes(whole + b"- more\n" * (MAX_DIGEST_BYTES // 7))
    data, problems = read_source(source)
    assert data is None and "file too large" in problems[0].message


def test_day_and_paper_pages_are_rendered_after_list_pages_and_feeds(small_site, monkeypatch):
    """Workers take pages from a queue in runs: a costly list page or feed in the last run
    kept one process busy while the other waited, so the many small pages come last. Each
    day comes with the pages of the papers it is the newest day of, so that a run needs the
    papers of few days; a worker lets them go after each run."""
    import generator.build as build_mod
    seen = []
    render_share = build_mod.render_share

    def recording(writer, config, contents, digests, outputs):
        seen.extend(rel for rel, _, _ in outputs)
        return render_share(writer, config, contents, digests, outputs)

    monkeypatch.setattr(build_mod, "render_share", recording)
    site = build(small_site).site
    small = [i for i, rel in enumerate(seen) if rel[:4].isdigit() or rel.startswith("papers/")]
    assert "feed.xml" in seen and "archive/index.html" in seen
    assert small and small == list(range(len(seen) - len(small), len(seen))), seen
    expected = []
    for digest in site.digests:
        expected.append(digest.path + "index.html")
        expected += [entry.path + "index.html" for entry in site.papers.values() if entry.appearances[-1].digest is digest]
    assert any(len(entry.appearances) > 1 for entry in site.papers.values())
    assert [seen[i] for i in small] == expected
    assert not any("papers" in vars(digest) for digest in site.digests)


def test_one_shot_commands_leave_the_cycle_collector_off_and_serve_turns_it_on(monkeypatch):
    """Turned back on after a build, the collector would walk every object the build made just
    before the process exits; the preview runs on, and collects as usual."""
    import gc

    from generator import cli, serve
    seen = []
    monkeypatch.setattr(cli, "main", lambda keep: seen.append(gc.isenabled()) or 0)
    monkeypatch.setattr(cli.os, "_exit", lambda code: seen.append(code))
    monkeypatch.setattr(serve, "serve", lambda *args, **kwargs: seen.append(gc.isenabled()) or 0)
    try:
        cli.run()
        cli.run_serve(cli.make_parser().parse_args(["serve"]))
    finally:
        gc.enable()
    assert seen == [False, 0, True]


def test_every_option_of_every_command_says_what_it_does():
    import argparse

    from generator.cli import make_parser

    (commands,) = [a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    unexplained = [f"{name} {action.option_strings or action.dest}"
                   for name, sub in commands.choices.items() for action in sub._actions
                   if not isinstance(action, argparse._HelpAction) and not action.help]
    assert unexplained == []
    for name, sub in commands.choices.items():  # a default the README gives is in the help too
        for action in sub._actions:
            if isinstance(action.default, str) and action.default and action.default != argparse.SUPPRESS:
                assert action.default in action.help, (name, action.dest)


def test_problems_name_files_from_where_the_command_runs(tmp_path):
    config = write_site(tmp_path / "site", {"2024-03-15.md": digest_text("2024-03-15", front="date: 2024-02-30")})
    (tmp_path / "elsewhere").mkdir()
    for cwd, shown in [(tmp_path, "site/content/2024-03-15.md"), (config.root, "content/2024-03-15.md"),
                       (config.content_dir, "2024-03-15.md"), (tmp_path / "elsewhere", "../site/content/2024-03-15.md")]:
        result = run_cli("build", "--config", str(config.root / "site.toml"), cwd=cwd)
        assert result.returncode == 1
        assert f"{shown}:2: error: 'date' is not a real date: 2024-02-30" in result.stderr, result.stderr
        assert (cwd / shown).is_file()
