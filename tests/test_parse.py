"""Tests for generator.parse (and the plain-text fast path of generator.markup).

Every digest text here is written for these tests; none is read from disk.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generator import frontmatter, markup
from generator import parse as parse_mod
from generator.markup import XML_ILLEGAL
from generator.model import Digest, Summary, errors_in
from generator.parse import _bullet, _PaperDraft, _summary, decode_source, paper_id, parse_digest, path_date

PATH = "content/2024-05-02.md"
UNDATED = "content/notes.md"


def parse(text: str, path: str = PATH, tz: str = "UTC"):
    return parse_digest(text, path, tz)


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def parse_ok(text: str, path: str = PATH, tz: str = "UTC") -> tuple[Digest, list[str]]:
    digest, problems = parse(text, path, tz)
    assert digest is not None, messages(problems)
    assert not errors_in(problems), messages(problems)
    return digest, messages(problems)


def parse_bad(text: str, path: str = PATH, tz: str = "UTC") -> list[str]:
    digest, problems = parse(text, path, tz)
    assert digest is None
    assert errors_in(problems)
    return messages(problems)


def all_html(digest: Digest) -> str:
    parts = [digest.intro_html]
    for paper in digest.papers:
        parts.append(paper.extra_html)
        parts.extend(b.html for b in paper.summary)
    return "\n".join(parts)


def digest_with(paper_block: str, heading: str = "## Daily Papers (2024-05-02)") -> str:
    return f"{heading}\n\n{paper_block}\n"


# --- the reference shape ------------------------------------------------------------------

REFERENCE = """\
## Daily Papers (2024-05-02)

### [Sparse Lattice Transformers for Tide Forecasting](https://arxiv.org/abs/2405.01111)

![](https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2405.01111.png)

Vote: 88

Authors: Marta Quispe, Søren Kjærgård, +, Zoë Ångström, 김민준

- 조석 예측을 위해 희소 격자 구조를 쓰는 트랜스포머를 제안합니다.
- Attention is restricted to a lattice of *neighbouring* gauges.
- 기존 방법 대비 평균 오차가 12% 줄었습니다.

### [Curriculum Pruning without Retraining](https://arxiv.org/abs/2405.02222)

![](https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2405.02222.png)

Vote: 41

Authors: José Núñez, Hiroshi Tanaka, +, Ana Lúcia Brandão

- Pruning follows a curriculum from easy to hard layers.
- No retraining step is needed after pruning.

### [A Benchmark of Lost-in-the-Middle Effects for Code Models](https://arxiv.org/abs/2405.03333)

![](https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2405.03333.png)

Vote: 17

Authors: Priya Raman, Jürgen Öztürk

- A benchmark of 4k repository-level tasks.
- Accuracy drops for facts placed mid-context.
- Retrieval ordering mitigates it partly.
- The data set is released under `CC-BY`.

### [Notes on Calibrated Abstention](https://arxiv.org/abs/2405.04444)

![](https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2405.04444.png)

Vote: 3

Authors: Lê Văn Thành, +

- Abstention thresholds are learned per domain.
"""

FRONT_MATTER = """\
---
title: Papers of the Day (2024-05-02)
date: 2024-05-02
lang: ko
tags: [multimodal, mamba]
draft: false
description: Four papers on tides, pruning, code models and abstention
---
"""


def test_reference_shape_without_front_matter():
    digest, problems = parse_ok(REFERENCE)
    assert problems == []
    assert digest.date == dt.date(2024, 5, 2)
    assert digest.published == dt.datetime(2024, 5, 2, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert digest.title == "Daily Papers (2024-05-02)"
    assert digest.source == PATH
    assert digest.lang is None and digest.tags == () and digest.draft is False
    assert digest.intro_html == ""
    assert len(digest.papers) == 4
    assert sum(len(p.summary) for p in digest.papers) == 10
    assert [len(p.summary) for p in digest.papers] == [3, 2, 4, 1]
    assert [p.votes for p in digest.papers] == [88, 41, 17, 3]
    assert [p.id for p in digest.papers] == ["2405.01111", "2405.02222", "2405.03333", "2405.04444"]
    assert [p.line for p in digest.papers] == [3, 15, 26, 39]
    first = digest.papers[0]
    assert first.title == "Sparse Lattice Transformers for Tide Forecasting"
    assert first.url == "https://arxiv.org/abs/2405.01111"
    assert first.thumbnail == "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2405.01111.png"
    assert first.video is None
    assert first.summary[1].html == "Attention is restricted to a lattice of <em>neighbouring</em> gauges."
    assert first.summary[0].html == "조석 예측을 위해 희소 격자 구조를 쓰는 트랜스포머를 제안합니다."
    assert all(b.label == "" for p in digest.papers for b in p.summary)
    assert digest.papers[2].summary[3].html == "The data set is released under <code>CC-BY</code>."
    assert all(p.extra_html == "" for p in digest.papers)


def test_authors_plus_marks_omission_and_is_not_an_author():
    digest, _ = parse_ok(REFERENCE)
    papers = digest.papers
    assert papers[0].authors == ("Marta Quispe", "Søren Kjærgård", "Zoë Ångström", "김민준")
    assert papers[0].authors_omitted is True
    assert papers[1].authors == ("José Núñez", "Hiroshi Tanaka", "Ana Lúcia Brandão")
    assert papers[1].authors_omitted is True
    assert papers[2].authors == ("Priya Raman", "Jürgen Öztürk")
    assert papers[2].authors_omitted is False
    assert papers[3].authors == ("Lê Văn Thành",)  # a trailing "+" too
    assert papers[3].authors_omitted is True
    assert not any("+" in a for p in papers for a in p.authors)


def test_non_ascii_names_are_kept_exactly():
    text = digest_with("### [T](https://arxiv.org/abs/2405.01111)\n\n"
                       "Authors: Hédi Ben-Amor, Łukasz Żółć, Ñandú Peña, 李小龙, Ольга Петрова")
    digest, _ = parse_ok(text)
    assert digest.papers[0].authors == ("Hédi Ben-Amor", "Łukasz Żółć", "Ñandú Peña", "李小龙", "Ольга Петрова")


def test_reference_shape_with_front_matter():
    digest, problems = parse_ok(FRONT_MATTER + REFERENCE)
    assert problems == []
    assert digest.title == "Papers of the Day (2024-05-02)"
    assert digest.date == dt.date(2024, 5, 2)
    assert digest.lang == "ko"
    assert digest.tags == ("multimodal", "mamba")
    assert digest.draft is False
    assert digest.description == "Four papers on tides, pruning, code models and abstention"
    assert len(digest.papers) == 4
    assert sum(len(p.summary) for p in digest.papers) == 10
    # Lines still count from line 1 of the file.
    assert [p.line for p in digest.papers] == [11, 23, 34, 47]
    plain, _ = parse_ok(REFERENCE)
    assert [p.summary for p in digest.papers] == [p.summary for p in plain.papers]


def test_front_matter_keys_are_all_optional():
    digest, problems = parse_ok("---\n---\n" + REFERENCE)
    assert problems == []
    assert digest.title == "Daily Papers (2024-05-02)"


def test_front_matter_tags_as_comma_separated_text():
    digest, _ = parse_ok("---\ntags: vision, speech, vision\n---\n" + REFERENCE)
    assert digest.tags == ("vision", "speech")


def test_front_matter_draft_true():
    digest, _ = parse_ok("---\ndraft: true\n---\n" + REFERENCE)
    assert digest.draft is True


def test_intro_and_other_markdown_belong_where_they_stand():
    text = """\
## Daily Papers (2024-05-02)

Today's digest has **two** papers.

Second intro paragraph.

