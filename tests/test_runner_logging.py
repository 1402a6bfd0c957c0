"""The runner stops the crawl building log records that every handler drops."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from crawler import settings as project_settings
from crawler.commands.runner import skip_filtered_records
from tests.conftest import ROOT

EVERYTHING = 1


@pytest.fixture
def root_logger():
    """A stand-in for the root logger (pytest's own handlers sit on the real
    one): a logger with no parent's handlers, that lets every record through
    as Scrapy leaves root (NOTSET would defer to pytest's root logger here)."""
    root = logging.getLogger("crawler.test.root")
    root.propagate = False
    root.setLevel(EVERYTHING)
    yield root
    root.handlers[:] = []


def _records_made(logger, call) -> int:
    made = []
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(lambda *a, **k: made.append(1) or factory(*a, **k))
    try:
        call(logger)
    finally:
        logging.setLogRecordFactory(factory)
    return len(made)


def test_records_below_every_handler_are_not_made(root_logger):
    shown = []
    console = logging.Handler(logging.WARNING)
    console.emit = shown.append
    counter = logging.Handler(logging.INFO)
    counter.emit = lambda record: None
    root_logger.handlers[:] = [console, counter]  # only these (pytest may have added its own)
    log = logging.getLogger("crawler.test.root.runner")
    assert _records_made(log, lambda l: l.debug("crawled %s", "x")) == 1  # Scrapy's way: made, then dropped
    skip_filtered_records([root_logger])
    assert root_logger.level == logging.INFO
    assert _records_made(log, lambda l: l.debug("crawled %s", "x")) == 0
    assert _records_made(log, lambda l: l.info("progress")) == 1  # the INFO handler still gets it
    log.warning("shown")
    assert [r.getMessage() for r in shown] == ["shown"]


def test_a_handler_that_takes_everything_or_a_higher_root_level_is_left_alone(root_logger):
    root_logger.handlers[:] = [logging.Handler(logging.NOTSET), logging.Handler(logging.WARNING)]
    skip_filtered_records([root_logger])
    assert root_logger.level == EVERYTHING
    root_logger.handlers[:] = [logging.Handler(logging.INFO)]
    root_logger.setLevel(logging.ERROR)
    skip_filtered_records([root_logger])
    assert root_logger.level == logging.ERROR


def test_a_crawl_builds_no_record_below_its_log_level(fixture_web, qq_seeds_dir, tmp_path):
    """Scrapy's "Crawled (200)" and "Scraped from" lines, and every library's
    debug lines, are never made in a crawl at WARNING (the console's default)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=fixture_web.url, https_proxy=fixture_web.url)
    probe = tmp_path / "below.txt"
    extensions = {**project_settings.EXTENSIONS, "tests.fixtures.logprobe.RecordsBelowLevel": 0}
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "qq", "-a", f"seeds={qq_seeds_dir}",
         "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}", "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING",
         "-s", f"LOGPROBE_FILE={probe}", "-s", f"EXTENSIONS={json.dumps(extensions)}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "crawl summary" in proc.stdout
    assert probe.read_text() == "0"


def test_a_logger_set_to_debug_like_scrapys_is_raised_unless_it_has_handlers_of_its_own(root_logger):
    root_logger.handlers[:] = [logging.Handler(logging.WARNING)]
    scrapy_like = logging.getLogger("crawler.test.root.scrapy")
    scrapy_like.setLevel(logging.DEBUG)
    own = logging.getLogger("crawler.test.root.own")
    own.setLevel(logging.DEBUG)
    own.handlers[:] = [logging.Handler(logging.DEBUG)]
    try:
        skip_filtered_records([root_logger, scrapy_like, own])
        assert (root_logger.level, scrapy_like.level, own.level) == (logging.WARNING, logging.WARNING, logging.DEBUG)
        assert _records_made(scrapy_like, lambda l: l.debug("Crawled (200)")) == 0
    finally:
        own.handlers[:] = []
