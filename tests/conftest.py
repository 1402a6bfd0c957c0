"""Shared fixtures: the fixture web behind a local proxy, and a crawl runner.

Crawls run as a real ``scrapy crawl qq`` subprocess from the project root,
pointed at the proxy only through ``http_proxy``/``https_proxy``: the same
way the acceptance replay proxy is used, with no change to the spiders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.qq_site import build_site
from tests.fixtures.server import FixtureProxy

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


def project(**overrides) -> dict:
    """crawler/settings.py with overrides, for Scrapy's get_crawler (which keeps
    the reactor and download handlers that suit the test process)."""
    import crawler.settings as project_settings

    out = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    for name in ("TWISTED_REACTOR", "DOWNLOAD_HANDLERS"):
        out.pop(name)
    out.update(overrides)
    return out


@dataclass
class CrawlResult:
    returncode: int
    log: str
    archive: Path


@pytest.fixture(scope="session", autouse=True)
def temporary_files_of_the_run(tmp_path_factory):
    """Every process the suite starts keeps its temporary files in the run's
    own folder (pytest removes old runs' folders): a crawl a test kills
    leaves its extraction forkserver's socket folder (``pymp-*``) behind, by
    nature, and there it does not pile up in the machine's /tmp."""
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp_path_factory.mktemp("tmp"))
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    yield
    if before is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = before
    tempfile.tempdir = None


@pytest.fixture(scope="session")
def fixture_web():
    proxy = FixtureProxy(build_site()).start()
    yield proxy
    proxy.stop()


def run_scrapy(args: list[str], archive: Path, proxy_url: str | None, settings: dict | None = None,
               timeout: int = 180, env_extra: dict | None = None) -> CrawlResult:
    """A project command (``crawl qq``, ``refresh``...) as a subprocess from
    the project root, pointed at the fixture web only through *_proxy."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    if proxy_url:
        env.update(http_proxy=proxy_url, https_proxy=proxy_url)
    env.update(env_extra or {})
    # -L INFO: the tests read the run's log (the console says warnings and the summary only)
    cmd = [sys.executable, "-m", "scrapy", *args, "-L", "INFO",
           "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0",
           "-s", "DOWNLOAD_TIMEOUT=20"]
    for key, value in (settings or {}).items():
        cmd += ["-s", f"{key}={value}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return CrawlResult(proc.returncode, proc.stdout + proc.stderr, archive)


@contextmanager
def crawled(tmp_path, seed: str, pages: dict, env_extra: dict | None = None):
    """A web of ``pages`` on a fixture proxy, and a first crawl of ``seed``
    into ``tmp_path/archive``: (proxy, archive); the proxy stopped after."""
    proxy = FixtureProxy(pages).start()
    try:
        seeds = tmp_path / "seeds"
        seeds.mkdir()
        (seeds / "note.md").write_text(f"- [article]({seed})\n", encoding="utf-8")
        archive = tmp_path / "archive"
        first = run_crawl(archive, proxy.url, seeds=seeds, env_extra=env_extra)
        assert first.returncode == 0, first.log[-3000:]
        yield proxy, archive
    finally:
        proxy.stop()


def run_crawl(archive: Path, proxy_url: str | None, seeds: Path = SEEDS, settings: dict | None = None,
              timeout: int = 180, env_extra: dict | None = None) -> CrawlResult:
    return run_scrapy(["crawl", "qq", "-a", f"seeds={seeds}"], archive, proxy_url, settings, timeout, env_extra)


@pytest.fixture(scope="session")
def full_crawl(fixture_web, tmp_path_factory):
    """One crawl of all seeds through the fixture web, shared by read-only tests."""
    return run_crawl(tmp_path_factory.mktemp("archive"), fixture_web.url)


@pytest.fixture
def qq_seeds_dir(tmp_path):
    """A seed folder with the three qq seeds only."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name in ("000_916c35625ed2f8d3.txt", "001_7e5bc8a25ec71449.txt", "004_0f7ec6953a63be2f.txt"):
        (folder / name).write_bytes((SEEDS / name).read_bytes())
    return folder