### [First](https://arxiv.org/abs/2405.01111)

Vote: 5

- a bullet

A closing paragraph for the first paper.

```
code line
```

| k | v |
|---|---|
| x | 1 |

### [Second](https://arxiv.org/abs/2405.02222)

- b bullet
"""
    digest, _ = parse_ok(text)
    assert digest.intro_html == "<p>Today's digest has <strong>two</strong> papers.</p>\n<p>Second intro paragraph.</p>"
    first, second = digest.papers
    extra = first.extra_html
    assert extra.index("A closing paragraph") < extra.index("<pre><code>code line") < extra.index("<table>")
    assert [b.html for b in first.summary] == ["a bullet"]
    assert second.extra_html == ""
    assert [b.html for b in second.summary] == ["b bullet"]


def test_a_large_day_parses():
    blocks = []
    for i in range(70):
        blocks.append(f"### [Paper number {i}](https://arxiv.org/abs/2405.{10000 + i})\n\n"
                      f"Vote: {70 - i}\n\nAuthors: A{i}, B{i}, +\n\n- one\n- two\n- three\n")
    digest, problems = parse_ok("## Daily Papers (2024-05-02)\n\n" + "\n".join(blocks))
    assert problems == []
    assert len(digest.papers) == 70
    assert sum(len(p.summary) for p in digest.papers) == 210
    assert len({p.id for p in digest.papers}) == 70


# --- where digests live and their dates ----------------------------------------------------

NO_DATE_HEADING = "## Daily Papers\n\n### [T](https://arxiv.org/abs/2405.01111)\n\n- x\n"


@pytest.mark.parametrize("path", [
    "2024-05-02.md",
    "content/2024-05-02.md",
    "content/2024-05-02-anything.md",
    "content/2024-05-02-second-run.md",
    "content/2024/05/02.md",
    "2024/05/02.md",
    "content/archive/2024/05/02.md",
])
def test_path_dates(path):
    assert path_date(path) == (2024, 5, 2)
    digest, problems = parse_ok(NO_DATE_HEADING, path)
    assert digest.date == dt.date(2024, 5, 2)
    assert problems == []


@pytest.mark.parametrize("path", ["content/notes.md", "content/2024/5/2.md", "content/x2024-05-02.md",
                                  "content/2024-05-02.txt", "content/2024-05.md"])
def test_paths_without_a_date(path):
    assert path_date(path) is None


def test_path_date_is_unchecked():
    assert path_date("content/2024-13-45-digest.md") == (2024, 13, 45)


def test_mixed_layouts_give_the_same_digest():
    flat, _ = parse_ok(REFERENCE, "content/2024-05-02.md")
    nested, _ = parse_ok(REFERENCE, "content/2024/05/02.md")
    assert flat.papers == nested.papers
    assert flat.date == nested.date


def test_date_from_heading_alone():
    digest, _ = parse_ok(REFERENCE, UNDATED)
    assert digest.date == dt.date(2024, 5, 2)


def test_date_from_front_matter_alone():
    digest, _ = parse_ok("---\ndate: 2024-05-02\n---\n" + NO_DATE_HEADING, UNDATED)
    assert digest.date == dt.date(2024, 5, 2)
    assert digest.title == "Daily Papers"


def test_all_three_dates_agree():
    digest, problems = parse_ok("---\ndate: 2024-05-02\n---\n" + REFERENCE, "content/2024/05/02.md")
    assert digest.date == dt.date(2024, 5, 2)
    assert problems == []


def test_front_matter_datetime_comes_first_and_keeps_its_time():
    digest, _ = parse_ok("---\ndate: 2024-05-02T23:30:00\n---\n" + REFERENCE, PATH, tz="Asia/Seoul")
    assert digest.date == dt.date(2024, 5, 2)
    assert digest.published == dt.datetime(2024, 5, 2, 23, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Seoul"))
    assert digest.published.utcoffset() == dt.timedelta(hours=9)


def test_heading_date_gives_midnight_in_site_timezone():
    digest, _ = parse_ok(REFERENCE, UNDATED, tz="Asia/Seoul")
    assert digest.published == dt.datetime(2024, 5, 2, tzinfo=zoneinfo.ZoneInfo("Asia/Seoul"))
    assert digest.path == "2024/05/02/"


def test_heading_disagrees_with_file_name():
    problems = parse_bad("## Daily Papers (2024-05-03)\n\n### [T](https://arxiv.org/abs/2405.01111)\n",
                         "content/2024-05-02.md")
    assert problems == ["content/2024-05-02.md:1: error: heading date 2024-05-03 (line 1) "
                        "disagrees with file name date 2024-05-02"]


def test_front_matter_disagrees_with_heading():
    text = "---\ndate: 2024-05-04\n---\n## Daily Papers (2024-05-03)\n\n### [T](https://arxiv.org/abs/2405.01111)\n"
    assert parse_bad(text, UNDATED) == [
        "content/notes.md:4: error: front matter date 2024-05-04 (line 2) disagrees with heading date 2024-05-03 (line 4)"
    ]


def test_front_matter_disagrees_with_nested_path():
    text = "---\ndate: 2024-01-06\n---\n" + NO_DATE_HEADING
    assert parse_bad(text, "content/2024/01/05.md") == [
        "content/2024/01/05.md:2: error: front matter date 2024-01-06 (line 2) disagrees with file name date 2024-01-05"
    ]


def test_two_headings_with_different_dates():
    text = ("## Daily Papers (2024-05-02)\n\n### [A](https://arxiv.org/abs/2405.01111)\n\n"
            "## Daily Papers (2024-05-09)\n\n### [B](https://arxiv.org/abs/2405.02222)\n")
    assert parse_bad(text, UNDATED) == [
        "content/notes.md:5: error: heading date 2024-05-09 disagrees with the heading date 2024-05-02 at line 1"
    ]


def test_no_date_anywhere():
    assert parse_bad(NO_DATE_HEADING, UNDATED) == [
        "content/notes.md:1: error: no date: give front matter 'date', a heading like "
        "'## Daily Papers (2024-03-15)' or a file name like 2024-03-15.md"
    ]


def test_impossible_date_in_heading():
    text = "## Daily Papers (2024-02-30)\n\n### [T](https://arxiv.org/abs/2405.01111)\n"
    assert parse_bad(text, UNDATED) == ["content/notes.md:1: error: impossible date 2024-02-30 in the heading"]


def test_impossible_date_in_heading_on_a_later_line():
    text = "\nSome words first.\n\n# Daily Papers (2023-02-29)\n"
    assert parse_bad(text, UNDATED) == ["content/notes.md:4: error: impossible date 2023-02-29 in the heading"]


@pytest.mark.parametrize("path, shown", [
    ("content/2024-02-30.md", "2024-02-30"),
    ("content/2024-13-45-digest.md", "2024-13-45"),
    ("content/2023/02/29.md", "2023-02-29"),
])
def test_impossible_date_in_file_name(path, shown):
    assert parse_bad(NO_DATE_HEADING, path) == [f"{path}:1: error: impossible date {shown} in the file name"]


def test_h1_digest_heading():
    digest, _ = parse_ok("# Daily Papers (2024-05-02)\n\n### [T](https://arxiv.org/abs/2405.01111)\n", UNDATED)
    assert digest.date == dt.date(2024, 5, 2)
    assert digest.title == "Daily Papers (2024-05-02)"


# --- front matter ---------------------------------------------------------------------------


def test_invalid_yaml_line_counts_from_the_file_start():
    text = "\n\n---\ntitle: a\n  bad: indent\n---\n" + REFERENCE
    problems = parse_bad(text)
    assert problems == ["content/2024-05-02.md:5: error: invalid front matter: mapping values are not allowed here"]


def test_invalid_yaml_line_without_leading_blank_lines():
    problems = parse_bad("---\ntitle: a\n  bad: indent\n---\n" + REFERENCE)
    assert problems == ["content/2024-05-02.md:3: error: invalid front matter: mapping values are not allowed here"]


def test_invalid_yaml_deeper_in_the_block():
    text = "---\nlang: ko\ndescription: fine\ntags: [a, b\ndraft: false\n---\n" + REFERENCE
    problems = parse_bad(text)
    assert len(problems) == 1
    assert problems[0].startswith("content/2024-05-02.md:")
    line = int(problems[0].split(":")[1])
    assert 4 <= line <= 6  # the unclosed list, not line 1 of the block
    assert "error: invalid front matter:" in problems[0]


def test_unclosed_quote_does_not_swallow_the_body():
    problems = parse_bad('---\ntitle: "open\n---\n' + REFERENCE)
    assert problems[0].startswith("content/2024-05-02.md:2: error: invalid front matter:")
    assert len(problems) == 1


def test_front_matter_that_is_a_list():
    problems = parse_bad("---\n- a\n- b\n---\n" + REFERENCE)
    assert problems == ["content/2024-05-02.md:2: error: front matter must be a mapping of keys to values"]


def test_front_matter_that_is_a_scalar():
    problems = parse_bad("---\njust some words\n---\n" + REFERENCE)
    assert problems == ["content/2024-05-02.md:2: error: front matter must be a mapping of keys to values"]


def test_body_opening_with_a_rule_is_not_silently_lost():
    text = "---\n\nHello there\n\n---\n\nWorld\n"
    problems = parse_bad(text)
    assert "content/2024-05-02.md:2: error: front matter must be a mapping of keys to values" in problems


def test_unterminated_front_matter():
    problems = parse_bad("---\ntitle: x\nno closing delimiter\n")
    assert "content/2024-05-02.md:1: error: unterminated front matter (no closing '---')" in problems
    assert errors_in_messages(problems) == ["content/2024-05-02.md:1: error: unterminated front matter (no closing '---')"]


def test_unterminated_front_matter_after_blank_lines():
    problems = parse_bad("\n\n---\ntitle: x\n## Daily Papers (2024-05-02)\n")
    assert errors_in_messages(problems) == ["content/2024-05-02.md:3: error: unterminated front matter (no closing '---')"]


def errors_in_messages(problems: list[str]) -> list[str]:
    return [p for p in problems if ": error: " in p]


def test_duplicate_key():
    problems = parse_bad("---\ntitle: a\ntitle: b\n---\n" + REFERENCE)
    assert problems == ["content/2024-05-02.md:3: error: invalid front matter: duplicate key 'title'"]


def test_duplicate_key_after_blank_lines():
    problems = parse_bad("\n---\nlang: ko\ndescription: x\nlang: en\n---\n" + REFERENCE)
    assert problems == ["content/2024-05-02.md:5: error: invalid front matter: duplicate key 'lang'"]


@pytest.mark.timeout(10)
def test_billion_laughs_is_refused():
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "---\n" + "\n".join(rows) + "\n---\n" + REFERENCE
    problems = parse_bad(text)
    assert problems == ["content/2024-05-02.md:3: error: invalid front matter: aliases are not allowed"]


def test_a_single_alias_is_refused():
    problems = parse_bad("---\ntitle: &t hello\ndescription: *t\n---\n" + REFERENCE)
    assert problems == ["content/2024-05-02.md:3: error: invalid front matter: aliases are not allowed"]


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/apply:subprocess.call [['touch', '{marker}']]",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
])
def test_python_tags_are_refused_and_nothing_runs(tmp_path, tag):
    marker = tmp_path / "pwned"
    text = "---\nlang: ko\nx: " + tag.format(marker=marker) + "\n---\n" + REFERENCE
    problems = parse_bad(text)
    assert len(problems) == 1
    assert problems[0].startswith("content/2024-05-02.md:3: error: invalid front matter: could not determine a constructor")
    assert not marker.exists()


@pytest.mark.parametrize("line, expected", [
    ("title: yes", "'title' must be text, got true/false (quote it)"),
    ("title: 10:00", "'title' must be text, got a number (quote it)"),
    ("description: 1.10", "'description' must be text, got a number (quote it)"),
    ("description: [a, b]", "'description' must be text, got a list (quote it)"),
    ("lang: no", "'lang' must be text, got true/false (quote it)"),
    ("title:", "'title' must be text, got nothing (quote it)"),
    ("draft: 'no'", "'draft' must be true or false, got str"),
    ("draft: 1", "'draft' must be true or false, got a number"),
    ("tags: {a: 1}", "'tags' must be a list of text, such as [multimodal, mamba]"),
    ("tags: [1, 2]", "'tags' must be a list of text, such as [multimodal, mamba]"),
    ("lang: 'ko kr'", "'lang' must be a language tag such as 'ko' or 'en', got 'ko kr'"),
])
def test_front_matter_type_errors(line, expected):
    problems = parse_bad("---\n\n" + line + "\n---\n" + REFERENCE)
    assert problems == [f"content/2024-05-02.md:3: error: {expected}"]


def test_quoted_yaml_words_are_text():
    digest, _ = parse_ok("---\ntitle: 'yes'\ndescription: '1.10'\n---\n" + REFERENCE)
    assert digest.title == "yes"
    assert digest.description == "1.10"


@pytest.mark.parametrize("value, published", [
    ("2024-05-02", dt.datetime(2024, 5, 2, 0, 0)),
    ("2024-05-02T10:00:00", dt.datetime(2024, 5, 2, 10, 0)),
    ("2024-05-02 10:00:00", dt.datetime(2024, 5, 2, 10, 0)),
    ('"2024-05-02"', dt.datetime(2024, 5, 2, 0, 0)),
    ('"2024-05-02T08:15:00"', dt.datetime(2024, 5, 2, 8, 15)),
    ("2024-05-02T10:00:00+09:00", dt.datetime(2024, 5, 2, 1, 0)),
])
def test_front_matter_date_forms(value, published):
    digest, _ = parse_ok(f"---\ndate: {value}\n---\n" + NO_DATE_HEADING, UNDATED)
    assert digest.date == dt.date(2024, 5, 2)
    assert digest.published == published.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert digest.published.tzinfo is not None


@pytest.mark.parametrize("value, shown", [
    ('"Jan 5"', "'Jan 5'"),
    ("not a date", "'not a date'"),
    ("20240502", "20240502"),
    ("[2024, 5, 2]", "[2024, 5, 2]"),
])
def test_front_matter_date_that_is_no_date(value, shown):
    problems = parse_bad(f"---\ndate: {value}\n---\n" + NO_DATE_HEADING, UNDATED)
    assert problems == [f"content/notes.md:2: error: 'date' must be a date such as 2024-03-15, got {shown}"]


def test_front_matter_impossible_date():
    problems = parse_bad("---\ndate: 2024-02-30\n---\n" + NO_DATE_HEADING, UNDATED)
    assert problems == ["content/notes.md:2: error: 'date' is not a real date: 2024-02-30"]


def test_unknown_front_matter_key_is_a_warning():
    digest, problems = parse_ok("---\nlang: ko\ntitel: Oops\n---\n" + REFERENCE)
    assert problems == ["content/2024-05-02.md:3: warning: unknown front matter key 'titel' "
                        "(known: title, date, lang, tags, draft, description)"]
    assert digest.title == "Daily Papers (2024-05-02)"
    assert digest.lang == "ko"


def test_bom_before_front_matter():
    data = b"\xef\xbb\xbf" + ("---\ntitle: bom\n---\n" + REFERENCE).encode("utf-8")
    text, problems = decode_source(data, PATH)
    assert problems == []
    assert not text.startswith("\ufeff")
    digest, _ = parse_ok(text)
    assert digest.title == "bom"
    assert len(digest.papers) == 4


def test_front_matter_larger_than_the_cap():
    big = "description: " + "x" * (17 * 1024)
    problems = parse_bad(f"---\n{big}\n---\n" + REFERENCE)
    assert problems == ["content/2024-05-02.md:2: error: front matter larger than 16 KiB"]


# --- variants the pipeline produced ----------------------------------------------------------


def test_no_vote_line_and_no_thumbnail():
    text = digest_with("### [Early Days](https://arxiv.org/abs/2405.01111)\n\nAuthors: Ada, Bob\n\n- x\n- y")
    digest, problems = parse_ok(text)
    assert problems == []
    paper = digest.papers[0]
    assert paper.votes is None
    assert paper.thumbnail is None
    assert paper.authors == ("Ada", "Bob")
    assert len(paper.summary) == 2


def test_vote_zero_and_votes_spelling():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\nVote: 0\n\n"
                       "### [B](https://arxiv.org/abs/2405.02222)\n\nVotes: 12\n")
    digest, _ = parse_ok(text)
    assert [p.votes for p in digest.papers] == [0, 12]


def test_thumbnail_on_another_host():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n"
                       "![](https://images.example-cdn.org/thumbs/a.jpg)\n\nVote: 2\n\n- x")
    digest, problems = parse_ok(text)
    assert problems == []
    assert digest.papers[0].thumbnail == "https://images.example-cdn.org/thumbs/a.jpg"
    assert digest.papers[0].votes == 2


def test_video_instead_of_thumbnail():
    text = digest_with(
        "### [Moving Pictures](https://arxiv.org/abs/2405.01111)\n\n"
        "[Watch Video](https://cdn.example.net/videos/2405.01111.mp4)\n\n"
        '<div><video controls src="https://cdn.example.net/videos/2405.01111.mp4" muted="false"></video></div>\n\n'
        "Vote: 9\n\nAuthors: Kim, Lee\n\n- a clip\n- b clip"
    )
    digest, problems = parse_ok(text)
    assert problems == []
    paper = digest.papers[0]
    assert paper.video == "https://cdn.example.net/videos/2405.01111.mp4"
    assert paper.thumbnail is None
    assert paper.votes == 9
    assert paper.authors == ("Kim", "Lee")
    assert [b.html for b in paper.summary] == ["a clip", "b clip"]
    out = all_html(digest)
    assert "<video" not in out and "<div" not in out and "Watch Video" not in out
    assert "&lt;video" not in out


def test_video_with_a_dangerous_source_is_dropped():
    text = digest_with(
        "### [V](https://arxiv.org/abs/2405.01111)\n\n"
        "[Watch Video](javascript:alert(1))\n\n"
        '<div><video controls src="javascript:alert(1)" muted="false"></video></div>\n\n- x'
    )
    digest, _ = parse(text)
    assert digest is not None
    assert digest.papers[0].video is None
    assert "javascript" not in all_html(digest)


def test_authors_as_a_python_list():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n"
                       "Authors: ['Ada Lovelace', 'Alan Turing', \"Grace O'Neil\", 'Émile Borel']\n\n- x")
    digest, problems = parse_ok(text)
    assert problems == []
    assert digest.papers[0].authors == ("Ada Lovelace", "Alan Turing", "Grace O'Neil", "Émile Borel")
    assert digest.papers[0].authors_omitted is False


def test_authors_python_list_with_plus():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\nAuthors: ['Ada Lovelace', '+', 'Alan Turing']")
    digest, _ = parse_ok(text)
    assert digest.papers[0].authors == ("Ada Lovelace", "Alan Turing")
    assert digest.papers[0].authors_omitted is True


def test_authors_python_list_that_is_not_a_literal_is_never_evaluated():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\nAuthors: [__import__('os').getcwd()]")
    digest, problems = parse_ok(text)
    assert "content/2024-05-02.md:5: warning: Authors list could not be read as a list of names; split at commas" in problems
    assert digest.papers[0].authors == ("__import__(os).getcwd()",)


def test_author_order_is_kept_as_written():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\nAuthors: Zed, Amy, Moe")
    digest, _ = parse_ok(text)
    assert digest.papers[0].authors == ("Zed", "Amy", "Moe")


def test_next_heading_right_after_a_bullet():
    text = ("## Daily Papers (2024-05-02)\n\n"
            "### [A](https://arxiv.org/abs/2405.01111)\n- a one\n- a two\n"
            "### [B](https://arxiv.org/abs/2405.02222)\n- b one\n"
            "### [C](https://arxiv.org/abs/2405.03333)\nVote: 4\n- c one\n")
    digest, problems = parse_ok(text)
    assert problems == []
    assert [p.title for p in digest.papers] == ["A", "B", "C"]
    assert [[b.html for b in p.summary] for p in digest.papers] == [["a one", "a two"], ["b one"], ["c one"]]
    assert digest.papers[2].votes == 4
    assert [p.line for p in digest.papers] == [3, 6, 8]


@pytest.mark.parametrize("bullet", [
    "- **{label}**: {text}",
    "- ***{label}***: {text}",
    "- **{label}:** {text}",
    "- ***{label}:*** {text}",
])
@pytest.mark.parametrize("label", ["What's New", "Technical Details", "Performance Highlights"])
def test_labelled_bullets(bullet, label):
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n"
                       + bullet.format(label=label, text="a *new* idea") + "\n- an unlabelled one")
    digest, _ = parse_ok(text)
    labelled, plain = digest.papers[0].summary
    assert labelled.label == label
    assert labelled.html == "a <em>new</em> idea"
    assert plain.label == ""
    assert plain.html == "an unlabelled one"


def test_bold_start_without_a_colon_is_not_a_label():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n- **Strong** results on five tasks")
    digest, _ = parse_ok(text)
    bullet = digest.papers[0].summary[0]
    assert bullet.label == ""
    assert bullet.html == "<strong>Strong</strong> results on five tasks"


def test_labelled_bullet_label_is_plain_text():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n- **What's New <b>x</b>**: y")
    digest, _ = parse_ok(text)
    bullet = digest.papers[0].summary[0]
    assert bullet.label == "What's New <b>x</b>"  # data, escaped by the template
    assert bullet.html == "y"


def test_bullet_with_continuation_lines():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n- first line\n  goes on\n- second")
    digest, _ = parse_ok(text)
    first, second = digest.papers[0].summary
    assert "first line" in first.html and "goes on" in first.html
    assert second.html == "second"


def test_duplicate_digest_heading_merges_both_runs():
    text = ("## Daily Papers (2024-05-02)\n\n"
            "### [A](https://arxiv.org/abs/2405.01111)\n\n- a\n\n"
            "### [B](https://arxiv.org/abs/2405.02222)\n\n- b\n\n"
            "## Daily Papers (2024-05-02)\n\n"
            "### [C](https://arxiv.org/abs/2405.03333)\n\n- c\n\n"
            "### [D](https://arxiv.org/abs/2405.04444)\n\n- d\n")
    digest, problems = parse_ok(text)
    assert problems == []
    assert [p.title for p in digest.papers] == ["A", "B", "C", "D"]
    assert digest.title == "Daily Papers (2024-05-02)"
    assert "Daily Papers" not in all_html(digest)  # the second heading is not content of paper B


# --- paper ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("url, expected", [
    ("https://arxiv.org/abs/2405.01111", "2405.01111"),
    ("https://arxiv.org/abs/2405.01111v2", "2405.01111"),
    ("https://arxiv.org/pdf/2405.01111", "2405.01111"),
    ("https://arxiv.org/pdf/2405.01111v3", "2405.01111"),
    ("https://arxiv.org/pdf/2405.01111v3.pdf", "2405.01111"),
    ("https://arxiv.org/pdf/2405.01111.pdf", "2405.01111"),
    ("https://arxiv.org/html/2405.01111v1", "2405.01111"),
    ("https://arxiv.org/html/2405.01111v12/", "2405.01111"),
    ("http://arxiv.org/abs/2405.01111", "2405.01111"),
    ("https://www.arxiv.org/abs/2405.01111", "2405.01111"),
    ("https://export.arxiv.org/abs/2405.01111", "2405.01111"),
    ("https://arxiv.org/abs/2405.01111v2?context=cs.CL", "2405.01111"),
    ("https://arxiv.org/abs/2405.01111#section", "2405.01111"),
    ("https://arxiv.org/abs/1501.0001", "1501.0001"),
    ("https://arxiv.org/abs/hep-th/9901001v2", "hep-th-9901001"),
])
def test_arxiv_ids(url, expected):
    assert paper_id(url, "Whatever Title") == expected


@pytest.mark.parametrize("url, title, expected", [
    ("https://example.org/abs/2405.01111", "Tide Forecasting: A Study!", "tide-forecasting-a-study"),
    ("https://github.com/org/repo", "Repo  Name -- v2", "repo-name-v2"),
    (None, "Sparse Lattice Transformers", "sparse-lattice-transformers"),
    ("https://arxiv.org/list/cs.CL/recent", "List Page", "list-page"),
    (None, "한국어 제목", "한국어-제목"),
    (None, "!!!", "paper"),
    (None, "pa\u200bper", "paper"),
])
def test_slug_ids_for_other_links(url, title, expected):
    assert paper_id(url, title) == expected


def test_version_suffix_gives_same_id_in_a_digest():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111v1)\n\n- x")
    digest, _ = parse_ok(text)
    assert digest.papers[0].id == "2405.01111"
    assert digest.papers[0].id == "2405.01111"
    assert digest.papers[0].url == "https://arxiv.org/abs/2405.01111v1"


def test_duplicate_id_is_a_warning_with_unique_anchors():
    text = ("## Daily Papers (2024-05-02)\n\n"
            "### [A](https://arxiv.org/abs/2405.01111)\n\n- x\n\n"
            "### [A again](https://arxiv.org/pdf/2405.01111v2)\n\n- y\n\n"
            "### [Same Name](https://example.org/one)\n\n- z\n\n"
            "### [Same Name](https://example.org/two)\n\n- w\n")
    digest, problems = parse_ok(text)
    assert problems == [
        "content/2024-05-02.md:7: warning: paper id '2405.01111' appears twice in this digest (first at line 3)",
        "content/2024-05-02.md:15: warning: paper id 'same-name' appears twice in this digest (first at line 11)",
    ]
    anchors = [p.id for p in digest.papers]
    assert anchors == ["2405.01111", "2405.01111-2", "same-name", "same-name-2"]
    assert len(set(anchors)) == 4


def test_renamed_id_does_not_collide_with_a_later_slug():
    text = ("## Daily Papers (2024-05-02)\n\n"
            "### [X](https://example.org/a)\n"
            "### [X](https://example.org/b)\n"
            "### [X 2](https://example.org/c)\n")
    digest, problems = parse_ok(text)
    ids = [p.id for p in digest.papers]
    assert len(set(ids)) == 3
    assert len(problems) == 2


# --- errors and warnings ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["-3", "4.5", "many", "12 votes", "١٢", "1e3", "+7", "0x10"])
def test_vote_must_be_a_non_negative_integer(value):
    text = digest_with(f"### [A](https://arxiv.org/abs/2405.01111)\n\nVote: {value}\n\n- x")
    problems = parse_bad(text)
    assert problems == [f"content/2024-05-02.md:5: error: Vote must be a non-negative integer, got {value!r}"]


def test_empty_vote():
    problems = parse_bad(digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\nVote:\n"))
    assert problems == ["content/2024-05-02.md:5: error: Vote must be a non-negative integer, got ''"]


@pytest.mark.parametrize("heading", ["### [](https://arxiv.org/abs/2405.01111)", "### [   ](https://arxiv.org/abs/2405.01111)"])
def test_empty_paper_title(heading):
    problems = parse_bad(digest_with(heading + "\n\n- x"))
    assert problems == ["content/2024-05-02.md:3: error: paper heading has an empty title"]


def test_bare_paper_heading():
    problems = parse_bad(digest_with("###\n\n- x"))
    assert problems == ["content/2024-05-02.md:3: error: paper heading has an empty title",
                        "content/2024-05-02.md:3: warning: paper has no link"]


def test_title_of_only_invisible_characters_is_empty():
    problems = parse_bad(digest_with("### [\u202e\u200b](https://arxiv.org/abs/2405.01111)"))
    assert "content/2024-05-02.md:3: error: paper heading has an empty title" in problems


def test_invalid_utf8():
    data = "## Daily Papers (2024-05-02)\n\nok\n".encode() + b"bad \xff\xfe bytes\n"
    text, problems = decode_source(data, PATH)
    assert text is None
    offset = data.index(b"\xff")
    assert messages(problems) == [f"content/2024-05-02.md:4: error: not valid UTF-8 (byte offset {offset})"]


def test_invalid_utf8_on_the_first_line():
    text, problems = decode_source(b"\xc3(", "content/2024/05/02.md")
    assert text is None
    assert messages(problems) == ["content/2024/05/02.md:1: error: not valid UTF-8 (byte offset 0)"]


@pytest.mark.parametrize("char", [chr(c) for c in range(0x20) if c not in (9, 10, 13)] + ["\ufffe", "\uffff"])
def test_every_character_xml_forbids_is_found(char):
    data = f"## Daily Papers (2024-05-02)\n\n### [A{char}B](https://arxiv.org/abs/2405.01111)\n".encode()
    text, problems = decode_source(data, PATH)
    assert messages(problems) == ["content/2024-05-02.md:3: warning: control characters removed"]
    assert "A" + "B" in text and char not in text


def test_control_characters_are_removed_with_a_warning():
    data = "## Daily Papers (2024-05-02)\n\n### [A\x0bB](https://arxiv.org/abs/2405.01111)\n\n- x\x00y\n".encode()
    text, problems = decode_source(data, PATH)
    assert messages(problems) == ["content/2024-05-02.md:3: warning: control characters removed"]
    digest, _ = parse_ok(text)
    assert digest.papers[0].title == "AB"
    assert digest.papers[0].summary[0].html == "xy"


def test_digest_without_papers_is_a_warning():
    digest, problems = parse_ok("Some intro.\n\n## Daily Papers (2024-05-02)\n\nNothing today.\n")
    assert problems == ["content/2024-05-02.md:3: warning: digest has no papers"]
    assert digest.papers == ()


def test_empty_file_from_path_date_is_a_warning():
    digest, problems = parse_ok("")
    assert problems == ["content/2024-05-02.md:1: warning: digest has no papers"]
    assert digest.date == dt.date(2024, 5, 2)


def test_paper_without_link_is_a_warning():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n- x\n\n### A Title With No Link\n\n- y")
    digest, problems = parse_ok(text)
    assert problems == ["content/2024-05-02.md:7: warning: paper has no link"]
    paper = digest.papers[1]
    assert paper.url is None
    assert paper.title == "A Title With No Link"
    assert paper.id == "a-title-with-no-link"


def test_all_problems_of_one_file_are_reported_together():
    text = """\
