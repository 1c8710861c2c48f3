"""The theme's templates escape through output_escape, with the bytes Jinja's own escaping gives."""

from __future__ import annotations

import jinja2
import markupsafe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.render import make_env, output_escape

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


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the config is only read
@given(text=st.text(alphabet="<>&'\"ab é", max_size=12))
def test_pages_are_the_bytes_jinja_would_write(small_site, text):
    ours = make_env(small_site).from_string(TEMPLATE)
    jinjas = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=True).from_string(TEMPLATE)
    values = {"text": text, "number": 3, "nothing": None, "safe": markupsafe.Markup("<em>x</em>"), "items": [text, "<"]}
    assert ours.render(values) == jinjas.render(values)
