"""site.toml: typed values, defaults, and errors naming the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.config import load_config, parse_config
from generator.problems import BuildError

BASE = 'title = "T"\nbase_url = "https://user.github.io/repo"\n'


def errors(text: str, root: Path = Path("/srv/site")) -> list[str]:
    with pytest.raises(BuildError) as caught:
        parse_config(text, "site.toml", root)
    return [str(p) for p in caught.value.problems]


def test_defaults_and_relative_paths(tmp_path):
    config = parse_config(BASE, "site.toml", tmp_path)
    assert config.language == "ko" and config.timezone == "UTC"
    assert config.paginate == 10 and config.feed_limit == 20 and config.cname is None
    assert config.content_dir == tmp_path / "content" and config.output_dir == tmp_path / "_site"
    assert config.base_url == "https://user.github.io/repo/" and config.base_path == "/repo/"


def test_all_keys_typed(tmp_path):
    config = parse_config(BASE + 'description = "d"\nauthor = "a"\nlanguage = "en"\ntimezone = "Asia/Seoul"\n'
                          'paginate = 5\nfeed_limit = 7\ncontent_dir = "posts"\ntemplates_dir = "theme"\n'
                          'output_dir = "public"\ncname = "papers.example.org"\nsearch = false\n', "site.toml", tmp_path)
    assert (config.paginate, config.feed_limit, config.search) == (5, 7, False)
    assert config.content_dir == tmp_path / "posts" and config.output_dir == tmp_path / "public"
    assert str(config.tz) == "Asia/Seoul" and config.cname == "papers.example.org"


def test_unknown_key_suggests_the_right_one():
    assert errors(BASE + 'ouput_dir = "x"\n') == [
        "site.toml:3: error: unknown key 'ouput_dir' (did you mean 'output_dir'?)"]


def test_missing_required_keys():
    assert errors('description = "x"\n') == [
        "site.toml:1: error: missing required key 'title'",
        "site.toml:1: error: missing required key 'base_url'"]


@pytest.mark.parametrize("url", ["javascript:alert(1)", 'http://x"><script>', "ftp://example.org/", "example.org"])
def test_base_url_must_be_http(url):
    (message,) = errors(f'title = "T"\nbase_url = {url!r}\n'.replace("'", '"') if '"' not in url else
                        f"title = \"T\"\nbase_url = '{url}'\n")
    assert message.startswith("site.toml:2: error: 'base_url' must be")


def test_unknown_timezone_suggests_names():
    (message,) = errors(BASE + 'timezone = "Asia/Seul"\n')
    assert message.startswith("site.toml:3: error: unknown timezone 'Asia/Seul' (did you mean 'Asia/Seoul'")


def test_wrong_types_and_ranges():
    assert errors(BASE + 'paginate = "10"\nsearch = 1\nfeed_limit = 0\n') == [
        "site.toml:3: error: 'paginate' must be an integer, got a string",
        "site.toml:4: error: 'search' must be true or false, got an integer",
        "site.toml:5: error: 'feed_limit' must be between 1 and 10000, got 0"]


def test_invalid_toml_names_the_line():
    (message,) = errors(BASE + "paginate = = 3\n")
    assert message.startswith("site.toml:3: error: invalid TOML")


@pytest.mark.parametrize("out", [".", "content", "..", "/", "~"])
def test_output_dir_that_would_delete_sources_is_refused(tmp_path, out):
    root = Path.home() / "site-under-home" if out == "~" else tmp_path
    (message,) = errors(BASE + f'output_dir = "{out}"\n', root)
    assert message.startswith("site.toml:3: error: output dir")


def test_output_dir_symlink_is_resolved_before_the_check(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path)
    (message,) = errors(BASE + 'output_dir = "link"\n', tmp_path)
    assert "must not contain or equal" in message


def test_missing_file(tmp_path):
    with pytest.raises(BuildError) as caught:
        load_config(tmp_path / "nope.toml")
    assert str(caught.value.problems[0]).endswith("error: no such config file (run 'digest init' to make a site)")


def test_search_needs_paper_pages():
    assert errors(BASE + "paper_pages = false\n") == [
        "site.toml:1: error: search = true needs paper_pages = true (search results are paper pages); "
        "set search = false or turn paper pages back on"]
    assert parse_config(BASE + "paper_pages = false\nsearch = false\n", "site.toml", Path("/srv/site")).paper_pages is False


def test_output_dir_may_not_hold_the_cache(tmp_path):
    (message,) = errors(BASE + 'output_dir = "public"\ncache_dir = "public/.cache"\n', tmp_path)
    assert message.startswith("site.toml:3: error: output dir") and ".cache" in message


def test_an_unknown_table_is_reported_at_its_own_line():
    assert errors(BASE + '\n[extra]\nnote = "x"\n') == [
        "site.toml:4: error: unknown key 'extra'; known keys: " + ", ".join(
            ["title", "base_url", "description", "author", "language", "timezone", "paginate", "feed_limit",
             "content_dir", "templates_dir", "output_dir", "cache_dir", "cname", "search", "paper_pages"])]
    assert errors(BASE + '\n[[serach]]\nx = 1\n')[0].startswith("site.toml:4: error: unknown key 'serach' (did you mean 'search'?)")


def test_a_missing_content_dir_is_reported_at_its_key(tmp_path, monkeypatch):
    from generator.build import build
    from generator.config import load_config

    (tmp_path / "site.toml").write_text(BASE + 'description = "d"\ncontent_dir = "digests"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BuildError) as caught:
        build(load_config("site.toml"))
    assert [str(p) for p in caught.value.problems] == [
        f"site.toml:4: error: content dir does not exist: {tmp_path / 'digests'}"]
