"""Every internal link honours the path of base_url, on a site served under /sub/."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from conftest import DEFAULT_SITE_TOML, digest_text, write_site
from generator.build import build
from generator.check import find_broken_links


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.urls.append(value)


def test_every_internal_href_and_src_resolves_under_the_base_path(tmp_path):
    toml = DEFAULT_SITE_TOML.replace('base_url = "https://example.org/"', 'base_url = "https://example.org/sub/"')
    config = write_site(tmp_path / "s", {
        "2024-03-13.md": digest_text("2024-03-13"),
        "2024/03/14.md": digest_text("2024-03-14", [("2403.00001", "Again"), ("2403.00007", "Seven")]),
        "2024-03-15.md": digest_text("2024-03-15", front="tags: [multimodal, 에이전트]"),
    }, toml)
    build(config)
    out = config.output_dir
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 10
    internal = 0
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text())
        for url in parser.urls:
            if re.match(r"^[a-z]+:|^//|^#", url):
                continue
            internal += 1
            assert url.startswith("/sub/"), f"{page.relative_to(out)}: {url} ignores the base path"
    assert internal > 50
    assert find_broken_links(out, "/sub/", "https://example.org/sub/") == []


def test_link_checker_notices_a_missing_page_and_anchor(tmp_path):
    config = write_site(tmp_path / "s", {"2024-03-13.md": digest_text("2024-03-13")})
    build(config)
    index = config.output_dir / "index.html"
    index.write_text(index.read_text().replace("</main>", '<a href="/nowhere/">x</a><a href="/2024/03/13/#nope">y</a></main>'))
    problems = [str(p) for p in find_broken_links(config.output_dir, "/", "https://example.org/")]
    assert len(problems) == 2, problems


def test_a_new_base_url_shows_on_every_link_though_templates_are_cached(tmp_path):
    pages = {"2024-03-13.md": digest_text("2024-03-13")}
    config = write_site(tmp_path / "s", pages)
    build(config)  # compiles the templates into the cache dir
    toml = DEFAULT_SITE_TOML.replace('base_url = "https://example.org/"', 'base_url = "https://moved.example/sub/"')
    config = write_site(tmp_path / "s", pages, toml)
    build(config)
    home = (config.output_dir / "index.html").read_text()
    assert '<link rel="canonical" href="https://moved.example/sub/">' in home
    assert 'href="https://moved.example/sub/feed.xml"' in home and 'href="/sub/archive/"' in home
    assert "example.org" not in home


def test_compiled_templates_of_other_generator_versions_are_not_used(tmp_path, monkeypatch):
    from generator import render

    config = write_site(tmp_path / "s", {"2024-03-13.md": digest_text("2024-03-13")})
    for version in range(6):
        monkeypatch.setattr(render, "code_fingerprint", lambda version=version: f"{version:016d}")
        build(config, output_dir=tmp_path / f"out{version}")
    folders = sorted(p.name for p in (config.cache_dir / "templates").iterdir())
    assert folders == [f"{version:016d}" for version in range(2, 6)]  # the newest four
    assert list((config.cache_dir / "templates" / f"{5:016d}").iterdir())  # this version's compiled templates
