"""What WARC writing costs the crawl: gzip level and fsync policy.

Why: every record is compressed and written on the reactor thread, so time
spent there stalls fetching. This script measures, on real news pages, the
CPU time and output size of the WARC gzip levels 1, 6 and 9, and the wall
time per record group of the fsync policies ``record`` and ``interval``.

Records are built as the crawl builds them, per page: the ``response`` (the
page as served), its ``request``, the article's Markdown ``resource`` (the
page's human-written body text) and its ``metadata`` record. Two kinds of
payload are measured: served gzip-encoded (what the crawler asks for and most
news servers send; level 6, Apache's default) and served uncompressed.

Data: the Zyte/Scrapinghub article-extraction-benchmark layout (see
bench/extraction_quality.py), kept outside the project. Run from the root::

    .venv/bin/python bench/warc_write.py --data /tmp/extraction-bench --out build/bench-warc

``--out`` is a scratch folder for the fsync runs (on the disk to measure);
what the script writes there is removed at the end.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scrapy.http import HtmlResponse, Request  # noqa: E402

from crawler.warc.builder import RecordBuilder  # noqa: E402
from crawler.warc.records import metadata_record, request_record, response_record, text_record  # noqa: E402
from crawler.warc.writer import RotatingWarcWriter  # noqa: E402


def load_pages(data: Path) -> list[tuple[str, bytes, str]]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in sorted(truth.items()):
        html = gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes())
        pages.append((item.get("url") or f"https://example.org/{key}", html, item.get("articleBody") or ""))
    return pages


def page_records(builder, url: str, html: bytes, text: str, served_gzip: bool) -> list:
    headers = {"Content-Type": "text/html; charset=utf-8"}
    body = html
    if served_gzip:
        body = gzip.compress(html, 6)
        headers["Content-Encoding"] = "gzip"
    response = HtmlResponse(url, status=200, headers=headers, body=body, request=Request(url))
    resp = response_record(builder, response)
    rid = resp.rec_headers.get_header("WARC-Record-ID")
    req = request_record(builder, Request(url, headers={"Accept-Encoding": "gzip, deflate"}), concurrent_to=rid)
    md = text_record(builder, url, f'---\ntitle: "x"\n---\n\n{text}\n', rid)
    meta = metadata_record(builder, url, {"article-file": "articles/x/y.md", "article-outcome": "archived"}, rid)
    return [resp, req, md, meta]


def measure_levels(pages, served_gzip: bool, levels=(1, 6, 9), repeats: int = 3) -> list[dict]:
    """Per level: the best of ``repeats`` runs' CPU time, and the output size."""
    raw = sum(page_records_sizes(pages, served_gzip))
    rows = []
    for level in levels:
        builder = RecordBuilder(level)
        cpu = float("inf")
        for _ in range(repeats):
            records = [page_records(builder, *page, served_gzip) for page in pages]
            out = 0
            started = time.process_time()
            for group in records:
                for record in group:
                    out += len(builder.serialise(record))
            cpu = min(cpu, time.process_time() - started)
        rows.append({"level": level, "cpu_s": cpu, "bytes": out, "raw": raw,
                     "ms_per_page": 1000 * cpu / len(pages)})
    return rows


def page_records_sizes(pages, served_gzip: bool):
    """Uncompressed WARC bytes per page (serialised at level 1, decompressed)."""
    builder = RecordBuilder(1)
    for page in pages:
        yield sum(len(gzip.decompress(builder.serialise(r))) for r in page_records(builder, *page, served_gzip))


def measure_fsync(pages, out: Path, policy: str, groups: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"fsync-{policy}-", dir=out))
    try:
        writer = RotatingWarcWriter(folder, prefix="bench", fsync=policy, fsync_interval=1.0)
        batches = [page_records(writer.builder, *pages[i % len(pages)], True)[:2] for i in range(groups)]
        started = time.perf_counter()
        worst = 0.0
        for resp_req in batches:
            t = time.perf_counter()
            writer.write(*resp_req)
            worst = max(worst, time.perf_counter() - t)
        writer.close()
        wall = time.perf_counter() - started
        return {"policy": policy, "groups": groups, "ms_per_group": 1000 * wall / groups, "worst_ms": 1000 * worst}
    finally:
        shutil.rmtree(folder)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("build/bench-warc"))
    parser.add_argument("--groups", type=int, default=500, help="record groups per fsync run")
    args = parser.parse_args(argv)
    pages = load_pages(args.data)
    print(f"{len(pages)} pages, {sum(len(h) for _, h, _ in pages) / 1e6:.1f} MB of HTML")
    for served_gzip in (True, False):
        print(f"\npayload served {'gzip-encoded' if served_gzip else 'uncompressed'}:")
        print("| level | CPU ms/page | WARC MB | ratio to uncompressed |")
        print("|---|---|---|---|")
        for row in measure_levels(pages, served_gzip):
            print(f"| {row['level']} | {row['ms_per_page']:.2f} | {row['bytes'] / 1e6:.2f} | "
                  f"{row['bytes'] / row['raw']:.3f} |")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"\nfsync policy ({args.groups} response+request groups, in {args.out}):")
    print("| policy | ms/group | worst ms |")
    print("|---|---|---|")
    for policy in ("record", "interval"):
        row = measure_fsync(pages, args.out, policy, args.groups)
        print(f"| {row['policy']} | {row['ms_per_group']:.2f} | {row['worst_ms']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
