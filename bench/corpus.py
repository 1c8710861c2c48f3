"""Write a deterministic synthetic digest corpus (N days, real shape and variants) and its site.toml."""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

START = dt.date(2022, 1, 1)
SEED = 20220101

SITE_TOML = """\
title = "Bench Papers"
base_url = "https://example.org/"
description = "벤치마크용 합성 논문 요약"
timezone = "Asia/Seoul"
paginate = 10
feed_limit = 20
search = {search}
"""

# Syllables and stems invented for this generator; combined at random they look Korean.
SYLLABLES = ("가 나 다 라 마 바 사 아 자 차 카 타 파 하 거 너 더 러 머 버 서 어 저 처 고 노 도 로 모 보 소 오 조 "
             "구 누 두 루 무 부 수 우 주 그 느 드 르 므 브 스 으 즈 기 니 디 리 미 비 시 이 지 치 키 티 피 히 "
             "강 능 당 랑 망 방 상 양 장 성 정 영 형 적 학 석 현 연 원 전 선 신 인 진 결 별 설 열 실 습 합 법 "
             "모델 데이터 학습 성능 방법 구조 연구 결과 추론 생성 평가 실험 언어 이미지 비디오 표현 정렬 토큰").split()
VERBS = ("제안합니다 보여줍니다 개선했습니다 달성했다 분석합니다 도입했다 검증했습니다 설계합니다 확장했다 "
         "측정했습니다 비교합니다 줄였다 높였습니다 활용한다 구성했습니다").split()
PARTICLES = ("은 는 이 가 을 를 의 에 에서 으로 와 과 도 만").split()
TERMS = ("LLM", "Transformer", "diffusion", "RLHF", "MoE", "benchmark", "fine-tuning", "zero-shot", "ViT",
         "tokenizer", "in-context learning", "chain-of-thought", "LoRA", "state space model", "retrieval")
TITLE_WORDS = ("Scaling Efficient Multimodal Sparse Latent Diffusion Language Vision Reasoning Agents Memory Long "
               "Context Retrieval Alignment Adaptive Unified Robust Video Speech Graph Tokens Experts Preference "
               "Reward Synthetic Data Small Models Attention Layers Quantized Streaming Planning Benchmark").split()
FIRST_NAMES = ("Min-jun Seo-yeon Ji-ho Ada Alan Grace Hongyu Léo Chloé Rui Wei Yuki Omar Priya Noah Sofía Mateo "
               "Anna Ivan Lars Zoë Jun Hana Tomás Fatima Kenji Elif").split()
LAST_NAMES = ("Kim Lee Park Choi Jung Lovelace Turing Hopper Hè Laurençon Zhang Wang Tanaka Haddad Shah Müller "
              "García Rossi Novak Berg Dubois Sato Okafor Yılmaz Costa").split()
LABELS = ("What's New", "Technical Details", "Performance Highlights")
OTHER_HOSTS = ("https://img.papers-cdn.example.net/thumbs/{id}.jpg", "https://i.imgur-like.example.com/{id}.webp")


def day_rng(day: int, slot: int = -1) -> random.Random:
    """Return the generator for one day (and paper slot), independent of N and of other days."""
    return random.Random(SEED * 1_000_003 + day * 101 + slot + 1)


def word(rng: random.Random) -> str:
    """Return one Korean-looking word, sometimes with a particle or an English term."""
    if rng.random() < 0.08:
        return f"{rng.choice(TERMS)}({''.join(rng.choices(SYLLABLES, k=2))})"
    stem = "".join(rng.choices(SYLLABLES, k=rng.randint(1, 3)))
    return stem + (rng.choice(PARTICLES) if rng.random() < 0.6 else "")


def sentence(rng: random.Random, words: int) -> str:
    """Return one sentence of about `words` words ending in a verb form."""
    return " ".join(word(rng) for _ in range(words)) + " " + rng.choice(VERBS) + "."


def inline_markdown(rng: random.Random, text: str) -> str:
    """Return text with one piece of inline Markdown spliced in."""
    kind = rng.randrange(3)
    piece = (f"`{rng.choice(TERMS).replace(' ', '_')}()`", f"**{rng.choice(TERMS)}**",
             f"[{rng.choice(TERMS)}](https://github.com/example/{rng.randrange(10**6)})")[kind]
    head, _, tail = text.partition(" ")
    return f"{head} {piece} {tail}"


def bullets(rng: random.Random, labelled: bool, stars: str) -> list[str]:
    """Return the paper's 5-9 summary bullets; labelled days label the first three."""
    out = []
    for index in range(rng.randint(5, 9)):
        text = " ".join(sentence(rng, rng.randint(7, 13)) for _ in range(rng.choice((1, 2, 2))))
        if rng.random() < 0.05:
            text = inline_markdown(rng, text)
        if labelled and index < len(LABELS):
            text = f"{stars}{LABELS[index]}{stars}: {text}"
        out.append(f"- {text}")
    return out


