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

from crawler.diffing import text_digest  # noqa: E402
from crawler.store import open_store  # noqa: E402
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
