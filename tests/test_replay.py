"""The crawl's WARCs replay in pywb (own venv, subprocess; see fixtures/pywb.py).

Raw replay (``id_``) at each capture's own timestamp must give back the page
as the server sent it, with the seed's text in it; the 301 of seed 000 must
replay as the redirect to news.qq.com.
"""

from __future__ import annotations

import gzip
import html as htmlmod
import json
import urllib.parse
from pathlib import Path

import frontmatter
import pytest

from tests.fixtures import pywb
from tests.fixtures.qq_site import QQ_SEEDS, REFERENCE_TEXT, read_seed
from tests.test_warc import all_records, responses_for, warc_ts14

COLL = "crawl"
YAHOO = "https://finance.yahoo.com/news/alibabas-joe-tsai-says-ai-091917301.html"


@pytest.fixture(scope="session")
def pywb_venv():
    return pywb.ensure_pywb()  # installs pywb when missing; an install failure fails the test


@pytest.fixture(scope="module")
def replay(pywb_venv, full_crawl, tmp_path_factory):
    warc_dir = Path(full_crawl.archive) / "warc"
    root = pywb.build_collection(pywb_venv, warc_dir, tmp_path_factory.mktemp("pywb"), COLL)
    server = pywb.start_wayback(pywb_venv, root)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def records(full_crawl):
    return all_records(Path(full_crawl.archive))


def _capture(records, url, status=200):
    found = [r for r in responses_for(records, url) if r["status"] == status]
    assert found, f"no {status} response record for {url}"
    return found[0]


def _text(headers, body: bytes) -> str:
    if (headers.get("Content-Encoding") or "").lower() == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8")


def _paragraphs(seed) -> list[str]:
    """Text paragraphs of a seed, as plain text (no images, no markup)."""
    out = []
    for p in seed.paragraphs:
        if p.startswith("![") or not p.strip():
            continue
        out.append(p.replace("**", ""))
    return out


def _assert_seed_text(seed, page: str):
    paragraphs = [p for p in _paragraphs(seed) if len(p) >= 20]
    assert len(paragraphs) >= 3, seed.name
    unescaped = htmlmod.unescape(page)
    found = [p for p in paragraphs if p.strip() in unescaped]
    assert len(found) >= min(5, len(paragraphs)), \
        f"{seed.name}: only {len(found)}/{len(paragraphs)} paragraphs in the replayed page"


def _replay(server, ts, url, follow=True):
    return pywb.get(f"{server.base}/{COLL}/{ts}id_/{url}", follow=follow)


def _replayed_as_sent(replay, records, fixture_web, url) -> str:
    """Replay the capture of ``url`` raw (id_): 200, HTML, byte-equal to what
    the fixture server sent; returns its text."""
    page = _capture(records, url)
    status, headers, body = _replay(replay, warc_ts14(page["date"]), url)
    assert status == 200, f"{status}\n{replay.log()}"
    assert headers.get("Content-Type", "").startswith("text/html"), headers.get("Content-Type")
    text = _text(headers, body)
    assert text.encode("utf-8") == fixture_web.sent[url]
    return text


def test_replay_000_redirect_then_page(replay, records, fixture_web):
    seed = read_seed(sorted(QQ_SEEDS)[0])
    target = seed.source_url.replace("new.qq.com", "news.qq.com")
    redirect = _capture(records, seed.source_url, status=301)
    status, headers, _ = _replay(replay, warc_ts14(redirect["date"]), seed.source_url, follow=False)
    assert status == 301, f"{status}\n{replay.log()}"
    location = headers.get("Location") or ""
    assert location == target or location.endswith("/" + target), location

    _assert_seed_text(seed, _replayed_as_sent(replay, records, fixture_web, target))

    # in rewritten (non-id_) replay the redirect stays inside the archive and
    # following it lands on the archived page
    ts = warc_ts14(redirect["date"])
    status, headers, _ = pywb.get(f"{replay.base}/{COLL}/{ts}/{seed.source_url}", follow=False)
    assert status in (301, 302, 307, 308), status
    location = urllib.parse.urljoin(replay.base + "/", headers.get("Location") or "")
    assert location.startswith(f"{replay.base}/{COLL}/") and location.endswith(target), location
    status, headers, body = pywb.get(location, follow=False)
    assert status == 200, status
    _assert_seed_text(seed, _text(headers, body))


@pytest.mark.parametrize("name", sorted(QQ_SEEDS)[1:])
def test_replay_article(name, replay, records, fixture_web):
    seed = read_seed(name)
    _assert_seed_text(seed, _replayed_as_sent(replay, records, fixture_web, seed.source_url))


def test_replay_reference_page(replay, records, fixture_web):
    text = _replayed_as_sent(replay, records, fixture_web, YAHOO)
    for paragraph in REFERENCE_TEXT:
        assert paragraph in htmlmod.unescape(text)
    # rewritten (non-id_) replay serves the page as well
    ts = warc_ts14(_capture(records, YAHOO)["date"])
    status, headers, body = pywb.get(f"{replay.base}/{COLL}/{ts}/{YAHOO}")
    assert status == 200 and REFERENCE_TEXT[0] in htmlmod.unescape(_text(headers, body))


def test_replay_latest_capture_is_the_page(replay, full_crawl):
    """What a reader gets without a timestamp: for every archived article,
    pywb's index must offer only captures of the page, so the latest/closest
    one is the HTML page, not the Markdown metadata record."""
    wrong = []
    for path in sorted((Path(full_crawl.archive) / "articles").rglob("*.md")):
        url = frontmatter.load(path).metadata["fetched_url"]
        query = urllib.parse.urlencode({"url": url, "output": "json"})
        status, _, body = pywb.get(f"{replay.base}/{COLL}/cdx?{query}")
        assert status == 200, status
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        assert lines, f"pywb has no capture of {url}"
        mimes = [line.get("mime") for line in lines]
        if any(m != "text/html" for m in mimes):
            wrong.append((url, mimes))
        status, headers, body = pywb.get(f"{replay.base}/{COLL}/id_/{url}")
        ctype = headers.get("Content-Type", "") if headers else ""
        if status != 200 or not ctype.startswith("text/html"):
            wrong.append((url, status, ctype))
    assert not wrong, f"{len(wrong)} problems, e.g. {wrong[:4]}"


def test_wayback_tries_another_port_when_its_free_one_was_taken(pywb_venv, tmp_path, monkeypatch):
    """A port found free may be taken before wayback binds it (CI saw it once):
    the fixture starts wayback on another one instead of failing the tests."""
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = taken.getsockname()[1]
    ports = [busy]
    real = pywb.free_port
    monkeypatch.setattr(pywb, "free_port", lambda: ports.pop() if ports else real())
    (tmp_path / "collections").mkdir()
    try:
        server = pywb.start_wayback(pywb_venv, tmp_path)
    finally:
        taken.close()
    try:
        assert ports == [] and server.port != busy  # the busy port was tried first
        assert pywb.get(server.base + "/")[0] == 200
    finally:
        server.stop()
