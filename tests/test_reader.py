"""What readers get: paper pages, cross-links, tags and tag feeds, top papers, feeds, cards."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import feedparser
import lxml.html
import pytest

from conftest import DEFAULT_SITE_TOML, digest_text, write_site
from generator.build import build
from generator.problems import BuildError

SHARED = ("2403.11111", "Shared paper across days")


def page(out: Path, rel: str) -> lxml.html.HtmlElement:
    """Return the parsed HTML page at rel under out."""
    return lxml.html.fromstring((out / rel).read_bytes())


def meta(doc: lxml.html.HtmlElement, key: str) -> str | None:
    """Return the content of the <meta> with that name or property, or None."""
    found = doc.xpath(f'//meta[@name="{key}" or @property="{key}"]/@content')
    return found[0] if found else None


@pytest.fixture
def reader_site(tmp_path):
    """Return a built site: a paper on two days, tags (one in Hangul), two months of votes."""
    config = write_site(tmp_path / "site", {
        "2024-02-28.md": digest_text("2024-02-28", [("2402.00009", "February paper")],
                                     front="tags: [agents]"),
        "2024-03-13.md": digest_text("2024-03-13", [SHARED, ("2403.00002", "Only on the 13th")],
                                     front="tags: [multimodal, 강화 학습]"),
        "2024-03-15.md": digest_text("2024-03-15", [("2403.00005", "Top of the 15th"), SHARED],
                                     front="title: 금요일의 논문\ntags: [multimodal]\nlang: ko"),
    })
    build(config)
    return config


def test_paper_page_lists_every_day_and_links_back(reader_site):
    out = reader_site.output_dir
    doc = page(out, f"papers/{SHARED[0]}/index.html")
    assert doc.xpath("string(//h1)").strip() == SHARED[1]
    days = doc.xpath('//section[@class="appearances"]//a/@href')
    assert days == [f"/2024/03/15/#{SHARED[0]}", f"/2024/03/13/#{SHARED[0]}"]
    assert doc.xpath("//article[@data-pagefind-body]"), "paper pages are what search indexes"
    assert doc.xpath('//a[@href="https://arxiv.org/abs/2403.11111"]')
    assert [a.text for a in doc.xpath('//ul[@class="tags"]//a')] == ["multimodal", "강화 학습"]


def test_digest_pages_link_paper_page_and_other_days(reader_site):
    out = reader_site.output_dir
    for day, other in [("2024/03/13", "2024/03/15"), ("2024/03/15", "2024/03/13")]:
        doc = page(out, f"{day}/index.html")
        (article,) = doc.xpath(f'//article[@id="{SHARED[0]}"]')
        links = article.xpath(".//p[@class='paper-links']//a/@href")
        assert f"/papers/{SHARED[0]}/" in links
        assert f"/{other}/#{SHARED[0]}" in links
    only = page(out, "2024/03/13/index.html").xpath('//article[@id="2403.00002"]')[0]
    assert only.xpath(".//p[@class='paper-links']//a/@href") == ["/papers/2403.00002/"]
    assert not page(out, "2024/03/13/index.html").xpath("//*[@data-pagefind-body]")


def test_tag_pages_list_their_digests(reader_site):
    out = reader_site.output_dir
    index = page(out, "tags/index.html")
    assert {a.text: a.get("href") for a in index.xpath('//ul[@class="tag-cloud"]//a')} == {
        "multimodal": "/tags/multimodal/", "agents": "/tags/agents/", "강화 학습": "/tags/강화-학습/"}
    tag = page(out, "tags/multimodal/index.html")
    assert tag.xpath('//ol[@class="digest-list"]/li//h2/a/@href') == ["/2024/03/15/", "/2024/03/13/"]
    assert tag.xpath('//link[@type="application/rss+xml"]/@href')[-1] == "https://example.org/tags/multimodal/feed.xml"
    hangul = page(out, "tags/강화-학습/index.html")
    assert hangul.xpath('//ol[@class="digest-list"]/li//h2/a/@href') == ["/2024/03/13/"]
    home = page(out, "index.html")
    assert "/tags/multimodal/" in home.xpath('//li[@class="digest-card"]//ul[@class="tags"]//a/@href')
    digest = page(out, "2024/03/13/index.html")
    assert digest.xpath('//header[@class="digest-header"]//a[@rel="tag"]/@href') == ["/tags/multimodal/", "/tags/강화-학습/"]
    # the header's Tags link is the page itself only on /tags/; on a tag's page it marks the section
    assert index.xpath('//nav[@class="site-nav"]//a[@href="/tags/"]/@aria-current') == ["page"]
    assert tag.xpath('//nav[@class="site-nav"]//a[@href="/tags/"]/@aria-current') == ["true"]
    assert not digest.xpath('//nav[@class="site-nav"]//a/@aria-current')


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_tag_feeds_parse_back(reader_site, name):
    out = reader_site.output_dir
    feed = feedparser.parse((out / "tags/multimodal" / name).read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert "multimodal" in feed.feed.title
    assert [e.link for e in feed.entries] == ["https://example.org/2024/03/15/", "https://example.org/2024/03/13/"]
    assert all(e.get("content") or e.get("summary") for e in feed.entries)
    hangul = feedparser.parse((out / "tags/강화-학습" / name).read_bytes())
    assert hangul.bozo == 0 and [e.link for e in hangul.entries] == ["https://example.org/2024/03/13/"]


def test_top_page_ranks_each_month_newest_first(tmp_path):
    many = [(f"2403.{n:05d}", f"March paper {n}") for n in range(12)]
    config = write_site(tmp_path / "site", {
        "2024-02-28.md": digest_text("2024-02-28", [("2402.00009", "February paper")]),
        "2024-03-01.md": digest_text("2024-03-01", many[:6]),   # votes 40, 39, ... 35
        "2024-03-02.md": digest_text("2024-03-02", many[6:]),   # votes 40, 39, ... 35 again
    })
    build(config)
    doc = page(config.output_dir, "top/index.html")
    assert doc.xpath('//section[@class="top-month"]/h2/text()') == ["2024-03", "2024-02"]
    march = doc.xpath('//section[@class="top-month"][1]//ol/li')
    assert len(march) == 10
    titles = [li.xpath("string(a[1])") for li in march]
    assert titles[:2] == ["March paper 0", "March paper 6"]  # same votes: the earlier day first
    votes = [int(li.xpath("string(span[@class='votes'])").split()[-1]) for li in march]
    assert votes == sorted(votes, reverse=True)
    assert march[0].xpath("a[1]/@href") == ["/papers/2403.00000/"]


def test_json_feed_is_version_1_1_with_items(reader_site):
    feed = json.loads((reader_site.output_dir / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "https://example.org/feed.json"
    assert [item["url"] for item in feed["items"]] == [
        "https://example.org/2024/03/15/", "https://example.org/2024/03/13/", "https://example.org/2024/02/28/"]
    first = feed["items"][0]
    assert first["id"] and first["title"] == "금요일의 논문" and first["tags"] == ["multimodal"]
    assert first["content_html"] and first["date_published"].startswith("2024-03-15T")


def test_every_page_has_canonical_description_and_cards(reader_site):
    out = reader_site.output_dir
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        doc = lxml.html.fromstring(path.read_bytes())
        rel = path.relative_to(out).as_posix()
        canonical = doc.xpath('//link[@rel="canonical"]/@href')
        assert canonical and canonical[0].startswith("https://example.org/"), rel
        for key in ["description", "og:title", "og:description", "og:url", "og:type", "twitter:card", "twitter:title"]:
            assert meta(doc, key), (rel, key)
        assert meta(doc, "og:url") == canonical[0]
        assert doc.get("lang") in ("ko", "en"), rel
        (icon,) = doc.xpath('//link[@rel="icon"]/@href')  # not the host's /favicon.ico, a 404 on a project site
        assert (out / icon.split("?")[0].lstrip("/")).is_file(), (rel, icon)
        assert doc.xpath('//header//nav//a[@href="/tags/"]') and doc.xpath('//header//nav//a[@href="/top/"]'), rel
    paper = page(out, f"papers/{SHARED[0]}/index.html")
    assert meta(paper, "og:image") == f"https://cdn.example.org/thumbs/{SHARED[0]}.png"
    assert meta(paper, "twitter:card") == "summary_large_image"
    assert meta(paper, "og:type") == "article"


def test_sitemap_lists_paper_tag_and_top_pages(reader_site):
    sitemap = (reader_site.output_dir / "sitemap.xml").read_text(encoding="utf-8")
    for path in [f"papers/{SHARED[0]}/", "tags/", "tags/multimodal/", "top/", "2024/03/13/"]:
        assert f"<loc>https://example.org/{path}</loc>" in sitemap, path
    assert "search/" not in sitemap


def test_search_off_builds_no_search_page_or_box(reader_site):
    out = reader_site.output_dir
    assert not (out / "search").exists() and not (out / "pagefind").exists()
    assert not page(out, "index.html").xpath('//form[@role="search"]')


def test_search_on_without_pagefind_fails_clearly_and_keeps_output(reader_site, monkeypatch):
    (reader_site.root / "site.toml").write_text(DEFAULT_SITE_TOML.replace("search = false", "search = true"))
    from generator.config import load_config

    config = load_config(reader_site.root / "site.toml")
    before = (config.output_dir / "index.html").read_bytes()
    monkeypatch.setitem(sys.modules, "pagefind_bin", None)  # as if pagefind-bin were not installed
    with pytest.raises(BuildError) as info:
        build(config)
    assert "search = true needs pagefind-bin" in str(info.value) and "search = false" in str(info.value)
    assert (config.output_dir / "index.html").read_bytes() == before


def test_a_day_in_another_language_marks_its_text_not_the_interface(tmp_path):
    config = write_site(tmp_path / "site", {
        "2024-03-14.md": digest_text("2024-03-14", [SHARED], intro="Today is about agents."),
        "2024-03-15.md": digest_text("2024-03-15", [("2403.00005", "An English day"), SHARED],
                                     front="lang: en", intro="Today is about agents."),
    })  # a Korean site (language = "ko")
    build(config)
    out = config.output_dir
    labels = ["본문으로 건너뛰기", "추천 수", "외", "썸네일", "편", "다른 날에도 소개됨", "소개된 날"]
    for rel in ["2024/03/15/index.html", "papers/2403.00005/index.html", "index.html", "top/index.html",
                "archive/index.html"]:
        doc = page(out, rel)
        assert doc.get("lang") == "ko", rel  # the page's own words are Korean: screen readers and search index it so
        marked = doc.xpath('//*[@lang="en"]')
        assert marked, rel  # the day's words say they are English
        for element in marked:
            text = element.text_content() + " ".join(element.xpath(".//@alt | .//@title | .//@aria-label"))
            assert not [label for label in labels if label in text], (rel, lxml.html.tostring(element)[:200])
    day = page(out, "2024/03/15/index.html")
    assert day.xpath('//h1[@lang="en"]') and day.xpath('//div[@class="intro"][@lang="en"]')
    assert len(day.xpath('//ul[@class="summary"][@lang="en"]')) == 2
    korean_day = page(out, "2024/03/14/index.html")
    assert not korean_day.xpath("//*[@lang][not(self::html)]")  # the site's language needs no marking


def test_relative_links_in_digest_text_still_lead_there_on_paper_pages(tmp_path):
    from generator.check import find_broken_links

    text = digest_text("2024-03-15", [("2403.00005", "Linking paper"), ("2403.00006", "Its neighbour")]).replace(
        "- ***What's New***: 새로운 방법을 제안합니다.\n",
        "- ***What's New***: 새로운 방법을 제안합니다.\n- 어제는 [전날](../14/), 옆 논문은 [여기](#2403.00006).\n", 1)
    config = write_site(tmp_path / "site", {"2024-03-14.md": digest_text("2024-03-14", [("2403.00001", "Before")]),
                                            "2024-03-15.md": text},
                        DEFAULT_SITE_TOML.replace('base_url = "https://example.org/"', 'base_url = "https://example.org/sub/"'))
    build(config)
    out = config.output_dir
    day = page(out, "2024/03/15/index.html").xpath('//article[@id="2403.00005"]//ul[@class="summary"]//a/@href')
    assert day == ["../14/", "#2403.00006"]  # as written, for the page it was written for
    paper = page(out, "papers/2403.00005/index.html").xpath('//ul[@class="summary"]//a/@href')
    assert paper == ["/sub/2024/03/14/", "/sub/2024/03/15/#2403.00006"]
    assert find_broken_links(out, "/sub/", "https://example.org/sub/") == []
