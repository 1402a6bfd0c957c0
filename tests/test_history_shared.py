"""A shared refresh whose worker is killed between writing a new version and recording it.

A real redis-server on 127.0.0.1 and real ``scrapy refresh`` workers. One
worker carries a kill point (tests/fixtures/killpoint.py) right after the
Markdown writer: it writes its first new version and dies by SIGKILL before
the WARC text record, the change log or the state hear of it. Its request
comes back to the queue when its lease runs out; the worker that does it
again must record that change, once, whatever the dead one had written.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

pytest.importorskip("redis")

from crawler.core.digest import text_digest  # noqa: E402
from crawler.state.open import open_store  # noqa: E402
from tests.conftest import run_crawl  # noqa: E402
from tests.fixtures.killpoint import pipelines_with_killpoint  # noqa: E402
from tests.fixtures.news_web import article_text, article_url, generated_pages, write_seeds  # noqa: E402
from tests.fixtures.qq_site import Page, reference_page  # noqa: E402
from tests.fixtures.server import FixtureProxy  # noqa: E402
from tests.test_distributed import finish, start_redis, start_worker  # noqa: E402
from tests.test_history_trust import metadata_files  # noqa: E402

COUNT = 8


@pytest.mark.parametrize("order", [310, 450], ids=["before-text-record", "after-text-record"])
def test_a_shared_refresh_worker_killed_before_recording_a_change_has_it_recorded_once(tmp_path, order):
    server, port = start_redis(tmp_path)
    pages = generated_pages(COUNT, delay=0.3)
    proxy = FixtureProxy(pages).start()
    try:
        seeds = tmp_path / "seeds"
        write_seeds(seeds, COUNT)
        archive = tmp_path / "archive"
        first = run_crawl(archive, proxy.url, seeds=seeds)
        assert first.returncode == 0, first.log[-3000:]
        for i in range(COUNT):  # every story corrected
            text = [line.replace("Tuesday", "Wednesday") for line in article_text(i)]
            pages[article_url(i)] = Page(body=reference_page(f"Story {i} of the day", text).encode(), delay=0.3)
        redis_url = f"redis://127.0.0.1:{port}/0"
        victim = start_worker(tmp_path, "victim", ["refresh"], archive, redis_url, "kill", proxy.url,
                              ITEM_PIPELINES=pipelines_with_killpoint(order), KILLPOINT_AFTER=1)
        [(victim_code, victim_log)] = finish([victim], timeout=120)
        assert victim_code == -9, victim_log[-3000:]
        # the run goes on: the next worker joins it and redoes what the dead one held
        other = start_worker(tmp_path, "other", ["refresh"], archive, redis_url, "kill", proxy.url)
        [(code, log)] = finish([other], timeout=180)
    finally:
        proxy.stop()
        server.kill()
    assert code == 0, log[-5000:]
    changed = Counter(e["article"] for e in map(json.loads, (archive / "changes.jsonl").read_text().splitlines())
                      if e["event"] == "changed")
    files = sorted(p.relative_to(archive).as_posix() for p in (archive / "articles").rglob("*.md"))
    generated = [f for f in files if not f.startswith("articles/qq/")]
    assert len(generated) == COUNT
    assert sorted(changed) == generated and set(changed.values()) == {1}, changed
    texts = Counter(metadata_files(archive))
    assert all(texts[f] == 2 for f in generated), texts  # archived, then changed: once each
    assert all(texts[f] == 1 for f in files if f not in generated)
    with open_store(archive) as store:
        for path in files:
            assert store.by_path(path).text_digest == text_digest((archive / path).read_text("utf-8")), path
    for path in generated:
        assert "Wednesday" in (archive / path).read_text("utf-8")


def test_two_share_links_of_one_article_crawled_by_two_workers_are_one_article(tmp_path):
    """Different keys, one article id, one file: the workers take the file's
    lock, so the second finds the first's copy, recorded."""
    from tests.conftest import SEEDS
    from tests.fixtures.qq_site import build_site, read_seed

    article = read_seed("004_0f7ec6953a63be2f.txt")
    share = f"https://view.inews.qq.com/wxn/{article.article_id}"
    pages = build_site()
    for address, served in list(pages.items()):  # slow pages: each worker holds one while the other asks
        if served.status == 200 and "text/html" in served.content_type:
            pages[address] = Page(body=served.body, headers=served.headers, content_type=served.content_type,
                                  delay=1.5)
    pages[share] = pages[article.source_url]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "004.txt").write_bytes((SEEDS / "004_0f7ec6953a63be2f.txt").read_bytes())
    (seeds / "share.md").write_text(f"- [shared]({share})\n", encoding="utf-8")
    server, port = start_redis(tmp_path)
    proxy = FixtureProxy(pages).start()
    archive = tmp_path / "archive"
    try:
        workers = [start_worker(tmp_path, f"w{i}", ["crawl", "qq", "-a", f"seeds={seeds}"], archive,
                                f"redis://127.0.0.1:{port}/0", "share", proxy.url, ARCHIVE_IMAGES="False",
                                CONCURRENT_REQUESTS=1) for i in range(2)]
        results = finish(workers, timeout=200)
    finally:
        proxy.stop()
        server.kill()
    assert [code for code, _ in results] == [0, 0], results[0][1][-3000:]
    events = [json.loads(line)["event"] for line in (archive / "changes.jsonl").read_text().splitlines()]
    assert events == ["archived"]
    assert metadata_files(archive) == [f"articles/qq/{article.article_id}.md"]
    assert not (archive / "versions").exists()
