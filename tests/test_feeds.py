"""Feeds parsed back strictly: well-formed, counted, absolute, stable ids, site timezone."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import feedparser
from lxml import etree

from conftest import digest_text, write_site
from generator.build import build
from generator.config import parse_config
from generator.feeds import FeedInfo, FeedItem, render_atom, render_json_feed, render_rss
from generator.markup import rebase_links, render_block
from generator.model import Digest

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


def config_for_tests(tmp_path):
    return parse_config('title = "T"\nbase_url = "https://example.org/sub/"\ntimezone = "Asia/Seoul"\n',
                        "site.toml", tmp_path)


def item(day: int, content: str = "<p>x</p>", title: str = "Day") -> FeedItem:
    digest = Digest(date=dt.date(2024, 1, day), published=dt.datetime(2024, 1, day, tzinfo=SEOUL),
                    title=f"{title} {day}", source=f"{day}.md")
    url = f"https://example.org/sub/2024/01/{day:02d}/"
    return FeedItem(digest, url, content, "summary")


INFO = FeedInfo("T", "D", "https://example.org/sub/", "https://example.org/sub/feed.xml",
                "https://example.org/sub/atom.xml", "https://example.org/sub/feed.json")


def test_feeds_are_strict_xml_and_parse_without_errors(tmp_path):
    config = config_for_tests(tmp_path)
    items = [item(3), item(2, content="<p>a ]]> b</p>"), item(1, title="Bad \x0b title")]
    for render in (render_rss, render_atom):
        data = render(config, INFO, items)
        etree.fromstring(data)  # strict: raises on anything malformed
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, parsed.bozo_exception
        assert [e.link for e in parsed.entries] == [i.url for i in items]
        assert parsed.entries[1].content[0].value == "<p>a ]]> b</p>"


def test_atom_content_type_is_html_not_cdata(tmp_path):
    data = render_atom(config_for_tests(tmp_path), INFO, [item(1)])
    root = etree.fromstring(data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert {c.get("type") for c in root.findall(".//a:content", ns)} == {"html"}


def test_feed_dates_come_from_digests_never_the_clock(tmp_path):
    config = config_for_tests(tmp_path)
    rss = render_rss(config, INFO, [item(5), item(4)]).decode()
    assert "<lastBuildDate>Fri, 05 Jan 2024 00:00:00 +0900</lastBuildDate>" in rss
    assert "<pubDate>Thu, 04 Jan 2024 00:00:00 +0900</pubDate>" in rss
    assert render_rss(config, INFO, [item(5), item(4)]) == render_rss(config, INFO, [item(5), item(4)])


def test_empty_feed_is_still_valid(tmp_path):
    config = config_for_tests(tmp_path)
    for render in (render_rss, render_atom):
        parsed = feedparser.parse(render(config, INFO, []))
        assert parsed.bozo == 0 and parsed.entries == []


def test_relative_links_in_content_become_absolute():
    html = '<a href="/2024/01/05/">x</a> <a href="other/">y</a> <a href="#p">z</a> <img src="https://c.org/i.png">'
    out = rebase_links(html, "https://example.org/sub/2024/01/06/")
    assert 'href="https://example.org/2024/01/05/"' in out
    assert 'href="https://example.org/sub/2024/01/06/other/"' in out
    assert 'href="https://example.org/sub/2024/01/06/#p"' in out and 'src="https://c.org/i.png"' in out


def test_link_text_shown_as_code_or_words_is_not_rebased():
    html = render_block('- code: `<img src="pic.png">` and <a href="x.html"> and src="y.png" in words, '
                        'then [a link](x.html) ![an image](pic.png)')
    out = rebase_links(html, "https://example.org/sub/2024/01/06/")
    assert out.count("https://example.org/sub/2024/01/06/") == 2
    assert 'href="https://example.org/sub/2024/01/06/x.html"' in out and 'src="https://example.org/sub/2024/01/06/pic.png"' in out
    assert '&lt;img src="pic.png"&gt;' in out and '&lt;a href="x.html"&gt;' in out and ' src="y.png" in words' in out


def test_json_feed_is_version_1_1(tmp_path):
    data = json.loads(render_json_feed(config_for_tests(tmp_path), INFO, [item(2), item(1)]))
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["id"] for i in data["items"]] == [item(2).url, item(1).url]
    assert data["items"][0]["date_published"] == "2024-01-02T00:00:00+09:00"


def test_built_feeds_hold_the_newest_digests_with_stable_ids(tmp_path):
    config = write_site(tmp_path / "s", {f"2024-03-{d:02d}.md": digest_text(f"2024-03-{d:02d}") for d in range(10, 16)})
    build(config, output_dir=tmp_path / "one")
    build(config, output_dir=tmp_path / "two", use_cache=False)
    for name in ("feed.xml", "atom.xml", "feed.json"):
        first, second = (tmp_path / "one" / name).read_bytes(), (tmp_path / "two" / name).read_bytes()
        assert first == second, name
    for name in ("feed.xml", "atom.xml"):
        data = (tmp_path / "one" / name).read_bytes()
        etree.fromstring(data)
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0
        assert len(parsed.entries) == 3  # feed_limit
        assert [e.id for e in parsed.entries] == [f"https://example.org/2024/03/{d}/" for d in (15, 14, 13)]
        for entry in parsed.entries:
            assert entry.link.startswith("https://example.org/")
            content = entry.content[0].value if "content" in entry else entry.summary
            assert 'href="/' not in content and 'src="/' not in content
            assert "2403.00001" in content


def test_digest_html_in_feed_is_sanitized(tmp_path):
    text = digest_text("2024-03-10").replace("- ***What's New***", "- <script>alert(1)</script> [x](javascript:alert(1))\n- ***What's New***")
    config = write_site(tmp_path / "s", {"2024-03-10.md": text})
    build(config)
    for name in ("feed.xml", "atom.xml", "feed.json"):
        data = (config.output_dir / name).read_text()
        assert "<script" not in data and "javascript:" not in data


def test_rss_channel_link_is_the_page_and_atom_has_an_author_without_one_configured(tmp_path):
    config = config_for_tests(tmp_path)  # no author in site.toml
    rss = feedparser.parse(render_rss(config, INFO, [item(1)]))
    assert rss.feed.link == "https://example.org/sub/"  # the HTML page of the channel, not the feed itself
    assert etree.fromstring(render_rss(config, INFO, [item(1)])).xpath(
        "//*[local-name()='link'][@rel='self']/@href") == ["https://example.org/sub/feed.xml"]
    atom = etree.fromstring(render_atom(config, INFO, [item(1)]))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert atom.xpath("a:author/a:name/text()", namespaces=ns) == ["T"]  # RFC 4287 4.1.1: the feed or every entry
    assert "pypi.org" not in render_atom(config, INFO, [item(1)]).decode()  # that name there is another project


def test_an_atom_entry_in_another_language_says_so(tmp_path):
    from dataclasses import replace

    config = config_for_tests(tmp_path)  # language = "ko"
    english, korean = item(2), item(1)
    english = FeedItem(replace(english.digest, lang="en"), english.url, english.content_html, english.summary)
    korean = FeedItem(replace(korean.digest, lang="ko"), korean.url, korean.content_html, korean.summary)
    root = etree.fromstring(render_atom(config, INFO, [english, korean]))
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert root.get(lang) == "ko"
    assert [e.get(lang) for e in root.iterfind("{http://www.w3.org/2005/Atom}entry")] == ["en", None]
    assert feedparser.parse(render_atom(config, INFO, [english, korean])).entries[0].content[0].language == "en"
    plain = render_atom(config, INFO, [korean])
    assert plain.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<feed")  # the same form either way
    assert render_atom(config, INFO, [english, korean]).startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<feed")


def test_anchors_in_feed_content_lead_to_the_day_page(tmp_path):
    text = digest_text("2024-03-15", [("2403.00005", "A"), ("2403.00006", "B")]).replace(
        "- ***What's New***: 새로운 방법을 제안합니다.\n", "- 옆 논문은 [여기](#2403.00006).\n", 1)
    config = write_site(tmp_path / "site", {"2024-03-15.md": text})
    build(config)
    for name in ("feed.xml", "atom.xml", "feed.json"):  # as written: feedparser would resolve them itself
        raw = (config.output_dir / name).read_text(encoding="utf-8")
        assert "https://example.org/2024/03/15/#2403.00006" in raw, name
        assert not any(f"href={quote}#" in raw for quote in ('"', "&quot;", '\\"')), name
