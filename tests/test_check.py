"""`digest check` and its link walker, which other tests reuse on any built site."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from generator.build import build
from generator.check import check_site, find_broken_links, find_feed_problems
from generator.cli import main
from generator.config import Config
from generator.theme import builtin_theme_dir


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write files (path -> text) under root and return root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_sample_site_passes(small_site: Config, capsys) -> None:
    problems, summary = check_site(small_site)
    assert [p for p in problems if p.level == "error"] == []
    assert "no broken links" in summary
    assert main(["check", "--config", str(small_site.config_path)]) == 0
    assert "no broken links" in capsys.readouterr().out


@pytest.mark.parametrize("base_url", ["https://example.org/", "https://user.github.io/repo/",
                                      "https://user.github.io/a/b/"])
def test_every_internal_link_resolves_under_any_base_path(small_site: Config, tmp_path: Path, base_url: str) -> None:
    config = small_site.with_base_url(base_url)
    build(config, output_dir=tmp_path / "out")
    assert find_broken_links(tmp_path / "out", config.base_path, config.base_url) == []
    assert find_feed_problems(tmp_path / "out", config.base_url) == []


def test_finds_a_broken_link_planted_in_a_template(small_site: Config, capsys) -> None:
    base = (builtin_theme_dir() / "base.html").read_text(encoding="utf-8")
    planted = ('<footer class="site-footer">\n<p><a href="{{ url(\'no-such-page/\') }}">gone</a>'
               ' <a href="{{ url(\'archive/\') }}#no-such-anchor">nowhere</a></p>\n')
    assert '<footer class="site-footer">\n' in base
    write_files(small_site.templates_dir, {"base.html": base.replace('<footer class="site-footer">\n', planted, 1)})

    problems, summary = check_site(small_site)
    errors = [p for p in problems if p.level == "error"]
    missing = [p for p in errors if "no such file in the site: /no-such-page/" in p.message]
    anchors = [p for p in errors if 'no element with id "no-such-anchor" in archive/index.html' in p.message]
    assert {p.path for p in missing} >= {"index.html", "archive/index.html", "2024/03/15/index.html", "404.html"}
    assert len(missing) == len(anchors) == len({p.path for p in missing})  # once per page, every page
    assert all(p.line > 1 for p in missing)
    assert not small_site.output_dir.exists()  # check builds into a temporary dir
    assert "broken" in summary

    assert main(["check", "--config", str(small_site.config_path)]) == 1
    err = capsys.readouterr().err
    first = next(p for p in missing if p.path == "index.html")
    assert f"index.html:{first.line}: error:" in err
    assert "error: <a href=\"/no-such-page/\">: no such file in the site: /no-such-page/" in err


def test_link_walker_rules(tmp_path: Path) -> None:
    out = write_files(tmp_path / "out", {
        "index.html": """<!doctype html>
<a href="/repo/a/">dir</a> <a href="a/">relative dir</a> <a href="a/index.html#x">file and id</a>
<a href="/repo/a#x">dir without slash</a> <a href="about">about.html</a> <a href="#top">top</a> <a href="#">empty</a>
<a href="https://elsewhere.org/missing">external</a> <a href="mailto:a@b.c">mail</a> <a href="//cdn.example/x.js">cdn</a>
<img src="static/x.png?v=1" srcset="static/x.png 1x, static/y.png 2x">
<a href="/repo/a/?page=2#x">query</a> <a href="/repo/a/%78.html">escaped</a>
<a href="/repo/missing/">broken</a>
<a href="a/#y">bad anchor</a>
<a href="/elsewhere/">outside</a>
<a href="../../etc/passwd">climbing out</a>
<a href="https://example.org/repo/gone/">absolute, ours, broken</a>
<a name="named">old anchor</a><a href="#named">to it</a>
""",
        "a/index.html": '<h2 id="x">x</h2><a href="../index.html#named">back</a><a href="../">up</a>',
        "a/x.html": "",
        "about.html": "",
        "static/x.png": "",
    })
    problems = find_broken_links(out, "/repo/", "https://example.org/repo/")
    found = {(p.line, p.message.split(": ", 1)[0]) for p in problems}
    assert found == {
        (5, '<img srcset="static/y.png">'),
        (7, '<a href="/repo/missing/">'),
        (8, '<a href="a/#y">'),
        (9, '<a href="/elsewhere/">'),
        (10, '<a href="../../etc/passwd">'),
        (11, '<a href="https://example.org/repo/gone/">'),
    }, problems
    assert all(p.path == "index.html" for p in problems)
    assert find_broken_links(out, "/repo/") != []  # base_url is optional
    assert len(find_broken_links(out, "/repo/")) == 5


def test_feed_problems(small_site: Config, tmp_path: Path) -> None:
    config = replace(small_site, search=False)
    out = tmp_path / "out"
    build(config, output_dir=out)
    assert find_feed_problems(out, config.base_url) == []

    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    feed["items"][0]["url"] = "/2024/03/15/"
    feed["items"][1]["content_html"] = '<a href="/papers/x/">relative</a>'
    (out / "feed.json").write_text(json.dumps(feed), encoding="utf-8")
    atom = (out / "atom.xml").read_text(encoding="utf-8")
    (out / "atom.xml").write_text(atom.replace("</feed>", ""), encoding="utf-8")
    rss = (out / "feed.xml").read_text(encoding="utf-8")
    (out / "feed.xml").write_text(rss.replace("https://example.org/2024/03/14/", "https://example.org/2099/01/01/", 1),
                                  encoding="utf-8")

    problems = find_feed_problems(out, config.base_url)
    messages = "\n".join(str(p) for p in problems)
    assert "atom.xml:" in messages and "not well-formed XML" in messages
    assert "feed.json:1: error: item url '/2024/03/15/' is not an absolute URL under https://example.org/" in messages
    assert "content has a relative link '/papers/x/'" in messages
    assert "feed.xml:" in messages and "https://example.org/2099/01/01/" in messages and "no such page" in messages
