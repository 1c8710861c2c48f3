"""The fast paths of markup agree with Python-Markdown (plus the sanitizer) wherever they answer."""

from __future__ import annotations

import html

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.markup import markdown_budget, markdown_cost, render_block, render_inline, render_simple_inline

WORDS = st.sampled_from(["확산", "모델의", "zero-shot", "LLM", "(MLLMs)", "성능이", "18%", "a/b", "x.y", "é", "😀",
                         "GPT-4", "3.5", ":", ",", ";", "?", "'q'", '"q"', "~", "=", "+", "#", "|", "{x}", "$1"])
SPACES = st.sampled_from([" ", "  ", "", "\t"])
URLS = st.sampled_from(["https://github.com/a/b", "https://arxiv.org/abs/2403.09611", "http://x.org/p?a=1&b=2",
                        "https://x.org/a-b/c.d#frag", "https://x.org/%20y", "https://x.org/a,b;c=d",
                        "https://x.org/?q=&lt;&amp;&#x22;", "https://한국.kr/경로?é=ü", "https://x.org/~a/$b!c+d@e:f|g{h}",
                        "https://x.org/%22%3E%3Cscript%3E", "https://x.org/\u00ad\u200b"])


@st.composite
def inline_texts(draw):
    pieces = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["word", "word", "code", "strong", "em", "link", "junk"]))
        word = draw(WORDS)
        if kind == "word":
            pieces.append(word)
        elif kind == "code":
            pieces.append("`" + word + draw(SPACES) + draw(WORDS) + "`")
        elif kind == "strong":
            pieces.append("**" + word + draw(SPACES) + draw(WORDS) + "**")
        elif kind == "em":
            pieces.append("*" + word + draw(SPACES) + draw(WORDS) + "*")
        elif kind == "link":
            pieces.append("[" + word + draw(SPACES) + draw(WORDS) + "](" + draw(URLS) + ")")
        else:
            pieces.append(draw(st.sampled_from(["*", "**", "`", "[", "]", "(", ")", "_", "&", "<", "\\", "!", "-"])))
        pieces.append(draw(SPACES))
    return "".join(pieces)


def markdown_inline(text: str) -> str:
    out = render_block(text)
    return out[3:-4] if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1 else out


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inline_texts())
def test_simple_inline_agrees_with_markdown(text):
    fast = render_simple_inline(text)
    if fast is not None:
        assert fast == markdown_inline(text), text


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_simple_inline_agrees_on_any_text(text):
    fast = render_simple_inline(text)
    if fast is not None:
        assert fast == markdown_inline(text), text


def test_common_summary_markup_takes_the_fast_path():
    for text in ["확산 모델의 `zero-shot` 계수기를 소개합니다.", "**밀도 지도**로 변환합니다.",
                 "코드는 [GitHub](https://github.com/a/b)에 공개되었습니다.", "*Quiet-STaR* 방법을 제안한다."]:
        assert render_simple_inline(text) is not None, text
        assert render_inline(text) == markdown_inline(text)


def test_everything_else_is_left_to_markdown():
    for text in ["a * b * c", "_under_", "[x](javascript:alert(1))", "<b>x</b>", "![img](https://x.org/i.png)",
                 "- list", "1. item", "&amp;", "[a](https://x.org/(b))", "`unclosed", "* item"]:
        assert render_simple_inline(text) is None, text


@pytest.mark.parametrize("text", ["a\n=\n" * 16000, "a\n***\n" * 10000, "# a\n" * 16000, "```" + " " * 65000,
                                  "[" * 1300, "![" * 1300, "x " * 32000 + "[" * 1000])
def test_text_too_costly_for_markdown_is_shown_as_plain_text(text):
    with markdown_budget() as budget:
        assert render_block(text) == "<p>" + html.escape(text, quote=False) + "</p>"
    assert budget.refused == 1


def test_a_digests_markdown_budget_runs_out_however_the_text_is_split():
    chunk = "a\n=\n" * 150  # headings in one block: each costs more than the one before
    with markdown_budget() as budget:
        rendered = [render_block(chunk) for _ in range(1000)]
    headed = sum(out.startswith("<h1>") for out in rendered)
    assert 0 < headed < 1000 and budget.refused == 1000 - headed
    assert all(out.startswith("<p>a\n=") for out in rendered[headed:])  # once spent, it stays spent
    assert render_block(chunk).startswith("<h1>")  # outside a digest's parse, only the size of one text counts


def test_common_markdown_costs_little():
    text = "- see [the paper](https://arxiv.org/abs/2405.01111) and **this**\n" * 20 + "```\ncode\n```\n"
    assert markdown_cost(text) < 0.01 * 2_000_000  # a hundred such texts use a twentieth of a digest's budget
