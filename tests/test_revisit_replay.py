"""Revisit records (crawler/warc/revisit.py) read back with warcio and replayed by pywb 2.10.

One WARC holds three articles, each first captured at T1 and revisited at
T2: ARTICLE answered 200 with the byte-identical (gzip) payload, CHECKED
answered 304 to a conditional request (``not_modified_records``); NAIVE
has the 304 written the textbook way, a server-not-modified revisit whose
block is the 304, and AS_RESPONSE has it as a plain ``response`` record. The WARC is indexed by cdxj-indexer (as the crawl's
index.cdxj is) and by pywb's cdx-indexer; pywb (own venv, subprocess) must serve
ARTICLE and CHECKED with 200 and their full text at T2, as the latest
capture and at T1. NAIVE and AS_RESPONSE record why the 304 is kept in
neither form.
"""

from __future__ import annotations

import gzip
import json
import urllib.parse
from io import BytesIO
from pathlib import Path

import pytest
from cdxj_indexer.main import CDXJIndexer
from scrapy.http import HtmlResponse, Request, Response
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.warc.records import request_record, response_record
from crawler.warc.revisit import (identical_revisit_record, not_modified_records, payload_digest,
                                  profile_uri)
from tests.fixtures import pywb
from tests.test_warc import assert_warcio_check_ok

T1, T2 = "2025-03-01T08:00:00Z", "2025-03-08T08:00:00Z"
TS1, TS2 = "20250301080000", "20250308080000"
HTTP_T1, HTTP_T2 = "Sat, 01 Mar 2025 08:00:00 GMT", "Sat, 08 Mar 2025 08:00:00 GMT"

ARTICLE = "https://news.qq.com/rain/a/20250301A01ABC00"
CHECKED = "https://news.qq.com/rain/a/20250301A02ABC00"
NAIVE = "https://news.qq.com/rain/a/20250301A03ABC00"
AS_RESPONSE = "https://news.qq.com/rain/a/20250301A04ABC00"

IPD_1_0 = "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"
SNM_1_0 = "http://netpreserve.org/warc/1.0/revisit/server-not-modified"

PARAGRAPHS = [
    "3月1日，国内多家科技企业在北京发布了新一代人工智能大模型，参数规模和推理能力均有明显提升。",
    "发布会上，企业负责人表示，新模型将率先应用于医疗影像、工业质检和智能客服等领域。",
    "业内专家指出，大模型从“能用”走向“好用”，关键在于高质量数据和行业知识的积累。",
    "据统计，今年以来已有超过二十款大模型通过备案，覆盖金融、教育、政务等多个行业。",
]
TITLE = "国产人工智能大模型加速落地千行百业"


def _page(title: str) -> bytes:
    body = "".join(f"<p>{p}</p>\n" for p in PARAGRAPHS)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">\n<title>{title}</title>\n'
            f'</head><body><div class="content-article"><h1>{title}</h1>\n{body}</div></body></html>\n'
            ).encode("utf-8")


HTML = _page(TITLE)
GZ_HTML = gzip.compress(HTML, mtime=0)


class ClockedWriter(WARCWriter):
    """A warcio writer whose records carry a chosen WARC-Date (T1, T2)."""

    at = T1

    def curr_warc_date(self):
        return self.at


def _original(record) -> dict:
    h = record.rec_headers
    return {"uri": h.get_header("WARC-Target-URI"), "date": h.get_header("WARC-Date"),
            "record_id": h.get_header("WARC-Record-ID"), "payload_digest": h.get_header("WARC-Payload-Digest")}


def _capture(writer, response):
    """Write request + response like the capture middleware; return the response record."""
    resp = response_record(writer, response)
    req = request_record(writer, response.request, concurrent_to=resp.rec_headers.get_header("WARC-Record-ID"))
    writer.write_record(resp)
    writer.write_record(req)
    return resp


def _article_200(url, date, extra=()):
    return HtmlResponse(url, status=200, body=GZ_HTML, request=Request(url), headers={
        "Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip",
        "Transfer-Encoding": "chunked", "Date": date, **dict(extra)})


def _checked_200(url):
    return HtmlResponse(url, status=200, body=HTML, request=Request(url), headers={
        "Content-Type": "text/html; charset=utf-8", "Date": HTTP_T1,
        "ETag": '"c-v1"', "Last-Modified": "Fri, 28 Feb 2025 22:10:00 GMT"})


