"""What a run prints (issue 25, "Output"): the summary last and little else by default, the detail
with ``-v``/``-L INFO`` and in a log file, features that are off silent above INFO, and a run
stopped by Ctrl-C or SIGTERM said to be interrupted (not failed), with 128 + the signal's number.

Every test runs the real ``scrapy`` command as a subprocess, its stdout and stderr in one pipe (the
order a terminal shows). Requests go to the fixture web or to 127.0.0.1 proxies only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


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


def test_features_that_are_off_say_nothing_above_info(fixture_web, qq_seeds_dir, tmp_path):
    proc = run(["crawl", "qq", "-L", "INFO", "-a", f"seeds={qq_seeds_dir}"], tmp_path / "archive", fixture_web.url)
    assert proc.returncode == 0, proc.stdout[-3000:]
    warnings = [line for line in proc.stdout.splitlines() if " WARNING: " in line]
    assert not [w for w in warnings if "Disabled" in w or " is off" in w or " is empty" in w], warnings
    for off in ("WACZ_ON_CLOSE is off", "HOST_PROXY_MAP is empty", "NOTIFY_URLS is empty"):
        assert re.search(rf"\] INFO: off: {off}$", proc.stdout, re.M), off
