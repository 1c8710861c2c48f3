"""The theme's templates escape through output_escape and yield each run of text and values as one
string, with the bytes Jinja's own code gives and errors at the same template lines."""

from __future__ import annotations

import functools

import jinja2
import markupsafe
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.build import build
from generator.problems import BuildError
from generator.render import make_env, output_escape, set_site_globals

TEMPLATE = """\
{% macro card(title) %}<h2>{{ title }}</h2>{{ caller() if caller is defined else '' }}{% endmacro %}
{% set block %}<b>{{ text }}</b>{% endset %}
{{ text }} {{ number }} {{ nothing }} {{ safe }} {{ text|e }} {{ text|upper }} {{ safe|safe }}
{{ block }} {{ card(text) }} {% call card(text) %}<i>{{ text }}</i>{% endcall %}
{% filter upper %}{{ text }}{% endfilter %} {{ [text, safe]|join(', ') }} {{ "%s & %s"|format(text, safe) }}
{% autoescape false %}{{ text }}{% endautoescape %} {{ items|map('e')|join }}
"""


@given(st.one_of(st.text(), st.integers(), st.none(), st.text().map(markupsafe.Markup)))
def test_output_escape_gives_markupsafe_escapes_text(value):
    assert output_escape(value) == str(markupsafe.escape(value))
    assert type(output_escape(value)) in (str, markupsafe.Markup)


def test_templates_call_output_escape(small_site):
    source = make_env(small_site).compile("{{ x }}", raw=True)
    assert "environment.output_escape(" in source
    assert "escape(" not in source.replace("environment.output_escape(", "")


def test_text_and_values_between_two_tags_are_yielded_as_one_string(small_site):
    source = make_env(small_site).compile("<p>{{ a }} and {{ b }}</p>\n{% if a %}<b>{{ a }}</b>{% endif %}", raw=True)
    assert source.count("yield ''.join((") == 2
    assert source.count("yield") == 2 + source.count("yield None")  # Jinja's "if 0: yield None" makes a generator


def test_an_error_in_a_run_of_values_names_its_own_line(small_site):
    templates = small_site.root / "templates"
    templates.mkdir()
    (templates / "archive.html").write_text('{% extends "base.html" %}\n{% block content %}\n<p>{{ site.title }}\n'
                                            '{{ site.title }} and\n{{ nothing.here }}</p>\n{% endblock %}\n')
    with pytest.raises(BuildError) as caught:
        build(small_site)
    assert str(caught.value.problems[-1]).startswith("templates/archive.html:5: error: template error")


def test_templates_see_the_site_globals_of_the_latest_build(small_site):
    """The preview reuses one environment: a template loaded before set_site_globals sees what it set."""
    from dataclasses import replace
    env = make_env(small_site)
    template = env.from_string("{{ site.title }}")
    assert template.render() == small_site.title
    set_site_globals(env, replace(small_site, title="Renamed"), None)
    assert template.render() == "Renamed" and env.from_string("{{ site.title }}").render() == "Renamed"
    own = env.from_string("{{ extra }} {{ site.title }}", globals={"extra": "mine"})
    assert own.render() == "mine Renamed" and "extra" not in env.globals


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the config is only read
@given(text=st.text(alphabet="<>&'\"ab é", max_size=12))
def test_pages_are_the_bytes_jinja_would_write(small_site, text):
    ours = make_env(small_site).from_string(TEMPLATE)
    jinjas = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=True).from_string(TEMPLATE)
    values = {"text": text, "number": 3, "nothing": None, "safe": markupsafe.Markup("<em>x</em>"), "items": [text, "<"]}
    assert ours.render(values) == jinjas.render(values)


def test_a_day_page_calls_nothing_through_jinjas_slow_paths_per_paper(tmp_path, monkeypatch):
    """Per paper, the built-in theme asks no function through Jinja's Context.call and uses no join filter:
    each costs a few microseconds, and a build renders 15,000 papers at 1,000 digests."""
    from conftest import digest_text, write_site
    from generator.render import render_digest_page
    calls = []
    real_call = jinja2.runtime.Context.call
    monkeypatch.setattr(jinja2.runtime.Context, "call", lambda *a, **k: calls.append(a[1]) or real_call(*a, **k))
    real_join = jinja2.filters.FILTERS["join"]

    @functools.wraps(real_join)  # keeps how Jinja passes it the context
    def join(*args, **kwargs):
        calls.append("join")
        return real_join(*args, **kwargs)
    monkeypatch.setitem(jinja2.filters.FILTERS, "join", join)
    counts = []
    for papers in (1, 12):
        config = write_site(tmp_path / str(papers), {"2024-03-15.md": digest_text(
            "2024-03-15", [(f"2403.{n:05d}", f"Paper {n}") for n in range(papers)])})
        site = build(config).site
        calls.clear()
        page = render_digest_page(make_env(config, site), site, 0)
        assert page.count('class="authors"') == papers
        counts.append(len(calls))
    assert counts[0] == counts[1], calls
