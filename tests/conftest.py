"""Shared fixtures: small sites written into tmp_path, in the digest format."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.config import Config, load_config

DEFAULT_SITE_TOML = """\
title = "Test Digests"
base_url = "https://example.org/"
description = "Papers of the day"
author = "Tester"
language = "ko"
timezone = "Asia/Seoul"
paginate = 2
feed_limit = 3
search = false
"""


def digest_text(date: str, papers: list[tuple[str, str]] | None = None, *, front: str = "", intro: str = "") -> str:
    """Return a digest in the reference shape; papers are (arxiv id, title) pairs."""
    papers = papers if papers is not None else [("2403.00001", f"Paper one of {date}"), ("2403.00002", f"Paper two of {date}")]
    parts = []
    if front:
        parts.append("---\n" + textwrap.dedent(front).strip() + "\n---\n")
    parts.append(f"## Daily Papers ({date})\n")
    if intro:
        parts.append(intro + "\n")
    for n, (pid, title) in enumerate(papers):
        parts.append(
            f"### [{title}](https://arxiv.org/abs/{pid})\n\n"
            f"![](https://cdn.example.org/thumbs/{pid}.png)\n\n"
            f"Vote: {40 - n}\n\n"
            f"Authors: Kim Minji, Lee Jun, +, Ana Souza\n\n"
            f"- 이 논문은 {title}에 대한 첫 번째 요약입니다.\n"
            f"- ***What's New***: 새로운 방법을 제안합니다.\n"
        )
    return "\n".join(parts)


def write_site(root: Path, digests: dict[str, str], site_toml: str = DEFAULT_SITE_TOML) -> Config:
    """Write site.toml and digests (path under content/ -> text) into root; return its Config."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(site_toml, encoding="utf-8")
    for rel, text in digests.items():
        path = root / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "content").mkdir(exist_ok=True)
    return load_config(root / "site.toml")


@pytest.fixture
def small_site(tmp_path: Path) -> Config:
    """Return the Config of a three-day site in tmp_path/site."""
    return write_site(tmp_path / "site", {
        "2024-03-13.md": digest_text("2024-03-13"),
        "2024/03/14.md": digest_text("2024-03-14", [("2403.00003", "Third <paper> & \"friends\""), ("2403.00001", "Paper one again")]),
        "2024-03-15.md": digest_text("2024-03-15", front="title: 금요일의 논문\ntags: [multimodal, agents]\nlang: ko"),
    })
