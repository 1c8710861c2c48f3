"""Screenshots in headless Chromium at phone and desktop widths; no page is wider than its viewport.

The screenshots are kept in test-artifacts/ (not in git) for people to look at.
"""

from __future__ import annotations

import pytest

from conftest import ARTIFACTS_DIR, DEFAULT_SITE_TOML, digest_text, offline_routes, serve_dir, write_site
from generator.build import build

pytestmark = pytest.mark.browser
pytest.importorskip("pagefind_bin", reason="the screenshots include the search page")

LONG = """\
---
title: 아주 긴 제목이 있는 날의 논문 모음 — Extraordinarily-Long-Hyphenated-Compound-Words-Everywhere
tags: [multimodal, 강화 학습, very-long-tag-name-that-goes-on-and-on]
lang: ko
---
## Daily Papers (2024-03-16)

오늘의 소개: https://example.org/a/very/long/url/that/never/breaks/by/itself/0123456789abcdef0123456789abcdef 를 보세요.

### [Supercalifragilisticexpialidocious-Transformers: Pneumonoultramicroscopicsilicovolcanoconiosis-Scale Pretraining](https://arxiv.org/abs/2403.00009)

![](https://cdn.example.org/thumbs/2403.00009.png)

Vote: 123

Authors: Kim Minji, Lee Jun, Ana Souza, Björk Guðmundsdóttir, Nguyễn Văn An, Oluwaseun Adebayo-Okonkwo, Wolfeschlegelsteinhausenbergerdorff Hubert, Park Jiwoo, Choi Seoyeon, Maximilian Alexander von Hohenzollern-Sigmaringen, +, Zhang Wei

- 대규모 언어 모델의 사전 학습을 `verylongidentifier_with_no_breaks_at_all_anywhere_in_it_0123456789` 같은 긴 식별자와 함께 설명합니다.
- ***What's New***: 링크 https://github.com/some-organisation/some-really-long-repository-name/blob/main/path/to/file.py 도 줄바꿈됩니다.
- ***Performance Highlights***: 한국어 문장은 어절 단위로 줄바꿈되어 읽기 편해야 합니다.
"""

PAGES = {"home": "", "digest": "2024/03/16/", "paper": "papers/2403.00009/", "search": "search/?q=multimodal",
         "top": "top/"}


@pytest.fixture(scope="module")
def screenshot_site(tmp_path_factory):
    """Return the output dir of a built site with long titles, URLs and author lists."""
    root = tmp_path_factory.mktemp("shots") / "site"
    config = write_site(root, {
        "2024-03-14.md": digest_text("2024-03-14", [("2403.00003", "Third paper"), ("2403.00009", "Seen earlier")]),
        "2024-03-15.md": digest_text("2024-03-15", front="title: 금요일의 논문\ntags: [multimodal, agents]\nlang: ko"),
        "2024-03-16.md": LONG,
    }, DEFAULT_SITE_TOML.replace("paginate = 2", "paginate = 10").replace("search = false", "search = true"))
    build(config)
    return config.output_dir


@pytest.mark.parametrize("width,height,scheme", [(375, 812, "light"), (1280, 900, "light"),
                                                  (375, 812, "dark"), (320, 640, "light")])
def test_pages_fit_the_viewport(screenshot_site, chromium, width, height, scheme):
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": width, "height": height}, color_scheme=scheme,
                                   device_scale_factor=1)
    page = context.new_page()
    offline_routes(page)
    try:
        with serve_dir(screenshot_site) as base:
            for name, path in PAGES.items():
                page.goto(base + path, wait_until="load")
                if name == "search":
                    page.locator(".pagefind-ui__result").first.wait_for(timeout=15000)
                page.screenshot(path=str(ARTIFACTS_DIR / f"{name}-{width}-{scheme}.png"), full_page=True)
                scroll_width = page.evaluate("document.documentElement.scrollWidth")
                assert scroll_width <= width, f"{name} at {width}px is {scroll_width}px wide"
    finally:
        context.close()
