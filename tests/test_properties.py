"""Property tests: any text in any digest field builds a safe site or reports PATH:LINE errors.

For arbitrary text (Hypothesis, mixed with fragments of known attacks) in the paper title, link,
authors, vote, bullets, intro, extra text and every front matter value, a whole build either
succeeds or raises BuildError whose problems are all one-line `PATH:LINE: level: message`,
never another exception; and a successful build has no event-handler attribute, script or
dangerous URL in any page or feed, writes only inside its output dir, and both feeds parse
strictly (lxml) and cleanly (feedparser bozo == 0). See test_hostile.check_site.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_site
from generator.build import build
from generator.problems import BuildError
from test_hostile import check_site, files_outside

pytestmark = pytest.mark.timeout(300)

SNIPPETS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)", "JaVaScRiPt:", "&#106;avascript:",
    "java%0ascript:", "vbscript:", "data:text/html;base64,PHNjcmlwdD4=", "data:image/png;base64,iVBO", "\" onmouseover=\"x",
    "' onload='x", "{{ 7*7 }}", "{% raw %}", "{: onclick=\"x\" }", "<!--", "-- >", "<![", "]]>", "<", ">", "&", "&amp;", "\"", "'",
    "[", "](", ")", "](javascript:alert(1))", "![x](", "`", "```", "*", "**", "_", "\\", "#", "### ", "## ", "- ", "> ", "1. ",
    "---", "\n", "\r", "\r\n", "\t", " ", "\x00", "\x0b", "\x1f", "\x7f", "\ufffe", "\uffff", "\u202e", "\u200b", "\u2066",
    "\ufeff", "\u00a0", "😀", "👩‍🔬", "한국어", "مرحبا", "café", "cafe\u0301", "https://", "https://arxiv.org/abs/2403.00001",
    "http://x.example/a b", "mailto:a@b", "//evil.example", "../", "..", "/etc/passwd", "%2e%2e%2f", "C:\\x", "~", "CON",
    "Vote: ", "Authors: ", "+", "['a', 'b']", "[Watch Video](", "<div><video controls src=\"", "\"></video></div>",
    "title:", "date:", ": ", "!!python/object/apply:os.system ['true']", "&a", "*a", "[a, b", "{a: 1}", "|", ">-", "%",
]
piece = st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=6))
hostile_text = st.one_of(st.text(max_size=40), st.lists(piece, max_size=8).map("".join))
one_line = hostile_text.map(lambda s: re.sub(r"[\r\n]", " ", s))
PROBLEM = re.compile(r"(content/2024-03-15\.md|/\S+):\d+: (error|warning): [^\n]+")


def digest(title: str, url: str, authors: str, vote: str, bullets: list[str], intro: str, extra: str, front: str) -> str:
    return (f"{front}## Daily Papers (2024-03-15)\n\n{intro}\n\n### [{title}]({url})\n\n![]({url}.png)\n\n"
            f"Vote: {vote}\n\nAuthors: {authors}\n\n" + "".join(f"- {b}\n" for b in bullets) + f"\n{extra}\n"
            "### [Second](https://arxiv.org/abs/2403.00002)\n\n- fine\n")


def assert_builds_safely_or_reports(root, text: str) -> None:
    """Build a site holding text as its digest and assert the properties of the module docstring."""
    shutil.rmtree(root, ignore_errors=True)
    config = write_site(root, {})
    (config.content_dir / "2024-03-15.md").write_bytes(text.encode("utf-8", "surrogatepass"))
    inputs = files_outside(root.parent, config.output_dir, config.cache_dir)
    try:
        report = build(config, use_cache=False)
    except BuildError as exc:
        problems = exc.problems
        assert any(p.level == "error" for p in problems)
        assert not config.output_dir.exists()
    else:
        problems = report.warnings
        check_site(config.output_dir)
    for problem in problems:
        assert PROBLEM.fullmatch(str(problem)), str(problem)
    written = files_outside(root.parent, config.output_dir, config.cache_dir) - inputs
    assert written <= {f"{root.name}/._site.lock"}, written


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=one_line, url=st.one_of(one_line, st.sampled_from(["https://arxiv.org/abs/2403.00001", "https://e.org/x"])),
       authors=one_line, vote=st.one_of(st.just("5"), one_line), bullets=st.lists(hostile_text, max_size=3),
       intro=hostile_text, extra=hostile_text)
def test_any_text_in_any_body_field(tmp_path_factory, title, url, authors, vote, bullets, intro, extra):
    root = tmp_path_factory.getbasetemp() / "prop-body" / "site"
    assert_builds_safely_or_reports(root, digest(title, url, authors, vote, bullets, intro, extra, ""))


def yaml_value(draw_text: str, quoted: bool) -> str:
    """Return text as a YAML scalar: JSON-quoted (so escapes reach every code point) or raw."""
    return json.dumps(draw_text) if quoted else draw_text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.fixed_dictionaries({key: st.tuples(st.one_of(hostile_text, st.text(alphabet=st.characters(), max_size=20)),
                                                    st.booleans())
                                     for key in ("title", "description", "lang", "date", "draft", "extra")}),
       tags=st.lists(hostile_text, max_size=3), use=st.sets(st.sampled_from(["title", "description", "lang", "date", "draft",
                                                                            "extra", "tags"]), min_size=1))
def test_any_text_in_any_front_matter_value(tmp_path_factory, values, tags, use):
    lines = []
    for key in sorted(use):
        if key == "tags":
            lines.append("tags: [" + ", ".join(json.dumps(t) for t in tags) + "]")
        else:
            text, quoted = values[key]
            lines.append(f"{key}: {yaml_value(text, quoted)}")
    front = "---\n" + "\n".join(lines) + "\n---\n"
    root = tmp_path_factory.getbasetemp() / "prop-front" / "site"
    assert_builds_safely_or_reports(root, digest("T", "https://arxiv.org/abs/2403.00001", "A, B", "3", ["b"], "i", "", front))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.integers(0, 300))
def test_any_bytes_spliced_into_a_digest(tmp_path_factory, noise, at):
    """Arbitrary bytes (invalid UTF-8, NULs, BOMs) anywhere in a digest: a site or PATH:LINE errors."""
    base = digest("T", "https://arxiv.org/abs/2403.00001", "A", "3", ["b"], "i", "", "---\ntitle: t\n---\n").encode()
    data = base[:at] + noise + base[at:]
    root = tmp_path_factory.getbasetemp() / "prop-bytes" / "site"
    shutil.rmtree(root, ignore_errors=True)
    config = write_site(root, {})
    (config.content_dir / "2024-03-15.md").write_bytes(data)
    try:
        report = build(config, use_cache=False)
    except BuildError as exc:
        problems = exc.problems
    else:
        problems = report.warnings
        check_site(config.output_dir)
    for problem in problems:
        assert PROBLEM.fullmatch(str(problem)), str(problem)
