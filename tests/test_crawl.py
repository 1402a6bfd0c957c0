"""End to end: `scrapy crawl qq` through the fixture web, as cron would run it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import frontmatter
import pytest

from crawler.core import markdown
from tests.conftest import ROOT, SEEDS, run_crawl
from tests.fixtures.qq_site import (REFERENCE_TEXT, Page, build_site, client_rendered, expected_reference_text,
                                    read_seed, reference_page)
from tests.fixtures.server import FixtureProxy, free_port

QQ = {
    "000_916c35625ed2f8d3.txt": "20250213A06E5300",
    "001_7e5bc8a25ec71449.txt": "20250210A05NRE00",
    "004_0f7ec6953a63be2f.txt": "20250213A06RUW00",
}


def article_file(archive, article_id):
    return archive / "articles" / "qq" / f"{article_id}.md"


@pytest.mark.parametrize("seed,article_id", sorted(QQ.items()))
def test_crawl_reproduces_qq_seed(full_crawl, seed, article_id):
    produced = frontmatter.loads(article_file(full_crawl.archive, article_id).read_text(encoding="utf-8"))
    expected = frontmatter.loads((SEEDS / seed).read_text(encoding="utf-8"))
    # every seed key, in order, with its value; keys of our own only after them
    assert list(produced.metadata)[: len(expected.metadata)] == list(expected.metadata)
    for key, value in expected.metadata.items():
        assert produced.metadata[key] == value, key
    assert set(list(produced.metadata)[len(expected.metadata):]) <= set(markdown.CAPTURE_KEYS)
    # every paragraph in text and order, images and bold in place, source link last
    assert produced.content.split("\n\n") == expected.content.split("\n\n")
    # and the seed part of the file is byte-identical to the seed
    text = article_file(full_crawl.archive, article_id).read_text(encoding="utf-8")
    seed_text = (SEEDS / seed).read_text(encoding="utf-8")
    own = re.compile(r"^(%s): .*\n" % "|".join(markdown.CAPTURE_KEYS), re.M)
    assert own.sub("", text) == seed_text


def test_source_link_stays_the_seed_url_after_a_redirect(full_crawl):
    text = article_file(full_crawl.archive, "20250213A06E5300").read_text(encoding="utf-8")
    assert text.rstrip().endswith("[qq](https://new.qq.com/rain/a/20250213A06E5300)")
    assert 'fetched_url: "https://news.qq.com/rain/a/20250213A06E5300"' in text


def test_referenced_pages_are_archived_with_their_text(full_crawl):
    files = sorted((full_crawl.archive / "articles").glob("*/*.md"))
    sites = {f.parent.name for f in files}
    assert {"itiger", "yahoo", "sherwood", "scmp", "morningstar"} <= sites
    for path in files:
        if path.parent.name in ("qq", "x"):  # x: the post, tested on its own
            continue
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
        assert post.metadata["categories"] == [path.parent.name]
        assert post.metadata["lang"] == ["en"]
        body = post.content
        for paragraph in expected_reference_text().split("\n"):
            assert paragraph in body
        for chrome in ("Great analysis", "Related stories", "All rights reserved", "Sign in"):
            assert chrome not in body


def test_the_shipped_seeds_crawl_clean_the_x_post_through_the_browser(full_crawl):
    assert full_crawl.returncode == 0, full_crawl.log[-3000:]
    log = full_crawl.log
    assert "crawl summary" in log
    assert re.search(r"archived:\s+9 new", log)
    assert re.search(r"failed:\s+0\b", log)
    assert "x.com/wallstengine/status/1904438237554515976: a script shell with no text" in log
    post = next((full_crawl.archive / "articles" / "x").glob("*.md")).read_text(encoding="utf-8")
    assert "@wallstengine" in post and post.rstrip().endswith("(https://x.com/wallstengine/status/1904438237554515976)")


def test_clean_crawl_exits_zero(fixture_web, qq_seeds_dir, tmp_path):
    result = run_crawl(tmp_path / "archive", fixture_web.url, seeds=qq_seeds_dir)
    assert result.returncode == 0, result.log[-3000:]
    assert re.search(r"archived:\s+3 new", result.log)
    assert re.search(r"failed:\s+0\b", result.log)


def test_no_network_gives_per_url_errors_summary_and_nonzero_exit(tmp_path):
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    result = run_crawl(tmp_path / "archive", dead_proxy)
    assert result.returncode == 1
    assert re.search(r"failed:\s+9\b", result.log)
    for seed_url in ("https://new.qq.com/rain/a/20250213A06E5300", "https://www.scmp.com/tech/big-tech/article/"
                     "3314070/alibabas-joe-tsai-says-open-sourcing-its-ai-models-will-boost-firms-cloud-business"):
        assert re.search(re.escape(seed_url) + r": \w*(Connection|Refused|Error)", result.log)
    assert not list((tmp_path / "archive").glob("articles/*/*.md"))


def _broken_site():
    """The same web, gone bad: a page with no body, a 500, a truncated article."""
    pages = build_site()
    good = pages["https://news.qq.com/rain/a/20250213A06E5300"]
    emptied = re.sub(rb'<div class="rich_media_content">.*?</div></div>', b"", good.body, flags=re.S)
    pages["https://news.qq.com/rain/a/20250213A06E5300"] = Page(body=emptied, gzip=True)
    pages["https://new.qq.com/rain/a/20250210A05NRE00"] = Page(status=500, body=b"<h1>Internal error</h1>")
    article = read_seed("004_0f7ec6953a63be2f.txt")
    article.paragraphs = article.paragraphs[:5]  # the opening only
    truncated = client_rendered(article).encode("utf-8")
    pages["https://new.qq.com/rain/a/20250213A06RUW00"] = Page(body=truncated, gzip=True)
    return pages


def test_a_worse_second_crawl_never_replaces_the_good_copy(fixture_web, qq_seeds_dir, tmp_path):
    archive = tmp_path / "archive"
    first = run_crawl(archive, fixture_web.url, seeds=qq_seeds_dir)
    assert first.returncode == 0
    before = {aid: article_file(archive, aid).read_bytes() for aid in QQ.values()}

    broken = FixtureProxy(_broken_site()).start()
    try:
        second = run_crawl(archive, broken.url, seeds=qq_seeds_dir)
    finally:
        broken.stop()
    assert second.returncode == 1
    for aid, data in before.items():
        assert article_file(archive, aid).read_bytes() == data, aid
    assert "HTTP 500" in second.log
    assert re.search(r"20250213A06E5300: empty extraction", second.log)
    assert re.search(r"20250213A06RUW00: extraction much shorter than the stored copy", second.log)
    aside = sorted(p.name for p in (archive / "rejected" / "qq").glob("*.md"))
    assert any(n.startswith("20250213A06E5300-") for n in aside)
    assert any(n.startswith("20250213A06RUW00-") for n in aside)

    third = run_crawl(archive, fixture_web.url, seeds=qq_seeds_dir)
    assert third.returncode == 0
    assert re.search(r"unchanged:\s+3\b", third.log)
    for aid, data in before.items():
        assert article_file(archive, aid).read_bytes() == data, aid


def test_a_changed_article_keeps_its_earlier_version(fixture_web, qq_seeds_dir, tmp_path):
    archive = tmp_path / "archive"
    assert run_crawl(archive, fixture_web.url, seeds=qq_seeds_dir).returncode == 0
    old = article_file(archive, "20250210A05NRE00").read_text(encoding="utf-8")

    pages = build_site()
    page = pages["https://new.qq.com/rain/a/20250210A05NRE00"]
    page.body = page.body.replace("值得注意的是".encode(), "更正：值得注意的是".encode())
    edited = FixtureProxy(pages).start()
    try:
        result = run_crawl(archive, edited.url, seeds=qq_seeds_dir)
    finally:
        edited.stop()
    assert result.returncode == 0
    assert re.search(r"archived:\s+0 new, 1 changed", result.log)
    new = article_file(archive, "20250210A05NRE00").read_text(encoding="utf-8")
    assert "更正：值得注意的是" in new
    versions = list((archive / "versions" / "qq" / "20250210A05NRE00").glob("*.md"))
    assert len(versions) == 1 and versions[0].read_text(encoding="utf-8") == old


def test_an_article_that_moved_host_is_found_on_the_other_one(qq_seeds_dir, tmp_path):
    pages = build_site()
    moved = pages.pop("https://new.qq.com/rain/a/20250210A05NRE00")
    pages["https://news.qq.com/rain/a/20250210A05NRE00"] = moved  # new.qq.com now answers 404
    proxy = FixtureProxy(pages).start()
    try:
        result = run_crawl(tmp_path / "archive", proxy.url, seeds=qq_seeds_dir)
    finally:
        proxy.stop()
    assert result.returncode == 0, result.log[-3000:]
    assert "HTTP 404 at https://new.qq.com/rain/a/20250210A05NRE00; trying https://news.qq.com/" in result.log
    text = article_file(tmp_path / "archive", "20250210A05NRE00").read_text(encoding="utf-8")
    own = re.compile(r"^(%s): .*\n" % "|".join(markdown.CAPTURE_KEYS), re.M)
    assert own.sub("", text) == (SEEDS / "001_7e5bc8a25ec71449.txt").read_text(encoding="utf-8")


def test_missing_seed_folder_fails_at_start(tmp_path):
    result = run_crawl(tmp_path / "archive", None, seeds=tmp_path / "no-such-folder")
    assert result.returncode == 2  # a mistake on the command line, as an unknown option
    assert "seed folder not found" in result.log


def test_seeds_with_nothing_to_crawl_fail(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "002_506cf2e3bbd555df.txt").write_bytes((SEEDS / "002_506cf2e3bbd555df.txt").read_bytes())
    result = run_crawl(tmp_path / "archive", None, seeds=folder)
    assert result.returncode == 1
    assert "002_506cf2e3bbd555df.txt: no source link" in result.log
    assert "no seed URL to crawl" in result.log


def _note_seed(folder, urls):
    folder.mkdir(exist_ok=True)
    lines = "\n".join(f"- [ref {i}]({u})" for i, u in enumerate(urls))
    (folder / "050_note.md").write_text(f"---\ntitle: note\nlayout: post\n---\n\n### 参考资料\n{lines}\n", encoding="utf-8")
    return folder


def test_host_proxy_map_reaches_the_fixture_without_proxy_variables(fixture_web, qq_seeds_dir, tmp_path):
    result = run_crawl(tmp_path / "archive", None, seeds=qq_seeds_dir,
                       settings={"HOST_PROXY_MAP": json.dumps({"*": fixture_web.url})})
    assert result.returncode == 0, result.log[-3000:]
    assert re.search(r"archived:\s+3 new", result.log)


def test_a_qq_seed_redirected_away_from_its_article_fails(qq_seeds_dir, tmp_path):
    pages = build_site()
    pages["https://new.qq.com/rain/a/20250210A05NRE00"] = Page(status=302, headers=[("Location", "https://www.qq.com/")])
    pages["https://www.qq.com/"] = Page(body=reference_page("腾讯网", REFERENCE_TEXT, lang="zh-CN").encode("utf-8"))
    proxy = FixtureProxy(pages).start()
    try:
        result = run_crawl(tmp_path / "archive", proxy.url, seeds=qq_seeds_dir)
    finally:
        proxy.stop()
    assert result.returncode == 1
    assert re.search(r"20250210A05NRE00: redirected away to https://www\.qq\.com/ \(another article id\) at .*then HTTP 404", result.log)
    assert sorted(p.name for p in (tmp_path / "archive" / "articles").rglob("*.md")) == [
        "20250213A06E5300.md", "20250213A06RUW00.md"]


def test_fragments_duplicates_and_bad_urls_each_get_an_answer(fixture_web, tmp_path):
    urls = ["https://new.qq.com/rain/a/20250210A05NRE00", "https://new.qq.com/rain/a/20250210A05NRE00#comments",
            "https://news.qq.com/rain/a/20250213A06E5300", "https://new.qq.com/rain/a/20250213A06E5300",
            "https://example.com:99999/x"]
    result = run_crawl(tmp_path / "archive", fixture_web.url, seeds=_note_seed(tmp_path / "seeds", urls))
    assert result.returncode == 1
    assert re.search(r"seed URLs:\s+3\b", result.log) and re.search(r"failed:\s+1\b", result.log)
    assert re.search(r"https://example\.com:99999/x: invalid URL", result.log)
    assert "no result" not in result.log
    assert len(list((tmp_path / "archive" / "articles" / "qq").glob("*.md"))) == 2
    assert "#comments (050_note.md) is the same article as https://new.qq.com/rain/a/20250210A05NRE00" in result.log
    assert "20250213A06E5300 (050_note.md) is the same article as https://news.qq.com/rain/a/20250213A06E5300" in result.log
    # the same seeds again: nothing changed, so no article gets a new version
    again = run_crawl(tmp_path / "archive", fixture_web.url, seeds=tmp_path / "seeds")
    assert again.returncode == 1
    assert re.search(r"archived:\s+0 new, 0 changed", again.log), again.log[-2000:]
    assert not (tmp_path / "archive" / "versions").exists()


def test_a_damaged_stored_copy_is_kept_and_replaced(fixture_web, qq_seeds_dir, tmp_path):
    archive = tmp_path / "archive"
    target = article_file(archive, "20250213A06E5300")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"---\ntitle: [broken\n---\n\xff\xfe half a file")
    result = run_crawl(archive, fixture_web.url, seeds=qq_seeds_dir)
    assert result.returncode == 0, result.log[-3000:]
    assert "is unreadable" in result.log
    versions = list((archive / "versions" / "qq" / "20250213A06E5300").glob("*.md"))
    assert [v.read_bytes() for v in versions] == [b"---\ntitle: [broken\n---\n\xff\xfe half a file"]
    assert target.read_text(encoding="utf-8").rstrip().endswith("[qq](https://new.qq.com/rain/a/20250213A06E5300)")


def test_a_crawl_stopped_by_sigterm_exits_nonzero_with_its_warc_closed(tmp_path):
    pages = build_site()
    slow = "https://www.scmp.com/slow"
    pages[slow] = Page(body=reference_page("slow", REFERENCE_TEXT).encode(), delay=20)
    proxy = FixtureProxy(pages).start()
    seeds = _note_seed(tmp_path / "seeds", ["https://www.itiger.com/news/1199643973", slow])
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=proxy.url, https_proxy=proxy.url)
    archive = tmp_path / "archive"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-L", "INFO", "-a", f"seeds={seeds}", "-s", f"ARCHIVE_DIR={archive}",
           "-s", "DOWNLOAD_DELAY=0", "-s", "DOWNLOAD_TIMEOUT=4", "-s", "RETRY_TIMES=0"]
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while not list(archive.glob("articles/*/*.md")):
            assert proc.poll() is None and time.monotonic() < deadline, "the crawl never archived the fast page"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        log, _ = proc.communicate(timeout=60)
    finally:
        proxy.stop()
    assert proc.returncode == 143, log[-3000:]  # 128 + SIGTERM: an interrupted run (README)
    assert "shutting down gracefully" in log
    assert not list(archive.glob("warc/*.open"))
    assert list(archive.glob("warc/*.warc.gz"))


def test_a_page_that_reads_as_no_charset_is_refused_with_its_reason(tmp_path):
    pages = build_site()
    junk = "https://www.scmp.com/junk"
    body = ("<html><body><article>" + "<p>" + "A story. " * 30 + "</p>").encode() + bytes(range(128, 256)) * 40 \
        + b"</article></body></html>"
    pages[junk] = Page(body=body)
    proxy = FixtureProxy(pages).start()
    try:
        result = run_crawl(tmp_path / "archive", proxy.url, seeds=_note_seed(tmp_path / "seeds", [junk]))
    finally:
        proxy.stop()
    assert result.returncode == 1
    assert re.search(r"scmp\.com/junk: undecodable text", result.log), result.log[-3000:]
    assert not list((tmp_path / "archive").glob("articles/*/*.md"))


def test_a_broken_emoji_in_a_truthful_page_is_archived(tmp_path):
    pages = build_site()
    url = "https://www.scmp.com/emoji"
    paragraphs = [p + " \ufffd\ufffd\ufffd\ufffd" for p in REFERENCE_TEXT[:1]] + REFERENCE_TEXT[1:]
    pages[url] = Page(body=reference_page("emoji", paragraphs).encode("utf-8"))
    proxy = FixtureProxy(pages).start()
    try:
        result = run_crawl(tmp_path / "archive", proxy.url, seeds=_note_seed(tmp_path / "seeds", [url]))
    finally:
        proxy.stop()
    assert result.returncode == 0, result.log[-3000:]


def test_a_rejected_copy_does_not_claim_the_file_for_the_crawl(fixture_web, tmp_path):
    """The first URL of an article comes out empty and is kept aside; the
    second URL of the same article then writes the file."""
    from scrapy.exceptions import DropItem

    from crawler.archive.storage import ArchiveStore
    from crawler.pipelines.markdown import MarkdownWriterPipeline

    pipeline = MarkdownWriterPipeline(ArchiveStore(tmp_path), min_chars=40, min_ratio=0.5)
    base = dict(site="qq", article_id="20250213A06E5300", title="t", date="2025-02-13 17:15:08",
                thumbnail="", lang="zh-CN")
    empty = dict(base, source_url="https://new.qq.com/rain/a/20250213A06E5300", blocks=[])
    full = dict(base, source_url="https://news.qq.com/rain/a/20250213A06E5300",
                blocks=[{"type": "text", "markdown": "正文" * 40, "text": "正文" * 40}])
    with pytest.raises(DropItem):
        pipeline.write(empty)
    assert pipeline.write(full)["outcome"] == "archived"
    assert (tmp_path / "articles" / "qq" / "20250213A06E5300.md").exists()
