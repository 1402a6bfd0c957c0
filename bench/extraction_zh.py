"""Body-text quality on Chinese news pages, beside the English benchmark, in one run.

Why: the generic path has Chinese-specific rules (crawler/sites/zh.py) that
the English benchmark cannot judge, and must not cost the English score.
Chinese has no spaces, so ``\\w+`` tokens would make one token of a whole
sentence: here every CJK character is a token (runs of other word
characters stay one token), 4-token shingles, the same per-page averaging
as bench/extraction_quality.py.

Data (kept outside the project): the MIT-licensed
immortal-autumn/Chinese-Web-Content-Extraction-Dataset, a folder with
``original/<name>.html`` (any charset: decoded as the crawl decodes a page
served without a charset header) and ``cleaned/<name>.txt`` (the human
text, body only: the dataset's texts leave out the headline). The pages are
split once for all by a hash of the file name: about a third is held out
and reported apart; tune only on the rest ("tuning").

    .venv/bin/python bench/extraction_zh.py --data /tmp/zh-bench \\
        --english /tmp/extraction-bench     # the English 181 pages too

``--per-page FILE`` writes per-page F1 (project, trafilatura) as TSV;
``--split held-out`` scores only one part.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import trafilatura  # noqa: E402

from bench import extraction_quality as english  # noqa: E402
from crawler.extraction.pool import extract_body  # noqa: E402

#: One CJK ideograph (and kana/hangul) per token; other word runs whole.
_WIDE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_WIDE}]|[^\W{_WIDE}]+")
SHINGLE = english.SHINGLE
#: Pages whose name hashes below this share of 256 are the held-out part.
HELD_OUT_SHARE = 1 / 3


def page_score(true: str, pred: str) -> tuple[float | None, float | None]:
    """(precision, recall) of one page, CJK characters as tokens (the English bench's score)."""
    return english.page_score(true, pred, _TOKEN)


def held_out(name: str) -> bool:
    """The fixed split: a page is held out by the first byte of its name's SHA-256."""
    return hashlib.sha256(name.encode("utf-8")).digest()[0] < 256 * HELD_OUT_SHARE


def _read_truth(path: Path) -> str:
    raw = path.read_bytes()
    for charset in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def load(data: Path) -> list[tuple[str, str, bytes, str]]:
    """(name, url, page bytes, human text) of every page with a text."""
    pages = []
    for html in sorted((data / "original").glob("*.html")):
        truth = data / "cleaned" / f"{html.stem}.txt"
        if truth.exists():
            pages.append((html.stem, f"http://zh-bench.invalid/{html.stem}.html", html.read_bytes(),
                          _read_truth(truth)))
    return pages


def _project(url: str, body: bytes) -> tuple[str, str]:
    fields, _note, charset = extract_body(url, body, "text/html")
    if fields is None:
        return "", charset
    return "\n".join(b["text"] for b in fields["blocks"] if b["type"] == "text"), charset


def score(pages, run, scorer) -> tuple[float, float, float, int, list[float]]:
    """(F1, precision, recall, pages under F1 0.5, per-page F1s)."""
    f1, p, r, f1s = english.scores(((page[-1], run(page)) for page in pages), scorer)
    return f1, p, r, sum(f < 0.5 for f in f1s), f1s


def _line(label: str, result, seconds: float) -> None:
    f1, p, r, low, _ = result
    print(f"{label:<34}{f1:>7.3f}{p:>7.3f}{r:>8.3f}{low:>7}{seconds:>9.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the Chinese dataset's folder")
    parser.add_argument("--english", type=Path,
                        help="also the English 181 pages (bench/extraction_quality.py's --data)")
    parser.add_argument("--split", choices=("tuning", "held-out", "both"), default="both")
    parser.add_argument("--per-page", type=Path, help="write per-page F1 as TSV here")
    args = parser.parse_args(argv)

    pages = load(args.data)

    def project(page):
        name, url, body, _ = page
        text, _charset = _project(url, body)
        return text

    def plain(page):
        name, url, body, _ = page
        from scrapy.http import HtmlResponse
        html = HtmlResponse(url, body=body, headers={"Content-Type": "text/html"}).text
        return trafilatura.extract(html, url=url, include_comments=False) or ""

    print(f"trafilatura {trafilatura.__version__}; CJK characters as tokens, {SHINGLE}-token shingles\n")
    print(f"{'corpus / configuration':<34}{'F1':>7}{'prec':>7}{'recall':>8}{'<0.5':>7}{'seconds':>9}")
    parts = {"tuning": [p for p in pages if not held_out(p[0])], "held-out": [p for p in pages if held_out(p[0])]}
    rows = []
    for part, chosen in parts.items():
        if args.split not in (part, "both"):
            continue
        for label, run in (("project", project), ("trafilatura", plain)):
            started = time.perf_counter()
            result = score(chosen, run, page_score)
            _line(f"zh {part} ({len(chosen)}) {label}", result, time.perf_counter() - started)
            rows.append((part, label, chosen, result[-1]))
    if args.english:
        en_pages = english.load(args.english)
        for label, run in (("project", lambda page: english._generic(page[1], page[2])),
                           ("trafilatura", lambda page: english._trafilatura()(page[1], page[2])),
                           ("trafilatura precision",
                            lambda page: english._trafilatura(favor_precision=True)(page[1], page[2]))):
            started = time.perf_counter()
            result = score(en_pages, run, english.page_score)
            _line(f"en ({len(en_pages)}) {label}", result, time.perf_counter() - started)
    if args.per_page:
        with args.per_page.open("w", encoding="utf-8") as out:
            out.write("part\tname\tconfiguration\tF1\n")
            for part, label, chosen, f1s in rows:
                for page, f1 in zip(chosen, f1s):
                    out.write(f"{part}\t{page[0]}\t{label}\t{f1:.3f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