def _checked_304(url):
    request = Request(url, headers={"If-None-Match": '"c-v1"',
                                    "If-Modified-Since": "Fri, 28 Feb 2025 22:10:00 GMT"})
    return Response(url, status=304, request=request, headers={
        "Date": HTTP_T2, "ETag": '"c-v1"', "Cache-Control": "max-age=60", "Server": "nginx"})


def _records(path: Path) -> list:
    out = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            out.append({"type": rec.rec_type, "warc": rec.rec_headers, "http": rec.http_headers,
                        "content": rec.content_stream().read()})
    return out


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """archive/warc/refresh.warc.gz with the T1 captures and the T2 revisits."""
    root = tmp_path_factory.mktemp("archive")
    (root / "warc").mkdir()
    warc = root / "warc" / "refresh.warc.gz"
    originals = {}
    with open(warc, "wb") as fh:
        w = ClockedWriter(fh, gzip=True)
        w.at = T1
        originals[ARTICLE] = _original(_capture(w, _article_200(ARTICLE, HTTP_T1)))
        originals[CHECKED] = _original(_capture(w, _checked_200(CHECKED)))
        originals[NAIVE] = _original(_capture(w, _checked_200(NAIVE)))
        originals[AS_RESPONSE] = _original(_capture(w, _checked_200(AS_RESPONSE)))

        w.at = T2
        again = _article_200(ARTICLE, HTTP_T2, [("X-Cache", "HIT from refresh")])
        revisit = identical_revisit_record(w, again, originals[ARTICLE])
        w.write_record(revisit)
        w.write_record(request_record(w, again.request, revisit.rec_headers.get_header("WARC-Record-ID")))

        answer = _checked_304(CHECKED)
        records = not_modified_records(w, answer, originals[CHECKED])
        for rec in records:
            w.write_record(rec)
        w.write_record(request_record(w, answer.request, records[0].rec_headers.get_header("WARC-Record-ID")))

        # for the record, the forms not used: the 304 as the server-not-modified
        # block (the standard's own example), and the 304 as a response record
        block = StatusAndHeaders("304 Not Modified", [("Date", HTTP_T2), ("ETag", '"c-v1"')], protocol="HTTP/1.1")
        rec = w.create_revisit_record(NAIVE, originals[NAIVE]["payload_digest"], NAIVE, T1, http_headers=block,
                                      warc_headers_dict={"WARC-Refers-To": originals[NAIVE]["record_id"]})
        rec.rec_headers.replace_header("WARC-Profile", SNM_1_0)
        w.write_record(rec)
        w.write_record(response_record(w, _checked_304(AS_RESPONSE)))
    return {"root": root, "warc": warc, "originals": originals}


# --- the records, read back with warcio ------------------------------------

def _by(records, rec_type, url):
    return [r for r in records if r["type"] == rec_type and r["warc"].get_header("WARC-Target-URI") == url]


@pytest.mark.parametrize("body", [b"", HTML, GZ_HTML])
def test_payload_digest_is_what_warcio_writes(body):
    out = BytesIO()
    w = WARCWriter(out, gzip=True)
    w.write_record(response_record(w, HtmlResponse(ARTICLE, body=body, headers={"Content-Type": "text/html"})))
    out.seek(0)
    written = next(iter(ArchiveIterator(out))).rec_headers.get_header("WARC-Payload-Digest")
    assert payload_digest(body) == written
    assert written.startswith("sha1:") and len(written) == 5 + 32


def test_identical_payload_revisit(archive):
    records = _records(archive["warc"])
    original = archive["originals"][ARTICLE]
    [rev] = _by(records, "revisit", ARTICLE)
    assert len(_by(records, "response", ARTICLE)) == 1  # no second full copy
    h = rev["warc"]
    assert h.get_header("WARC-Profile") == IPD_1_0
    assert h.get_header("WARC-Date") == T2
    assert h.get_header("WARC-Refers-To") == original["record_id"]
    assert h.get_header("WARC-Refers-To-Target-URI") == ARTICLE
    assert h.get_header("WARC-Refers-To-Date") == T1
    assert h.get_header("WARC-Payload-Digest") == original["payload_digest"] == payload_digest(GZ_HTML)
    assert h.get_header("WARC-Truncated") == "length"
    # the new status line and headers, stored-bytes rules as in response_record; no body
    assert rev["http"].statusline == "200 OK"
    assert rev["http"].get_header("Date") == HTTP_T2
    assert rev["http"].get_header("X-Cache") == "HIT from refresh"
    assert rev["http"].get_header("Content-Length") == str(len(GZ_HTML))
    assert rev["http"].get_header("Transfer-Encoding") is None
    assert rev["http"].get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert rev["content"] == b""
    [req] = [r for r in _by(records, "request", ARTICLE) if r["warc"].get_header("WARC-Date") == T2]
    assert req["warc"].get_header("WARC-Concurrent-To") == h.get_header("WARC-Record-ID")


