"""WARC archiving, checked from the outside on real crawls of the fixture web.

Everything is read back with warcio (the reference reader), ``warcio check``
and plain gzip/zlib, never with the crawler's own code; expected payloads
come from what the fixture server recorded as sent (``fixture_web.sent``).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import zlib
from pathlib import Path

import frontmatter
import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import SEEDS, run_crawl
from tests.fixtures.qq_site import PNG, QQ_SEEDS, read_seed

WARCIO = str(Path(sys.executable).parent / "warcio")
NAME_RE = re.compile(r"^(?P<prefix>.+)-(?P<ts>\d{17})-(?P<serial>\d{5})-(?P<host>[^-/]+)\.warc\.gz$")
ROTATE_SIZE = 2000

SEED_000, SEED_001, SEED_004 = sorted(QQ_SEEDS)


# --- helpers (also used by test_replay.py and test_warc_kill.py) ----------

def warc_files(archive: Path, pattern: str = "*.warc.gz") -> list[Path]:
    return sorted((Path(archive) / "warc").glob(pattern))


def warcio_check(path: Path) -> tuple[int, str]:
    proc = subprocess.run([WARCIO, "check", "-v", str(path)], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def assert_warcio_check_ok(path: Path) -> None:
    rc, out = warcio_check(path)
    assert rc == 0, f"warcio check {path.name} -> {rc}\n{out[-3000:]}"
    assert "fail" not in out.lower() and "exception" not in out.lower(), out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    # -v prints one line per record and "digest pass" under each record with digests
    records = [line for line in out.splitlines() if "WARC-Record-ID" in line]
    passes = out.count("digest pass")
    assert records, f"warcio check saw no record in {path.name}"
    response_lines = [i for i, line in enumerate(out.splitlines()) if line.rstrip().endswith(" response")]
    lines = out.splitlines()
    for i in response_lines:
        assert i + 1 < len(lines) and lines[i + 1].strip() == "digest pass", \
            f"response record without 'digest pass' in {path.name}: {lines[i:i + 2]}"
    assert passes >= len(response_lines)


def gzip_members(data: bytes) -> tuple[list[tuple[int, int, bytes]], bytes]:
    """Split a multi-member gzip file: ([(offset, length, decompressed)], partial tail bytes)."""
    members, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        try:
            out = d.decompress(data[pos:])
        except zlib.error:
            return members, data[pos:]
        if not d.eof:
            return members, data[pos:]
        length = len(data) - pos - len(d.unused_data)
        members.append((pos, length, out))
        pos += length
    return members, b""


def read_records(path: Path) -> list[dict]:
    """Every record of a WARC file, fully read: headers, offsets, payloads."""
    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            raw = record.raw_stream.read()
            out.append({
                "type": record.rec_type,
                "id": record.rec_headers.get_header("WARC-Record-ID"),
                "uri": record.rec_headers.get_header("WARC-Target-URI"),
                "date": record.rec_headers.get_header("WARC-Date"),
                "concurrent_to": record.rec_headers.get_header("WARC-Concurrent-To"),
                "refers_to": record.rec_headers.get_header("WARC-Refers-To"),
                "content_type": record.rec_headers.get_header("Content-Type"),
                "status": int(record.http_headers.get_statuscode())
                if record.rec_type == "response" and record.http_headers else None,
                "http_headers": list(record.http_headers.headers) if record.http_headers else [],
                "raw": raw,
                "offset": it.get_record_offset(),
                "file": path.name,
            })
            out[-1]["length"] = it.get_record_length()
    return out


def decoded_payload(path: Path, record_id: str) -> bytes:
    """The payload of one record as warcio decodes it (de-chunked, gunzipped)."""
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_headers.get_header("WARC-Record-ID") == record_id:
                return record.content_stream().read()
    raise AssertionError(f"record {record_id} not in {path.name}")


def header(record: dict, name: str) -> list[str]:
    return [v for k, v in record["http_headers"] if k.lower() == name.lower()]


def all_records(archive: Path) -> list[dict]:
    return [r for path in warc_files(archive) for r in read_records(path)]


def responses_for(records: list[dict], url: str) -> list[dict]:
    return [r for r in records if r["type"] == "response" and r["uri"] == url]


def articles(archive: Path) -> list[tuple[Path, str, dict]]:
    out = []
    for path in sorted((Path(archive) / "articles").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        out.append((path, text, dict(frontmatter.loads(text).metadata)))
    return out


def warc_ts14(warc_date: str) -> str:
    return re.sub(r"\D", "", warc_date)[:14]


# --- crawls ------------------------------------------------------------------

@pytest.fixture(scope="module")
def crawl(full_crawl):
    assert full_crawl.returncode == 0, full_crawl.log[-3000:]
    assert warc_files(full_crawl.archive), f"no WARC written\n{full_crawl.log[-3000:]}"
    return full_crawl


@pytest.fixture(scope="module")
def records(crawl):
    return all_records(crawl.archive)


@pytest.fixture(scope="module")
def rotated_crawl(fixture_web, tmp_path_factory):
    seeds = tmp_path_factory.mktemp("qq-seeds")
    for name in QQ_SEEDS:
        (seeds / name).write_bytes((SEEDS / name).read_bytes())
    result = run_crawl(tmp_path_factory.mktemp("rotated"), fixture_web.url, seeds=seeds,
                       settings={"WARC_MAX_SIZE": ROTATE_SIZE})
    assert result.returncode == 0, result.log[-3000:]
    return result


# --- 1. warcio check and gzip integrity ----------------------------------------

def test_warcio_check_and_gzip_integrity(crawl):
    files = warc_files(crawl.archive)
    for path in files:
        assert_warcio_check_ok(path)
        with gzip.open(path, "rb") as fh:  # reads every member to the end, CRCs checked
            data = fh.read()
        assert data.startswith(b"WARC/1.")


# --- 2. record structure ---------------------------------------------------------

def test_record_structure(crawl):
    for path in warc_files(crawl.archive):
        recs = read_records(path)
        assert recs, path.name
        first = recs[0]
        assert first["type"] == "warcinfo", f"{path.name} starts with {first['type']}"
        assert first["offset"] == 0
        fields = dict(line.split(": ", 1) for line in first["raw"].decode("utf-8").splitlines() if ": " in line)
        assert fields.get("software") and fields.get("format", "").startswith("WARC File Format 1.")
        assert "ARCHIVE_IMAGES=True" in fields.get("crawl-settings", ""), fields
        assert fields.get("robots") == "ignore" and fields.get("isPartOf") == "news-archive"
        assert sum(r["type"] == "warcinfo" for r in recs) == 1, "one warcinfo per file, at the head"

        by_id = {r["id"]: r for r in recs}
        assert len(by_id) == len(recs), "duplicate WARC-Record-ID"
        requests_to = {r["concurrent_to"]: r for r in recs if r["type"] == "request"}
        for r in recs:
            if r["type"] == "response":
                req = requests_to.get(r["id"])
                assert req is not None, f"no request record concurrent to {r['uri']}"
                assert req["uri"] == r["uri"]
            if r["type"] in ("request", "metadata"):
                assert r["concurrent_to"], f"{r['type']} record for {r['uri']} has no WARC-Concurrent-To"
            if r["type"] == "resource":
                # the article's text, and for browser-rendered pages the DOM and a screenshot
                assert r["uri"].startswith(("urn:markdown:", "urn:dom:", "urn:screenshot:")), r["uri"]
                assert r["refers_to"] in by_id, f"resource {r['uri']} refers to no record of its file"

        # one gzip member per record: member boundaries are the record offsets,
        # and every member decompresses on its own into exactly one record
        data = path.read_bytes()
        members, tail = gzip_members(data)
        assert tail == b"", f"{path.name}: trailing bytes that are not a gzip member"
        assert [(m[0], m[1]) for m in members] == [(r["offset"], r["length"]) for r in recs]
        for offset, length, _ in members:
            one = list(ArchiveIterator(io.BytesIO(data[offset:offset + length])))
            assert len(one) == 1
    types = {r["type"] for path in warc_files(crawl.archive) for r in read_records(path)}
    assert {"warcinfo", "response", "request", "metadata", "resource"} <= types, types


# --- 3. payloads as sent ----------------------------------------------------------

def _only_response(records, url):
    found = responses_for(records, url)
    assert len(found) == 1, f"{len(found)} response records for {url}"
    return found[0]


def _check_payload(crawl, record, sent: bytes, gzipped: bool):
    path = Path(crawl.archive) / "warc" / record["file"]
    assert decoded_payload(path, record["id"]) == sent
    assert header(record, "Content-Length") == [str(len(record["raw"]))], record["http_headers"]
    assert not [v for v in header(record, "Transfer-Encoding")], \
        f"stored headers claim Transfer-Encoding for a de-chunked body: {record['http_headers']}"
    if gzipped:
        assert [v.lower() for v in header(record, "Content-Encoding")] == ["gzip"]
        assert record["raw"][:2] == b"\x1f\x8b"
        assert gzip.decompress(record["raw"]) == sent
    else:
        assert not header(record, "Content-Encoding")
        assert record["raw"] == sent


def test_payload_000_redirect_then_gzip(crawl, records, fixture_web):
    seed = read_seed(SEED_000)
    redirect = _only_response(records, seed.source_url)
    assert redirect["status"] == 301
    target = seed.source_url.replace("new.qq.com", "news.qq.com")
    assert header(redirect, "Location") == [target]
    page = _only_response(records, target)
    assert page["status"] == 200
    _check_payload(crawl, page, fixture_web.sent[target], gzipped=True)


def test_payload_001_chunked(crawl, records, fixture_web):
    url = read_seed(SEED_001).source_url
    record = _only_response(records, url)
    assert record["status"] == 200
    assert record["raw"] != b"" and b"\r\n0\r\n\r\n" not in record["raw"][-10:]
    _check_payload(crawl, record, fixture_web.sent[url], gzipped=False)


def test_payload_004_gzip_chunked(crawl, records, fixture_web):
    url = read_seed(SEED_004).source_url
    record = _only_response(records, url)
    assert record["status"] == 200
    _check_payload(crawl, record, fixture_web.sent[url], gzipped=True)


# --- 4. file naming ------------------------------------------------------------------

def test_file_naming_and_no_open_files(crawl):
    folder = Path(crawl.archive) / "warc"
    names = sorted(p.name for p in folder.iterdir())
    assert names, "empty warc folder"
    for name in names:
        assert not name.endswith(".open"), f"{name} left open after a finished crawl"
        match = NAME_RE.match(name)
        assert match, f"bad WARC name {name}"
        assert match["prefix"] == "crawler"


# --- 5. rotation -----------------------------------------------------------------------

def test_rotation(rotated_crawl):
    files = warc_files(rotated_crawl.archive)
    assert len(files) >= 3, [f.name for f in files]
    assert not list((Path(rotated_crawl.archive) / "warc").glob("*.open"))
    parsed = [NAME_RE.match(f.name) for f in files]
    assert all(parsed), [f.name for f in files]
    by_serial = sorted(zip(parsed, files), key=lambda pair: int(pair[0]["serial"]))
    serials = [int(m["serial"]) for m, _ in by_serial]
    assert serials == list(range(1, len(files) + 1)), serials
    stamps = [m["ts"] for m, _ in by_serial]
    assert stamps == sorted(stamps), "timestamps do not follow the serials"
    for index, (_, path) in enumerate(by_serial):
        recs = read_records(path)
        assert recs[0]["type"] == "warcinfo", path.name
        assert len(recs) >= 2, f"{path.name} holds only its warcinfo"
        assert_warcio_check_ok(path)
        if index < len(by_serial) - 1:
            assert path.stat().st_size >= ROTATE_SIZE, f"{path.name} rotated before WARC_MAX_SIZE"
    # a response and its request are never split over two files
    for path in files:
        recs = read_records(path)
        ids = {r["id"] for r in recs}
        for r in recs:
            if r["type"] == "request":
                assert r["concurrent_to"] in ids, f"request for {r['uri']} split from its response"


# --- 6. Markdown <-> WARC links ---------------------------------------------------------

@pytest.mark.parametrize("which", ["full", "rotated"])
def test_markdown_points_to_capture(which, request):
    result = request.getfixturevalue("crawl" if which == "full" else "rotated_crawl")
    archive = Path(result.archive)
    recs = all_records(archive)
    found = articles(archive)
    assert len(found) >= (8 if which == "full" else 3), [p.name for p, _, _ in found]
    for path, text, meta in found:
        for key in ("fetched_url", "warc_file", "warc_record_id", "warc_date"):
            assert meta.get(key), f"{path.name}: no {key}"
        warc = archive / "warc" / meta["warc_file"]
        assert warc.exists(), f"{path.name}: {meta['warc_file']} does not exist"
        in_file = {r["id"]: r for r in read_records(warc)}
        record = in_file.get(meta["warc_record_id"])
        assert record is not None, f"{path.name}: {meta['warc_record_id']} not in {warc.name}"
        assert record["type"] == "response"
        assert record["uri"] == meta["fetched_url"]
        assert record["status"] == 200
        assert record["date"] == meta["warc_date"]
        metas = [r for r in recs if r["type"] == "metadata" and r["concurrent_to"] == meta["warc_record_id"]]
        assert len(metas) == 1, f"{path.name}: {len(metas)} metadata records for its capture"
        assert metas[0]["content_type"] == "application/warc-fields"
        assert metas[0]["uri"] == meta["fetched_url"]
        fields = dict(line.split(": ", 1) for line in metas[0]["raw"].decode("utf-8").splitlines())
        assert fields["article-file"] == path.relative_to(archive).as_posix()
        texts = [r for r in recs if r["id"] == fields["text-record"]]
        assert len(texts) == 1, f"{path.name}: text record {fields['text-record']} not found"
        assert texts[0]["type"] == "resource"
        assert texts[0]["uri"] == f"urn:markdown:{meta['fetched_url']}"
        assert texts[0]["refers_to"] == meta["warc_record_id"]
        assert texts[0]["content_type"].startswith("text/markdown")
        assert texts[0]["raw"].decode("utf-8") == text


# --- 7. CDXJ index --------------------------------------------------------------------

def _index(archive: Path) -> list[tuple[str, str, dict]]:
    lines = (archive / "index.cdxj").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        key, ts, js = line.split(" ", 2)
        out.append((key, ts, json.loads(js)))
    return out


def _seed_images() -> list[str]:
    urls = []
    for name in QQ_SEEDS:
        seed = read_seed(name)
        urls += [m.group(1) for p in seed.paragraphs if (m := re.fullmatch(r"!\[图片\]\((.+)\)", p))]
        urls.append(seed.meta["thumbnail"])
    return list(dict.fromkeys(urls))


def test_cdxj_index_locates_records(crawl):
    archive = Path(crawl.archive)
    entries = _index(archive)
    assert entries
    keys = [(k, ts) for k, ts, _ in entries]
    assert keys == sorted(keys), "index not sorted"
    indexed_urls = {e["url"] for _, _, e in entries}
    for _, _, meta in articles(archive):
        assert meta["fetched_url"] in indexed_urls, f"article {meta['fetched_url']} not in index.cdxj"
    for url in _seed_images():
        assert url in indexed_urls, f"image {url} not in index.cdxj"
    for key, ts, entry in entries:
        path = archive / "warc" / entry["filename"]
        assert path.exists(), entry
        with open(path, "rb") as fh:
            fh.seek(int(entry["offset"]))
            chunk = fh.read(int(entry["length"]))
        assert len(chunk) == int(entry["length"])
        recs = list(ArchiveIterator(io.BytesIO(chunk)))  # exactly one complete record
        assert len(recs) == 1, entry
        with open(path, "rb") as fh:
            fh.seek(int(entry["offset"]))
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
            assert warc_ts14(record.rec_headers.get_header("WARC-Date")) == ts
            if "status" in entry and record.http_headers:
                assert record.http_headers.get_statuscode() == entry["status"]


def test_cdxj_index_lists_only_page_captures(crawl):
    """Replay tools pick the closest index line for a URL: every line under a
    page's URL must be a capture of that page (response/revisit/resource),
    never the crawler's Markdown metadata record."""
    archive = Path(crawl.archive)
    bad = []
    for key, ts, entry in _index(archive):
        with open(archive / "warc" / entry["filename"], "rb") as fh:
            fh.seek(int(entry["offset"]))
            record = next(iter(ArchiveIterator(fh)))
            if record.rec_type not in ("response", "revisit", "resource"):
                bad.append((record.rec_type, entry.get("mime"), entry["url"]))
            elif record.rec_type == "resource" and not entry["url"].startswith("urn:"):
                bad.append((record.rec_type, entry.get("mime"), entry["url"]))
    assert not bad, f"{len(bad)} index lines are not page captures, e.g. {bad[:3]}"


