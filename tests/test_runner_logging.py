"""The runner stops the crawl building log records that every handler drops."""

from __future__ import annotations

import logging

import pytest

from crawler.commands.runner import skip_filtered_records

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
    skip_filtered_records(root_logger)
    assert root_logger.level == logging.INFO
    assert _records_made(log, lambda l: l.debug("crawled %s", "x")) == 0
    assert _records_made(log, lambda l: l.info("progress")) == 1  # the INFO handler still gets it
    log.warning("shown")
    assert [r.getMessage() for r in shown] == ["shown"]


def test_a_handler_that_takes_everything_or_a_higher_root_level_is_left_alone(root_logger):
    root_logger.handlers[:] = [logging.Handler(logging.NOTSET), logging.Handler(logging.WARNING)]
    skip_filtered_records(root_logger)
    assert root_logger.level == EVERYTHING
    root_logger.handlers[:] = [logging.Handler(logging.INFO)]
    root_logger.setLevel(logging.ERROR)
    skip_filtered_records(root_logger)
    assert root_logger.level == logging.ERROR