def test_identical_revisit_refuses_a_changed_payload(archive):
    w = WARCWriter(BytesIO(), gzip=True)
    changed = HtmlResponse(ARTICLE, body=_page(TITLE + "（更新）"), headers={"Content-Type": "text/html"})
    with pytest.raises(ValueError, match="changed"):
        identical_revisit_record(w, changed, archive["originals"][ARTICLE])


def test_not_modified_records(archive):
    records = _records(archive["warc"])
    original = archive["originals"][CHECKED]
    [rev] = _by(records, "revisit", CHECKED)
    h = rev["warc"]
    assert h.get_header("WARC-Profile") == SNM_1_0
    assert h.get_header("WARC-Date") == T2
    assert h.get_header("WARC-Refers-To") == original["record_id"]
    assert h.get_header("WARC-Refers-To-Target-URI") == CHECKED
    assert h.get_header("WARC-Refers-To-Date") == T1
    assert h.get_header("WARC-Payload-Digest") is None  # no payload was seen at T2
    assert h.get_header("Content-Length") == "0" and rev["http"] is None and rev["content"] == b""

    # what the server said, every line of it, in a metadata record of the same capture
    [said] = _by(records, "metadata", CHECKED)
    assert said["warc"].get_header("Content-Type") == "application/warc-fields"
    assert said["warc"].get_header("WARC-Concurrent-To") == h.get_header("WARC-Record-ID")
    assert said["warc"].get_header("WARC-Date") == T2
    assert said["content"].decode("utf-8").splitlines() == [
        "http-status-line: HTTP/1.1 304 Not Modified",
        f"http-header: Date: {HTTP_T2}",
        'http-header: Etag: "c-v1"',
        "http-header: Cache-Control: max-age=60",
        "http-header: Server: nginx",
    ]
    # the conditional request is there too, tied to the revisit
    [req] = [r for r in _by(records, "request", CHECKED) if r["warc"].get_header("WARC-Date") == T2]
    assert req["warc"].get_header("WARC-Concurrent-To") == h.get_header("WARC-Record-ID")
    assert req["http"].get_header("If-None-Match") == '"c-v1"'


def test_not_modified_keeps_header_lines_as_received(archive):
    """A 304 may carry the 200's Content-Length (RFC 9110 8.6); it is kept
    as sent, not made to match the empty body as in a response record."""
    answer = Response(CHECKED, status=304, headers={"Content-Length": "5120", "Transfer-Encoding": "chunked"})
    _, said = not_modified_records(WARCWriter(BytesIO(), gzip=True), answer, archive["originals"][CHECKED])
    assert said.raw_stream.read().decode("utf-8").splitlines() == [
        "http-status-line: HTTP/1.1 304 Not Modified",
        "http-header: Content-Length: 5120",
        "http-header: Transfer-Encoding: chunked",
    ]