# --- 8. images ----------------------------------------------------------------------------

def test_images_captured(crawl, records):
    images = _seed_images()
    assert len(images) >= 4
    for url in images:
        found = responses_for(records, url)
        assert found, f"no response record for image {url}"
        assert any(r["status"] == 200 and r["raw"] == PNG for r in found), \
            f"image {url}: {[(r['status'], len(r['raw'])) for r in found]}"
        assert any(header(r, "Content-Type") == ["image/png"] for r in found)


def test_requests_ask_only_for_codings_warc_readers_decode(crawl):
    recs = all_records(Path(crawl.archive))
    # what Scrapy asked; the browser's own sub-requests (Chromium's client
    # hints, Sec-Fetch-*) ask what Chromium asks, and their bodies are stored decoded
    requests = [r for r in recs if r["type"] == "request"
                and not header(r, "Sec-Fetch-Mode") and not header(r, "Sec-Ch-Ua")]
    assert len(requests) >= 20
    for r in requests:
        assert header(r, "Accept-Encoding") == ["gzip, deflate"], r["http_headers"]
    # every exchange went through the fixture proxy: its address is not the server's
    with open(warc_files(crawl.archive)[0], "rb") as fh:
        for record in ArchiveIterator(fh):
            assert record.rec_headers.get_header("WARC-IP-Address") is None