def paper_identity(day: int, slot: int) -> tuple[str, str]:
    """Return (arXiv id, title) of the paper first published in that day's slot."""
    date = START + dt.timedelta(days=day)
    rng = day_rng(day, 1000 + slot)
    arxiv = f"{date.year % 100:02d}{date.month:02d}.{10000 + date.day * 100 + slot:05d}"
    words = rng.sample(TITLE_WORDS, rng.randint(3, 7))
    title = " ".join(words[:2]) + ": " + " ".join(words[2:]) if rng.random() < 0.5 else " ".join(words)
    if rng.random() < 0.05:
        title += " & <Tokens>"
    return arxiv, title


def authors(rng: random.Random, python_list: bool) -> str:
    """Return an Authors line, sometimes with '+' markers or as a Python list."""
    names = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(rng.randint(1, 12))]
    if python_list:
        return "Authors: [" + ", ".join(repr(n) for n in names) + "]"
    if len(names) > 3 and rng.random() < 0.3:
        names.insert(rng.randint(1, len(names) - 1), "+")
    return "Authors: " + ", ".join(names)


def media(rng: random.Random, arxiv: str) -> list[str]:
    """Return the thumbnail or video lines of one paper (maybe none)."""
    roll = rng.random()
    if roll < 0.80:
        return [f"![](https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv}.png)", ""]
    if roll < 0.88:
        return [f"![]({rng.choice(OTHER_HOSTS).format(id=arxiv)})", ""]
    if roll < 0.95:
        url = f"https://cdn-uploads.huggingface.co/production/uploads/{arxiv}/demo.mp4"
        return [f"[Watch Video]({url})", f'<div><video controls src="{url}" muted="false"></video></div>', ""]
    return []


def paper(day: int, slot: int, style: dict, seen: set[str]) -> list[str]:
    """Return the lines of one paper; a few repeat a paper of an earlier day."""
    rng = day_rng(day, slot)
    arxiv, title = paper_identity(day, slot)
    if day > 0 and rng.random() < 0.03:
        again = paper_identity(rng.randrange(max(0, day - 60), day), rng.randrange(10))
        if again[0] not in seen:
            arxiv, title = again
    seen.add(arxiv)
    link = f"https://arxiv.org/abs/{arxiv}" + ("v2" if rng.random() < 0.1 else "")
    lines = [f"### [{title}]({link})", ""] + media(rng, arxiv)
    if style["votes"]:
        lines += [f"Vote: {max(0, style['top_vote'] - slot * rng.randint(1, 4))}", ""]
    lines += [authors(rng, style["python_list"]), ""]
    lines += bullets(rng, style["labelled"], style["stars"])
    if rng.random() > 0.1:
        lines.append("")  # else the next heading follows the last bullet directly
    return lines


def day_style(day: int) -> dict:
    """Return the variant choices of one day."""
    rng = day_rng(day)
    return {
        "labelled": rng.random() < 0.75,
        "stars": "***" if rng.random() < 0.7 else "**",
        "votes": rng.random() >= 0.15,
        "top_vote": rng.randint(20, 200),
        "python_list": rng.random() < 0.10,
        "repeat_heading": rng.random() < 0.05,
        "nested": rng.random() < 0.40,
        "front_matter": rng.random() < 0.05,
        "papers": rng.randint(10, 20),
    }


def digest_text(day: int) -> tuple[str, bool]:
    """Return (Markdown text, nested layout?) of the digest of one day."""
    style = day_style(day)
    date = (START + dt.timedelta(days=day)).isoformat()
    heading = f"## Daily Papers ({date})"
    lines = []
    if style["front_matter"]:
        tags = ", ".join(day_rng(day, 999).sample(["multimodal", "mamba", "agents", "rlhf", "vision"], 2))
        lines += ["---", f"title: Daily Papers ({date})", f"date: {date}", "lang: ko", f"tags: [{tags}]", "---"]
    lines += [heading, ""]
    seen: set[str] = set()
    for slot in range(style["papers"]):
        if style["repeat_heading"] and slot == style["papers"] // 2:
            lines += [heading, ""]
        lines += paper(day, slot, style, seen)
    return "\n".join(lines).rstrip("\n") + "\n", style["nested"]


def digest_path(day: int, nested: bool) -> Path:
    """Return the path of a day's digest relative to the content dir."""
    date = START + dt.timedelta(days=day)
    if nested:
        return Path(f"{date.year:04d}/{date.month:02d}/{date.day:02d}.md")
    return Path(f"{date.isoformat()}.md")


def write_corpus(out: Path, days: int, search: bool = False) -> Path:
    """Write site.toml and content/ with `days` digests under out; return the content dir."""
    content = out / "content"
    wanted = set()
    for day in range(days):
        text, nested = digest_text(day)
        path = content / digest_path(day, nested)
        wanted.add(path)
        data = text.encode("utf-8")
        if not (path.is_file() and path.read_bytes() == data):  # an unchanged corpus is left as it is
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for path in sorted(content.rglob("*"), reverse=True):  # anything else: from another N or an edit
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    (out / "site.toml").write_text(SITE_TOML.format(search=str(search).lower()), encoding="utf-8")
    return content


def main() -> None:
    """Parse arguments and write the corpus."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--days", type=int, default=100)
    args = parser.parse_args()
    content = write_corpus(args.out_dir, args.days)
    size = sum(p.stat().st_size for p in content.rglob("*.md"))
    print(f"wrote {args.days} digests ({size / args.days / 1024:.1f} KB each) to {content}")


if __name__ == "__main__":
    main()
