"""Body-text quality of ``crawler.sites.generic`` against trafilatura's own configurations.

Why: the product promises that the body text of non-Tencent news pages is at
least as good as trafilatura's best configuration (comments excluded).  This
script checks that claim on a benchmark of real news pages with human-written
article text, using the usual shingle metric: texts split into ``\\w+`` tokens,
4-token shingles (a shorter text is one shingle), per-page TP/FP/FN counted on
shingle multisets and normalised to sum 1, precision averaged over pages with
any predicted text, recall over pages with any true text, F1 the harmonic mean
of the two averages.  An empty output therefore costs recall, not precision,
and is counted separately.

Data: the Zyte/Scrapinghub article-extraction-benchmark layout, i.e. a folder
with ``ground-truth.json`` ({id: {"articleBody", "url"}}) and
``html/<id>.html.gz`` (utf-8).  Keep it outside the project, e.g.::

    git clone https://github.com/scrapinghub/article-extraction-benchmark /tmp/extraction-bench

Run from the project root::

    .venv/bin/python bench/extraction_quality.py --data /tmp/extraction-bench

``--per-page FILE`` also writes per-page F1 of every configuration as TSV.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura  # noqa: E402

from crawler.sites import generic  # noqa: E402

_WORD = re.compile(r"\w+")
SHINGLE = 4


def shingles(text: str, token: re.Pattern = _WORD) -> Counter:
    """4-token shingles; ``token`` is what a token is (a word here; a CJK
    character for Chinese, bench/extraction_zh.py)."""
    tokens = token.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i:i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def page_score(true: str, pred: str, token: re.Pattern = _WORD) -> tuple[float | None, float | None]:
    """(precision, recall) of one page; None where the score is undefined."""
    t, p = shingles(true, token), shingles(pred, token)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    if fp == fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall


def _trafilatura(**options):
    def run(url: str, html: str) -> str:
        return trafilatura.extract(html, url=url, include_comments=False, **options) or ""
    return run


def _generic(url: str, html: str) -> str:
    return "\n".join(block["text"] for block in generic.extract(url, html)["blocks"])


CONFIGS = {
    "generic.extract": _generic,
    "trafilatura default": _trafilatura(),
    "trafilatura precision": _trafilatura(favor_precision=True),
    "trafilatura recall": _trafilatura(favor_recall=True),
    "trafilatura fast": _trafilatura(fast=True),
}


def load(data: Path) -> list[tuple[str, str, str, str]]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in sorted(truth.items()):
        with gzip.open(data / "html" / f"{key}.html.gz", "rt", encoding="utf-8") as f:
            pages.append((key, item.get("url") or "", f.read(), item.get("articleBody") or ""))
    return pages


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def scores(pairs, scorer) -> tuple[float, float, float, list[float]]:
    """(F1, precision, recall, per-page F1s) of (true, predicted) texts: precision and
    recall averaged over the pages that have them, F1 from the two averages."""
    precisions, recalls, f1s = [], [], []
    for true, pred in pairs:
        p, r = scorer(true, pred)
        if p is not None:
            precisions.append(p)
        if r is not None:
            recalls.append(r)
        f1s.append(2 * p * r / (p + r) if p and r else 0.0)
    p, r = mean(precisions), mean(recalls)
    return (2 * p * r / (p + r) if p + r else 0.0), p, r, f1s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="benchmark folder")
    parser.add_argument("--per-page", type=Path, help="write per-page F1 as TSV here")
    args = parser.parse_args(argv)
    pages = load(args.data)
    per_page: dict[str, list[float]] = {}
    print(f"{len(pages)} pages, trafilatura {trafilatura.__version__}\n")
    print(f"{'configuration':<24}{'F1':>7}{'prec':>7}{'recall':>8}{'empty':>7}{'seconds':>9}")
    for name, run in CONFIGS.items():
        started = time.perf_counter()
        preds = [run(url, html) for _key, url, html, _true in pages]
        f1, p, r, f1s = scores(((true, pred) for (*_, true), pred in zip(pages, preds)), page_score)
        seconds = time.perf_counter() - started
        empty = sum(not _WORD.search(pred) for pred in preds)
        per_page[name] = f1s
        print(f"{name:<24}{f1:>7.3f}{p:>7.3f}{r:>8.3f}{empty:>7}{seconds:>9.1f}")
    if args.per_page:
        with args.per_page.open("w", encoding="utf-8") as out:
            out.write("\t".join(["id", "url", *per_page]) + "\n")
            for i, (key, url, _html, _true) in enumerate(pages):
                out.write("\t".join([key, url, *(f"{v[i]:.3f}" for v in per_page.values())]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
