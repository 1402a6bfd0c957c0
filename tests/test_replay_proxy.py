"""The crawler, unchanged, through a replay proxy: what acceptance does.

pywb in proxy mode serves the first crawl's WARCs (HTTPS by CONNECT with its
own certificate authority, the 301 between qq hosts included). A second
crawl pointed at it with nothing but ``http_proxy``/``https_proxy`` must
archive the very same articles, and write WARCs that verify.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from crawler.core import markdown
from tests.conftest import run_crawl
from tests.fixtures import pywb
from tests.test_warc import WARCIO

PROXY_CONFIG = """proxy:
  coll: {coll}
  recording: false
  enable_banner: false
  enable_wombat: false
  enable_content_rewrite: false
"""


@pytest.fixture(scope="module")
def replayed_crawl(full_crawl, tmp_path_factory):
    venv = pywb.ensure_pywb()
    root = pywb.build_collection(venv, Path(full_crawl.archive) / "warc", tmp_path_factory.mktemp("pywb-proxy"), "crawl")
    with open(root / "config.yaml", "a") as config:
        config.write(PROXY_CONFIG.format(coll="crawl"))
    server = pywb.start_wayback(venv, root, extra_args=["--proxy", "crawl"])
    try:
        result = run_crawl(tmp_path_factory.mktemp("replayed"), server.base)
    finally:
        server.stop()
    return result


def _articles(archive: Path) -> dict[str, tuple]:
    return {p.relative_to(archive).as_posix():
            markdown.without_capture_keys(*markdown.parse(p.read_text(encoding="utf-8")))
            for p in sorted((archive / "articles").rglob("*.md"))}


def test_crawl_through_a_replay_proxy_archives_the_same_articles(full_crawl, replayed_crawl):
    first, second = _articles(Path(full_crawl.archive)), _articles(Path(replayed_crawl.archive))
    assert len(first) == 9  # the x.com post rendered by the browser, through the replay proxy too
    assert second == first
    assert replayed_crawl.returncode == 0, replayed_crawl.log[-3000:]
    assert re.search(r"archived:\s+9 new", replayed_crawl.log)
    assert re.search(r"failed:\s+0\b", replayed_crawl.log)


def test_warcs_of_the_replayed_crawl_verify(replayed_crawl):
    warcs = sorted((Path(replayed_crawl.archive) / "warc").glob("*.warc.gz"))
    assert warcs
    for path in warcs:
        check = subprocess.run([WARCIO, "check", str(path)], capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
