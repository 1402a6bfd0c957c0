"""What a run prints (issue 25, "Output"): the summary last and little else by default, the detail
with ``-v``/``-L INFO`` and in a log file, features that are off silent above INFO, and a run
stopped by Ctrl-C or SIGTERM said to be interrupted (not failed), with 128 + the signal's number.

Every test runs the real ``scrapy`` command as a subprocess, its stdout and stderr in one pipe (the
order a terminal shows). Requests go to the fixture web or to 127.0.0.1 proxies only.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[[^\]]+\] (DEBUG|INFO|WARNING|ERROR|CRITICAL): ")
INTERRUPTED = re.compile(r"^interrupted: (\d+) not done, run again to finish$")


def command(args: list[str], archive: Path) -> list[str]:
    """``scrapy ARGS`` as a person types it: no -L, so the default console level applies."""
    return [sys.executable, "-m", "scrapy", *args, "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0",
            "-s", "RETRY_TIMES=0"]


def environment(proxy_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=proxy_url, https_proxy=proxy_url)
    return env


def run(args: list[str], archive: Path, proxy_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(args, archive), cwd=ROOT, env=environment(proxy_url),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)


def levels(output: str) -> set[str]:
    return {m[1] for m in map(LOG_LINE.match, output.splitlines()) if m}


def summary_block(output: str, title: str) -> list[str]:
    lines = output.rstrip("\n").splitlines()
    assert title in lines, output[-3000:]
    return lines[len(lines) - 1 - lines[::-1].index(title):]


def test_a_crawl_prints_its_summary_last_and_nothing_else_when_all_goes_well(fixture_web, qq_seeds_dir, tmp_path):
    proc = run(["crawl", "qq", "-a", f"seeds={qq_seeds_dir}"], tmp_path / "archive", fixture_web.url)
    assert proc.returncode == 0, proc.stdout[-3000:]
    block = summary_block(proc.stdout, "crawl summary")
    # the whole output is the summary: no settings or stats dump, no "Disabled …" warnings
    assert proc.stdout.strip().splitlines() == block, proc.stdout[-3000:]
    assert "  archived:   3 new, 0 changed" in block and block[-1] == "  failed:     0"
    assert "Dumping Scrapy stats" not in proc.stdout and "Disabled" not in proc.stdout



def test_hugo_says_where_the_site_is_and_how_to_open_it_and_keeps_hugos_table_for_v(fixture_web, qq_seeds_dir,
                                                                                    tmp_path):
    archive = tmp_path / "archive"
    assert run(["crawl", "qq", "-a", f"seeds={qq_seeds_dir}"], archive, fixture_web.url).returncode == 0
    proc = run(["hugo"], archive, fixture_web.url)
    assert proc.returncode == 0, proc.stdout[-3000:]
    public = archive / "site" / "public"
    # two lines: where it is, and how to open it (from disk: the links are relative)
    assert proc.stdout.strip().splitlines() == [
        f"site built in {public}",
        f"to view it: open {public / 'index.html'} in a browser (search needs `scrapy hugo --serve`, "
        "http://127.0.0.1:1313/)"], proc.stdout[-3000:]
    assert not levels(proc.stdout)
    detail = run(["hugo", "-v"], archive, fixture_web.url)
    assert detail.returncode == 0 and "Total in" in detail.stdout and "INFO" in levels(detail.stdout), \
        detail.stdout[-3000:]

def test_a_long_quiet_crawl_still_says_how_far_it_is(fixture_web, qq_seeds_dir, tmp_path):
    proc = run(["crawl", "qq", "-a", f"seeds={qq_seeds_dir}", "-s", "PROGRESS_INTERVAL=0.2", "-s", "DOWNLOAD_DELAY=0.5",
                "-s", "CONCURRENT_REQUESTS=1"], tmp_path / "archive", fixture_web.url)
    assert proc.returncode == 0, proc.stdout[-3000:]
    block = summary_block(proc.stdout, "crawl summary")
    before = proc.stdout.strip().splitlines()[:-len(block)]
    assert len(before) >= 3 and all(line.startswith("progress: ") for line in before), before


def test_a_failing_crawl_says_its_errors_then_the_summary_last(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS / "000_916c35625ed2f8d3.txt", seeds)
    with socket.socket() as closed:  # a proxy port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    proc = run(["crawl", "qq", "-a", f"seeds={seeds}"], tmp_path / "archive", dead)
    assert proc.returncode == 1, proc.stdout[-3000:]
    block = summary_block(proc.stdout, "crawl summary")
    assert "  failed:     1" in block and block[-1].startswith("    - https://new.qq.com/rain/a/")
    assert levels(proc.stdout) <= {"WARNING", "ERROR"}, proc.stdout[-3000:]
    assert "not archived: https://new.qq.com/rain/a/" in proc.stdout
    assert len(proc.stdout.splitlines()) < 20, proc.stdout


@pytest.mark.parametrize("detail", [["-v"], ["-L", "INFO"], ["-s", "LOG_LEVEL=INFO"]])
def test_v_or_an_info_log_level_brings_the_detail_back(detail, fixture_web, qq_seeds_dir, tmp_path):
    proc = run(["crawl", "qq", *detail, "-a", f"seeds={qq_seeds_dir}"], tmp_path / "archive", fixture_web.url)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "INFO" in levels(proc.stdout) and "Dumping Scrapy stats" in proc.stdout
    assert summary_block(proc.stdout, "crawl summary")[-1] == "  failed:     0"


def test_a_log_file_keeps_the_detail_and_the_console_the_summary(fixture_web, qq_seeds_dir, tmp_path):
    log = tmp_path / "crawl.log"
    proc = run(["crawl", "qq", "-a", f"seeds={qq_seeds_dir}", "-s", f"LOG_FILE={log}"], tmp_path / "archive",
               fixture_web.url)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stdout.strip().splitlines() == summary_block(proc.stdout, "crawl summary")
    kept = log.read_text(encoding="utf-8")
    assert "Dumping Scrapy stats" in kept and "crawl summary" in kept and "archived: " in kept


def test_features_that_are_off_say_nothing_above_info(fixture_web, qq_seeds_dir, tmp_path):
    proc = run(["crawl", "qq", "-L", "INFO", "-a", f"seeds={qq_seeds_dir}"], tmp_path / "archive", fixture_web.url)
    assert proc.returncode == 0, proc.stdout[-3000:]
    warnings = [line for line in proc.stdout.splitlines() if " WARNING: " in line]
    assert not [w for w in warnings if "Disabled" in w or " is off" in w or " is empty" in w], warnings
    for off in ("WACZ_ON_CLOSE is off", "HOST_PROXY_MAP is empty", "NOTIFY_URLS is empty"):
        assert re.search(rf"\] INFO: off: {off}$", proc.stdout, re.M), off


def test_diff_live_prints_no_scrapy_banner(tmp_path):
    archive = tmp_path / "archive"
    (archive / "articles/qq").mkdir(parents=True)
    shutil.copy(SEEDS / "000_916c35625ed2f8d3.txt", archive / "articles/qq/20250213A06E5300.md")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    proc = run(["diff", "20250213A06E5300", "--live"], archive, dead)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "Versions:" not in proc.stdout and "Overridden settings" not in proc.stdout, proc.stdout[-3000:]
    assert proc.stdout.rstrip().splitlines()[-1].startswith("scrapy diff: live page ")


class HangingProxy:
    """A proxy on 127.0.0.1 that takes connections and never answers: the run waits on it."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(50)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self):
        self.server.close()
        for conn in self.connections:
            conn.close()


