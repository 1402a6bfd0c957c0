"""Progress lines: steady, counted per seed URL, silent in a short run."""

from __future__ import annotations

from scrapy.utils.test import get_crawler

from crawler.extensions.progress import Progress
from tests.conftest import run_crawl


class FakeSpider:
    name = "qq"

    def __init__(self, urls):
        self.seed_urls = dict.fromkeys(urls, "seed.md")


def test_progress_line_counts_outcomes_rate_and_time_left():
    crawler = get_crawler(settings_dict={"PROGRESS_INTERVAL": 60})
    ext = Progress.from_crawler(crawler)
    spider = FakeSpider([f"https://x.example/{i}" for i in range(1000)])
    ext.started = 0.0
    for i in range(250):
        ext.url_done(f"https://x.example/{i}")
    ext.url_done("https://x.example/0")  # a second outcome for one URL counts once
    ext.url_done("https://elsewhere.example/image.png")  # not a seed URL
    line = ext.line(spider, now=300.0)  # 250 in 5 minutes
    assert line == "progress: 250 of 1000 seed URLs done (25%), 50.0/min, about 15m00s left"


def test_refresh_counts_articles():
    crawler = get_crawler(settings_dict={"PROGRESS_INTERVAL": 60})
    ext = Progress.from_crawler(crawler)
    spider = FakeSpider(["https://x.example/a", "https://x.example/b"])
    spider.name = "refresh"
    ext.started = 0.0
    ext.url_done("https://x.example/a")
    assert ext.line(spider, now=7200.0) == "progress: 1 of 2 articles done (50%), 0.0/min, about 2h00m left"


def test_steady_lines_in_a_long_run_none_in_a_short_one(fixture_web, qq_seeds_dir, tmp_path):
    quick = run_crawl(tmp_path / "a", fixture_web.url, seeds=qq_seeds_dir)
    assert quick.returncode == 0 and "progress:" not in quick.log
    ticking = run_crawl(tmp_path / "b", fixture_web.url, seeds=qq_seeds_dir,
                        settings={"PROGRESS_INTERVAL": 0.2, "DOWNLOAD_DELAY": 0.5, "CONCURRENT_REQUESTS": 1})
    lines = [line for line in ticking.log.splitlines() if "progress:" in line]
    assert len(lines) >= 3, ticking.log[-2000:]
    assert "of 3 seed URLs done" in lines[-1]