---
lang: ko
colour: blue
---
## Daily Papers (2024-05-02)

### [A](https://arxiv.org/abs/2405.01111)

Vote: lots

- x

### [](https://arxiv.org/abs/2405.02222)

Vote: -1

### No Link Here
"""
    problems = parse_bad(text)
    assert problems == [
        "content/2024-05-02.md:3: warning: unknown front matter key 'colour' (known: title, date, lang, tags, draft, description)",
        "content/2024-05-02.md:9: error: Vote must be a non-negative integer, got 'lots'",
        "content/2024-05-02.md:13: error: paper heading has an empty title",
        "content/2024-05-02.md:15: error: Vote must be a non-negative integer, got '-1'",
        "content/2024-05-02.md:17: warning: paper has no link",
    ]


def test_two_bad_vote_lines_give_two_errors():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\nVote: x\n\n"
                       "### [B](https://arxiv.org/abs/2405.02222)\n\nVote: y\n")
    assert parse_bad(text) == [
        "content/2024-05-02.md:5: error: Vote must be a non-negative integer, got 'x'",
        "content/2024-05-02.md:9: error: Vote must be a non-negative integer, got 'y'",
    ]


def test_front_matter_error_and_body_errors_together():
    text = "---\ntitle: yes\n---\n" + digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\nVote: -2")
    assert parse_bad(text) == [
        "content/2024-05-02.md:2: error: 'title' must be text, got true/false (quote it)",
        "content/2024-05-02.md:8: error: Vote must be a non-negative integer, got '-2'",
    ]


def test_problem_levels_and_paths():
    _, problems = parse(digest_with("### Unlinked\n\nVote: ?"), "content/2024/05/02.md")
    assert {(p.path, p.line, p.level) for p in problems} == {
        ("content/2024/05/02.md", 3, "warning"), ("content/2024/05/02.md", 5, "error"),
    }


# --- untrusted text --------------------------------------------------------------------------


def test_script_in_a_bullet_is_escaped():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n"
                       "- <script>alert(document.domain)</script>\n"
                       "- plain <script>x</script> with *emphasis*\n"
                       "- <img src=x onerror=alert(1)>")
    digest, _ = parse_ok(text)
    first, second, third = (b.html for b in digest.papers[0].summary)
    assert first == "&lt;script&gt;alert(document.domain)&lt;/script&gt;"
    assert second == "plain &lt;script&gt;x&lt;/script&gt; with <em>emphasis</em>"
    assert "<img" not in third and "&lt;img" in third
    assert "<script" not in all_html(digest)


def test_raw_html_in_intro_and_extra_is_escaped():
    text = ("## Daily Papers (2024-05-02)\n\n<div onclick=\"x()\">intro</div>\n\n"
            "### [A](https://arxiv.org/abs/2405.01111)\n\n- x\n\n<iframe src=\"https://evil.example\"></iframe>\n")
    digest, _ = parse_ok(text)
    out = all_html(digest)
    assert "<div" not in out and "<iframe" not in out
    assert "&lt;iframe" in out


@pytest.mark.parametrize("link", [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "&#106;avascript:alert(1)",
    " javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
])
def test_dangerous_links_in_text_are_dropped(link):
    text = ("## Daily Papers (2024-05-02)\n\nSee [intro](" + link + ").\n\n"
            "### [A](https://arxiv.org/abs/2405.01111)\n\n- see [here](" + link + ") now\n\n"
            "More [there](" + link + ").\n")
    digest, _ = parse_ok(text)
    out = all_html(digest).lower()
    for scheme in ("javascript", "vbscript", "data:", "&#106;"):
        assert scheme not in out
    assert "here" in digest.papers[0].summary[0].html


def test_safe_links_in_text_are_kept():
    text = digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n- code at [repo](https://example.org/r)")
    digest, _ = parse_ok(text)
    assert 'href="https://example.org/r"' in digest.papers[0].summary[0].html


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "/relative/path"])
def test_dangerous_paper_link_is_dropped_with_a_warning(link):
    digest, problems = parse_ok(digest_with(f"### [A]({link})\n\n- x"))
    assert digest.papers[0].url is None
    assert problems == [f"content/2024-05-02.md:3: warning: paper link is not an http(s) URL and was dropped: {link!r}"]


def test_dangerous_thumbnail_is_dropped_with_a_warning():
    digest, problems = parse_ok(digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\n![](javascript:alert(1))\n\n- x"))
    assert digest.papers[0].thumbnail is None
    assert problems == ["content/2024-05-02.md:5: warning: thumbnail is not an http(s) image URL and was dropped"]


def test_title_with_markup_characters_stays_plain_text():
    digest, problems = parse_ok(digest_with('### [<T> & "Q"](https://arxiv.org/abs/2405.01111)\n\n- x'))
    assert problems == []
    assert digest.papers[0].title == '<T> & "Q"'
    assert digest.papers[0].id == "2405.01111"


def test_unlinked_title_with_markup_characters_stays_plain_text():
    digest, _ = parse_ok(digest_with('### <T> & "Q" *not emphasis*\n\n- x'))
    assert digest.papers[0].title == '<T> & "Q" *not emphasis*'
    assert digest.papers[0].id == "t-q-not-emphasis"


def test_template_syntax_is_just_text():
    digest, _ = parse_ok(digest_with("### [{{ 7*7 }}](https://arxiv.org/abs/2405.01111)\n\n- {% raw %} {{ 7*7 }}"))
    assert digest.papers[0].title == "{{ 7*7 }}"
    assert digest.papers[0].summary[0].html == "{% raw %} {{ 7*7 }}"


def _same_source_three_ways(lf_text: str):
    results = []
    for newline in ("\n", "\r\n", "\r"):
        data = lf_text.replace("\n", newline).encode("utf-8")
        text, problems = decode_source(data, PATH)
        assert problems == []
        results.append(parse(text))
    return results


def test_crlf_and_lone_cr_match_lf():
    source = FRONT_MATTER + REFERENCE + "\nClosing words with `code`\n\n```\nblock\n```\n"
    (lf, lf_p), (crlf, crlf_p), (cr, cr_p) = _same_source_three_ways(source)
    assert lf is not None
    assert lf == crlf == cr
    assert lf_p == crlf_p == cr_p


def test_crlf_and_lone_cr_match_lf_for_errors():
    source = "---\ntitle: a\n  bad: indent\n---\n" + digest_with("### [A](https://arxiv.org/abs/2405.01111)\n\nVote: x")
    (lf, lf_p), (crlf, crlf_p), (cr, cr_p) = _same_source_three_ways(source)
    assert lf is crlf is cr is None
    assert messages(lf_p) == messages(crlf_p) == messages(cr_p)
    assert len(errors_in(lf_p)) == 2


@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u202d", "\u2066", "\u2069", "\u200f", "\u200b"])
def test_bidi_and_invisible_controls_are_stripped_from_titles(control):
    text = digest_with(f"### [Title {control}gpj.exe](https://example.org/x)\n\n- x")
    digest, problems = parse_ok(text)
    assert problems == ["content/2024-05-02.md:3: warning: invisible or bidirectional control characters removed from the title"]
    assert digest.papers[0].title == "Title gpj.exe"
    assert control not in digest.papers[0].id


def test_bidi_override_stripped_from_digest_and_front_matter_titles():
    digest, _ = parse_ok("---\ndescription: \"a\u202eb\"\n---\n## Daily \u202eSrepaP (2024-05-02)\n"
                         "\n### [A](https://arxiv.org/abs/2405.01111)\n")
    assert "\u202e" not in digest.title
    assert "\u202e" not in digest.description


def test_korean_and_emoji_text_kept_exactly():
    digest, problems = parse_ok(digest_with("### [한국어 요약 😀👩‍🔬](https://arxiv.org/abs/2405.01111)\n\n- 한국어 요약 😀👩‍🔬"))
    assert problems == []
    assert digest.papers[0].title == "한국어 요약 😀👩‍🔬"
    assert digest.papers[0].summary[0].html == "한국어 요약 😀👩‍🔬"


# --- the markup fast path --------------------------------------------------------------------


def _without_paragraph(out: str) -> str:
    if out.startswith("<p>"):
        out = out[len("<p>"):]
    if out.endswith("</p>"):
        out = out[:-len("</p>")]
    return out


def _check_fast_path(text: str) -> None:
    if markup.is_plain(text):
        assert html.escape(text, quote=False) == _without_paragraph(markup.render_block(text))


_MARKDOWNISH = st.text(
    alphabet=st.sampled_from(list("ab1 \t\n\r#-=+*_`[]()<>&!|:.~\"'\\{}%\x00\x02\x03\x0b\x0c\xa0\u2028\u3000한😀")),
    max_size=40,
)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text())
def test_plain_text_fast_path_matches_markdown(text):
    _check_fast_path(text)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_MARKDOWNISH)
def test_plain_text_fast_path_matches_markdown_on_markdownish_text(text):
    _check_fast_path(text)


@pytest.mark.parametrize("text", [
    "a\tb", "a\rb", "a\x00b", "\x02", "x\x03", "a\n# b", "a\n===", "a\n---", "a  \nb", "a\n\nb",
    "a | b\n--|--", "a\n\tb",
])
def test_fast_path_known_counterexamples(text):
    _check_fast_path(text)


@pytest.mark.parametrize("text", ["plain words", "한국어 요약", "3 out of 4 (75%) runs", 'say "hi"'])
def test_fast_path_is_taken_for_plain_text(text):
    assert markup.is_plain(text)
    _check_fast_path(text)


def test_zero_width_joiners_inside_words_are_kept():
    title = "مدل\u200cهای زبانی"  # Persian needs U+200C between word parts
    digest, problems = parse_ok(digest_with(f"### [{title}](https://arxiv.org/abs/2405.01111)\n\n- x"))
    assert problems == []
    assert digest.papers[0].title == title


# --- the one-pass summary agrees with rendering each bullet on its own ------------------------

PLAIN_PIECES = st.sampled_from(["확산 모델", "zero-shot", "LLM", "What's New", " ", ":", "(", ")", "é", "😀", "x", "1"])
TRICKY_PIECES = st.sampled_from(["  ", "\t", "*", "**", "***", "`", "_", "[", "]", "&", "<", ">", "-", "+", "#", "=",
                                 "1.", "2)", "\xa0", "\u200b"])
BULLET_PIECES = st.one_of(PLAIN_PIECES, PLAIN_PIECES, PLAIN_PIECES, PLAIN_PIECES, TRICKY_PIECES)


@st.composite
def bullet_texts(draw):
    text = "".join(draw(st.lists(BULLET_PIECES, max_size=8)))
    if draw(st.booleans()):  # a label in one of the shapes summaries use, with junk inside it
        stars = draw(st.sampled_from(["**", "***"]))
        label = "".join(draw(st.lists(BULLET_PIECES, min_size=1, max_size=4)))
        text = (stars + label + ":" + stars if draw(st.booleans()) else stars + label + stars + ":") + draw(BULLET_PIECES) + text
    return text


@settings(max_examples=2000, deadline=None)
@given(st.lists(bullet_texts(), min_size=1, max_size=3))
def test_one_pass_summary_agrees_with_each_bullet_rendered_alone(texts):
    texts = [t for t in texts if "\n" not in t]
    assume(texts)
    draft = _PaperDraft(line=1, title="t", url=None, bullets=list(texts))
    assert _summary(draft) == Summary(_bullet(t) for t in texts), texts


@pytest.mark.parametrize("edge", ["1. numbered", "2) numbered", "trailing space ", "two spaces  ", "wide space\u3000", " leading space", "- dash", "+ plus",
                                  "# hash", "= equals", "> quote", "\tx", "x\xa0", "", "***L***:", "***L***: ",
                                  "***L:*** 1. x", "**L :**: x", "** L**: x", "**L**:x", "**L** : x", "***L**: x",
                                  "**a*b**: x", "**" + "L" * 60 + "**: x", "**" + "L" * 61 + "**: x", "**L\u200b**: x"])
@pytest.mark.parametrize("label", ["", "***What's New***: "])
def test_one_pass_summary_agrees_on_edges(edge, label):
    texts = ["plain words", label + edge if not edge.startswith("*") else edge]
    draft = _PaperDraft(line=1, title="t", url=None, bullets=texts)
    assert _summary(draft) == Summary(_bullet(t) for t in texts)


def test_plain_summaries_take_the_one_pass_path(monkeypatch):
    monkeypatch.setattr("generator.parse._bullet", lambda text: pytest.fail(f"rendered alone: {text!r}"))
    draft = _PaperDraft(line=1, title="t", url=None, bullets=[
        "***What's New***: 희소 격자 구조를 쓰는 트랜스포머를 제안합니다.", "**Technical Details**: ViT(비전) 기반.",
        "***Performance Highlights:*** 18% 낮은 오차.", "labels are optional, (parentheses) too."])
    summary = _summary(draft)
    assert [b.label for b in summary] == ["What's New", "Technical Details", "Performance Highlights", ""]
    assert summary.html.startswith('<li><strong class="label">What\'s New:</strong> 희소')


NAME_PIECES = st.sampled_from(["Kim", "Minji", " ", "'", '"', "+", ",", "O'Neil", "\u200b", "é", "李", "\\", "[", "]"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.lists(NAME_PIECES, max_size=4).map("".join), min_size=1, max_size=6))
def test_authors_fast_path_reads_what_literal_eval_reads(names):
    authors, omitted = parse_mod._parse_authors(repr(names), 1, lambda *a: pytest.fail(f"reported {a}"))
    cleaned = [markup.clean_text(n).strip() for n in names]
    assert authors == tuple(n for n in cleaned if n and n != "+")
    assert omitted == ("+" in cleaned)


SIMPLE_FRONT = "title: Daily Papers (2024-03-15)\ndate: 2024-03-15\nlang: ko\ntags: [mamba, 비전, large models]\ndraft: false"
front_value = st.one_of(
    st.sampled_from(["Daily Papers (2024-03-15)", "2024-03-15", "2024-02-30", "ko", "no", "No", "yes", "On", "NULL", "true",
                     "False", "[]", "[a, b]", "[a, , b]", "[a,b,]", "[3d, a]", "[no]", "a: b", "a #b", "a#b", "'a'", "\"a\"",
                     "a\tb", "a  b", "é", "\u00a0a", "a\u00a0", "a\u2028b", "a\x85b", "a\ufeffb", "~", "a,b", "!tag a",
                     "&x a", "*x", "a%b", "a@b", "a`b"]),
    st.text(alphabet=st.sampled_from(list("aoné한 -.,:#[]{}'\"\t\u00a0\u2028\x85\x7f&*!|>%@`~0")), max_size=8),
    st.text(max_size=8),
)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(frontmatter.FRONT_MATTER_KEYS * 4 + ("other",)), front_value,
                          st.sampled_from([" ", " ", " ", "  ", ":", ""]), st.sampled_from(["", "", " "])),
                min_size=1, max_size=3))
def test_front_matter_read_without_yaml_is_what_yaml_reads(lines):
    block = "\n".join(f"{key}:{gap}{value}{end}" for key, value, gap, end in lines)
    simple = frontmatter._simple_front_matter(block)
    if simple is not None:
        assert simple == yaml.load(block, Loader=frontmatter._strict_loader())


def test_common_front_matter_is_read_without_yaml():
    assert frontmatter._simple_front_matter(SIMPLE_FRONT) == {
        "title": "Daily Papers (2024-03-15)", "date": dt.date(2024, 3, 15), "lang": "ko",
        "tags": ["mamba", "비전", "large models"], "draft": False}
    for odd in ("lang: no", "date: 2024-02-30", "title: 'quoted'", "tags: [3d]", "title: a: b", "title: x\ntitle: y"):
        assert frontmatter._simple_front_matter(odd) is None, odd  # left to YAML, which reports or reads them


@settings(max_examples=400, deadline=None)
@given(prefix=st.sampled_from(["###", "### ", "###\t", "###  \t", "####", "###x", "Authors:", "Author: ", "authors:\t",
                               "AUTHORS: "]),
       rest=st.text(alphabet=" \t#xé[]()':,+가", max_size=20))
def test_greedy_heading_and_authors_patterns_read_what_the_lazy_ones_did(prefix, rest):
    line = prefix + rest
    lazy = {"heading": re.compile(r"^###[ \t]+(.*?)[ \t]*$|^###$"),
            "authors": re.compile(r"^Authors?:[ \t]*(.*?)[ \t]*$", re.IGNORECASE)}
    for name, greedy in (("heading", parse_mod._PAPER_HEADING), ("authors", parse_mod._AUTHORS)):
        old, new = lazy[name].match(line), greedy.match(line)
        assert (old is None) == (new is None), (name, line)
        if old:
            assert (old.group(1) or "") == (new.group(1) or "").rstrip(" \t"), (name, line)


@pytest.mark.parametrize("value", ["2024-13-45", "2024-02-30", "2023-02-29T10:00:00"])
def test_an_impossible_front_matter_date_is_named_at_its_line(value):
    text = f"---\ntitle: Daily Papers\ntags: [a]\ndate: {value}\n---\n" + REFERENCE
    problems = parse_bad(text)
    assert f"{PATH}:4: error: 'date' is not a real date: {value[:10]}" in problems, problems


def test_field_lines_with_trailing_blanks_are_still_fields():
    text = ("## Daily Papers (2024-05-02)\n\n### [T](https://arxiv.org/abs/2405.01111)\n\n"
            "[Watch Video](https://example.org/v.mp4) \n"
            "<div><video controls src=\"https://example.org/v.mp4\" muted=\"false\"></video></div>  \n\n"
            "![](https://example.org/t.png)\t\n\nVote: 45 \n\nAuthors: Ada Lovelace, + \n\n- b1\n- b2\n")
    digest, _ = parse_ok(text)
    paper = digest.papers[0]
    assert (paper.video, paper.thumbnail, paper.votes) == ("https://example.org/v.mp4", "https://example.org/t.png", 45)
    assert paper.authors == ("Ada Lovelace",) and paper.authors_omitted
    assert [b.html for b in paper.summary] == ["b1", "b2"] and paper.extra_html == ""


def test_a_note_before_the_fields_leaves_them_fields_and_the_bullets_the_summary():
    text = ("## Daily Papers (2024-05-02)\n\n### [T](https://arxiv.org/abs/2405.01111)\n\n"
            "A short note.\n\nVote: 45\n\nAuthors: Ada Lovelace\n\n- b1\n- b2\n\nA closing line.\n\n- not summary\n")
    digest, problems = parse_ok(text)
    paper = digest.papers[0]
    assert (paper.votes, paper.authors) == (45, ("Ada Lovelace",))
    assert [b.html for b in paper.summary] == ["b1", "b2"]
    assert paper.extra_html.index("A short note.") < paper.extra_html.index("A closing line.") < paper.extra_html.index("not summary")
    assert problems == []


def test_a_vote_that_is_no_number_after_a_note_is_the_notes_text():
    text = ("## Daily Papers (2024-05-02)\n\n### [T](https://arxiv.org/abs/2405.01111)\n\n"
            "A short note.\n\nVotes: came from the community page.\n\n- b1\n")
    digest, problems = parse_ok(text)
    assert digest.papers[0].votes is None and "came from the community page" in digest.papers[0].extra_html
    assert problems == []


def test_a_bullets_unindented_next_line_continues_it():
    text = ("## Daily Papers (2024-05-02)\n\n### [T](https://arxiv.org/abs/2405.01111)\n\n"
            "- ***What's New***: first part\nwrapped 둘째 줄\n- b2\n- b3\n1. not a continuation\n")
    digest, _ = parse_ok(text)
    paper = digest.papers[0]
    assert [b.label for b in paper.summary] == ["What's New", "", ""]
    assert "first part\nwrapped 둘째 줄" in paper.summary[0].html and [b.html for b in paper.summary][1:] == ["b2", "b3"]
    assert "not a continuation" in paper.extra_html


@pytest.mark.parametrize("line, what, shown", [("Vote: 45", "Vote", "Vote: 45"), ("Authors: A, B", "Authors", "Authors: A, B"),
                                               ("[Watch Video](https://example.org/v.mp4)", "video", ">Watch Video</a>")])
def test_a_field_line_after_the_summary_is_text_with_a_warning(line, what, shown):
    text = f"## Daily Papers (2024-05-02)\n\n### [T](https://arxiv.org/abs/2405.01111)\n\n- b1\n{line}\n"
    digest, problems = parse_ok(text)
    paper = digest.papers[0]
    assert paper.votes is None and paper.authors == () and paper.video is None
    assert [b.html for b in paper.summary] == ["b1"] and shown in paper.extra_html
    assert problems == [f"{PATH}:6: warning: {what} line after the paper's summary is shown as text; put it before the bullets"]


def test_a_front_matter_time_with_an_offset_keeps_the_date_written():
    text = "---\ndate: 2024-05-02T20:00:00-05:00\n---\n" + REFERENCE
    digest, problems = parse_ok(text, tz="Asia/Seoul")
    assert digest.date == dt.date(2024, 5, 2) and problems == []
    assert digest.published == dt.datetime(2024, 5, 3, 1, 0, tzinfo=dt.timezone.utc)
    assert digest.published.utcoffset() == dt.timedelta(hours=9)


@pytest.mark.parametrize("entity", ["&#x1d;", "&#28;", "&#x1;", "&#xb;", "&#xFFFE;"])
def test_an_entity_for_a_control_character_leaves_no_control_character(entity):
    text = f"## Daily Papers (2024-05-02)\n\n### [T](https://arxiv.org/abs/2405.01111)\n\n- a {entity} b\n- **Label**: c {entity}\n\nnote {entity}\n"
    digest, _ = parse_ok(text)
    paper = digest.papers[0]
    for html in [paper.summary.html, paper.extra_html, *(b.html for b in paper.summary)]:
        assert not XML_ILLEGAL.search(html), html
    assert [b.label for b in paper.summary] == ["", "Label"]


def test_markdown_too_costly_for_a_digest_is_plain_text_with_a_warning():
    papers = "".join(f"### [P{i}](https://arxiv.org/abs/2405.{i:05d})\n\n- b\n\nnote\n" + "a\n=\n" * 3000 + "\n"
                     for i in range(1, 17))
    digest, problems = parse_ok("## Daily Papers (2024-05-02)\n\n" + papers)
    assert all(p.extra_html.startswith("<p>note\na\n=\n") and "<h1>" not in p.extra_html for p in digest.papers)
    assert problems == [f"{PATH}:1: warning: Markdown too costly to render (long runs of '[', many headings in one "
                        "block, or too much of it): 16 part(s) shown as plain text"]