def interrupted_run(args: list[str], archive: Path, signum: int, twice: bool = False) -> subprocess.CompletedProcess:
    proxy = HangingProxy()
    try:
        proc = subprocess.Popen(command([*args, "-s", "DOWNLOAD_TIMEOUT=3"], archive), cwd=ROOT,
                                env=environment(proxy.url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        deadline = time.monotonic() + 60
        while not proxy.connections and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proxy.connections, "the run never asked the proxy"
        proc.send_signal(signum)
        if twice:  # the second one stops the run at once
            time.sleep(0.5)
            proc.send_signal(signum)
        out, _ = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out)
    finally:
        proxy.close()


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_crawl_says_what_was_not_done_with_128_plus_the_signal(signum, status, tmp_path):
    proc = interrupted_run(["crawl", "qq", "-a", f"seeds={SEEDS}"], tmp_path / "archive", signum)
    assert proc.returncode == status, proc.stdout[-3000:]
    block = summary_block(proc.stdout, "crawl summary")
    done = INTERRUPTED.match(block[-1])
    assert done and int(done[1]) >= 1, block
    # what was never reached is not a failure
    assert "no result" not in proc.stdout, proc.stdout[-3000:]
    assert f"{signal.Signals(signum).name}: finishing the requests under way" in proc.stdout


def test_a_second_ctrl_c_stops_at_once_with_the_same_status(tmp_path):
    proc = interrupted_run(["crawl", "qq", "-a", f"seeds={SEEDS}"], tmp_path / "archive",
                           signal.SIGINT, twice=True)
    assert proc.returncode == 130, proc.stdout[-3000:]
    assert "crawl summary" not in proc.stdout, proc.stdout[-3000:]


def test_an_interrupted_refresh_says_what_was_not_checked(tmp_path):
    archive = tmp_path / "archive"
    (archive / "articles/qq").mkdir(parents=True)
    text = (SEEDS / "000_916c35625ed2f8d3.txt").read_text(encoding="utf-8")
    head, body = text.split("\n---\n", 1)
    (archive / "articles/qq/20250213A06E5300.md").write_text(
        f'{head}\nfetched_url: "https://new.qq.com/rain/a/20250213A06E5300"\nwarc_date: "2026-11-20T10:00:00Z"'
        f"\n---\n{body}", encoding="utf-8")
    proc = interrupted_run(["refresh"], archive, signal.SIGINT)
    assert proc.returncode == 130, proc.stdout[-3000:]
    block = summary_block(proc.stdout, "refresh summary")
    assert "  checked:    0 of 1 due" in block and "  failed:     0" in block, block
    assert block[-1] == "interrupted: 1 not done, run again to finish", block


def test_a_refused_article_is_one_log_line_not_its_whole_item():
    from scrapy.exceptions import DropItem
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from crawler.items import Article
    from crawler.logformatter import ArticleLogFormatter

    crawler = get_crawler(settings_dict={"DEFAULT_DROPITEM_LOG_LEVEL": "WARNING"})
    formatter = ArticleLogFormatter.from_crawler(crawler)
    item = Article(source_url="https://news.example.com/a", url="https://news.example.com/a",
                   blocks=[{"type": "text", "text": f"paragraph {i}", "markdown": f"paragraph {i}"} for i in range(60)])
    spider = type("Spider", (), {"crawler": crawler})()
    entry = formatter.dropped(item, DropItem("empty extraction (3 characters)"),
                              HtmlResponse("https://news.example.com/a"), spider)
    line = entry["msg"] % entry["args"]
    assert line == "Dropped https://news.example.com/a: empty extraction (3 characters)"
    assert entry["level"] == logging.WARNING