def test_profiles_follow_the_warc_version(archive):
    w = WARCWriter(BytesIO(), gzip=True, warc_version="1.1")
    again = HtmlResponse(ARTICLE, body=GZ_HTML, headers={"Content-Type": "text/html"})
    rev = identical_revisit_record(w, again, archive["originals"][ARTICLE])
    assert rev.rec_headers.get_header("WARC-Profile") == \
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    snm, _ = not_modified_records(w, _checked_304(CHECKED), archive["originals"][CHECKED])
    assert snm.rec_headers.get_header("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    assert profile_uri(WARCWriter(BytesIO()), "server-not-modified") == SNM_1_0


def test_warcio_check_passes(archive):
    assert_warcio_check_ok(archive["warc"])


# --- replay in pywb ----------------------------------------------------------

COLLS = ["crawl", "pywbidx"]  # indexed by cdxj-indexer / by pywb's cdx-indexer


@pytest.fixture(scope="module")
def replay(archive, tmp_path_factory):
    venv = pywb.ensure_pywb()  # an install failure fails the test
    root = tmp_path_factory.mktemp("pywb")
    warc_dir = archive["root"] / "warc"
    index = root / "index.cdxj"  # as crawler/warc/index.py makes it
    with open(index, "w", encoding="utf-8") as out:
        CDXJIndexer(output=out, inputs=[str(archive["warc"])], sort=True, dir_root=str(warc_dir)).process_all()
    assert index.read_text(encoding="utf-8").count("\n") == 8, index.read_text(encoding="utf-8")
    pywb.build_collection(venv, warc_dir, root, "crawl", index=index)
    pywb.build_collection(venv, warc_dir, root, "pywbidx")
    server = pywb.start_wayback(venv, root)
    try:
        yield server
    finally:
        server.stop()


def _address(server, coll, when, mod, url) -> str:
    """/coll/[when][mod]/url; with neither, /coll/url (the latest capture)."""
    path = f"{when}{mod}/" if (when or mod) else ""
    return f"{server.base}/{coll}/{path}{url}"


def _text(headers, body: bytes) -> str:
    if (headers.get("Content-Encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8")


def _assert_full_text(text: str):
    assert TITLE in text
    for paragraph in PARAGRAPHS:
        assert paragraph in text


@pytest.mark.parametrize("coll", COLLS)
@pytest.mark.parametrize("url", [ARTICLE, CHECKED])
def test_index_lists_both_captures_and_no_304(replay, coll, url):
    query = urllib.parse.urlencode({"url": url, "output": "json"})
    status, _, body = pywb.get(f"{replay.base}/{coll}/cdx?{query}")
    assert status == 200, status
    lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    assert [line["timestamp"] for line in lines] == [TS1, TS2]
    assert lines[1]["mime"] == "warc/revisit"
    assert all(line.get("status", "-") in ("200", "-") for line in lines), lines


@pytest.mark.parametrize("coll", COLLS)
@pytest.mark.parametrize("url", [ARTICLE, CHECKED])
@pytest.mark.parametrize("mod", ["id_", ""])
@pytest.mark.parametrize("when, memento", [
    (TS2, HTTP_T2),   # the revisit's own time
    ("", HTTP_T2),    # latest capture, no timestamp
    ("2030", HTTP_T2),
    (TS1, HTTP_T1),   # the original
])
def test_replay_serves_the_article(replay, coll, url, mod, when, memento):
    status, headers, body = pywb.get(_address(replay, coll, when, mod, url), follow=False)
    assert status == 200, f"{status}\n{replay.log()}"
    assert headers.get("Memento-Datetime") == memento
    _assert_full_text(_text(headers, body))


@pytest.mark.parametrize("coll", COLLS)
def test_replay_headers_at_t2(replay, coll):
    """At T2 the identical-payload revisit replays its own (new) headers; the
    304 revisit has none, so the original's headers come with the payload."""
    _, headers, _ = pywb.get(f"{replay.base}/{coll}/{TS2}id_/{ARTICLE}", follow=False)
    assert headers.get("X-Cache") == "HIT from refresh"
    assert headers.get("X-Archive-Orig-Date") == HTTP_T2
    _, headers, _ = pywb.get(f"{replay.base}/{coll}/{TS2}id_/{CHECKED}", follow=False)
    assert headers.get("X-Archive-Orig-Etag") == '"c-v1"'
    assert headers.get("X-Archive-Orig-Date") == HTTP_T1


@pytest.mark.parametrize("coll", COLLS)
@pytest.mark.parametrize("url", [NAIVE, AS_RESPONSE])
def test_a_recorded_304_is_unplayable(replay, coll, url):
    """Why not_modified_records keeps the 304 out of any revisit or response
    block: pywb 2.10 answers such a capture with an empty 304, at its time
    and as the latest capture; only the T1 capture still plays."""
    for when in (TS2, "", "2030"):
        for mod in ("id_", ""):
            status, _, body = pywb.get(_address(replay, coll, when, mod, url), follow=False)
            assert (status, body) == (304, b""), (when, mod, status, body[:200])
    status, headers, body = pywb.get(f"{replay.base}/{coll}/{TS1}id_/{url}", follow=False)
    assert status == 200
    _assert_full_text(_text(headers, body))
