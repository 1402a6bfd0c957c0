"""The Hugo site offline: its search (Pagefind's index of the articles and their versions) and its images.

A real crawl's archive (Chinese qq articles) with one article corrected,
built with Debian's Hugo and indexed by Pagefind (the PyPI package's
binary); then Debian's headless Chromium (puppeteer-core, as the WACZ
test drives it), with every request but 127.0.0.1's refused, opens the
built site: a Chinese phrase of the current text typed into the search box
finds the article's page, one only the older version had finds its diff
page, and every image of an article loads from the site.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from scrapy.utils.test import get_crawler

from crawler.exports.hugo import HugoSite
from tests.test_hugo import HUGO_SETTINGS, hugo_required, page_url

REL = "articles/qq/20250210A05NRE00.md"
OLD, NEW = "仅用两个月", "仅用三个月"


def in_a_browser(public, views: list[dict], tmp_path) -> dict:
    """What tests/browser/site.mjs (puppeteer-core, Debian's Chromium) reports
    of ``views`` (``url`` a path on the built site, served from 127.0.0.1)."""
    from tests.test_wacz import BROWSER_DIR, ensure_harness

    ensure_harness()  # puppeteer-core under build/browser
    shutil.copyfile(Path(__file__).parent / "browser" / "site.mjs", BROWSER_DIR / "site.mjs")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(public))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    job = tmp_path / "site-job.json"
    job.write_text(json.dumps({"chromium": shutil.which("chromium") or "/usr/bin/chromium",
                               "userDataDir": str(tmp_path / "profile"), "timeoutMs": 60000,
                               "views": [{**view, "url": base + view["url"]} for view in views]}),
                   encoding="utf-8")
    try:
        proc = subprocess.run([shutil.which("node") or "node", str(BROWSER_DIR / "site.mjs"), str(job)],
                              capture_output=True, text=True, timeout=240)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_the_site_search_finds_chinese_text_of_articles_and_of_their_versions(full_crawl, tmp_path):
    hugo_required()
    archive = tmp_path / "archive"
    shutil.copytree(full_crawl.archive, archive)
    current = (archive / REL).read_text(encoding="utf-8")
    assert OLD in current
    # the article was corrected: its older copy had another phrase
    (archive / "versions/qq/20250210A05NRE00").mkdir(parents=True)
    (archive / "versions/qq/20250210A05NRE00/20250101T000000Z.md").write_text(
        current.replace(OLD, "只用了六十天"), encoding="utf-8")
    settings = get_crawler(settings_dict={**HUGO_SETTINGS, "ARCHIVE_DIR": str(archive)}).settings
    public = HugoSite.from_settings(settings).run().public
    assert (public / "pagefind" / "pagefind.js").is_file() and (public / "pagefind" / "pagefind-ui.js").is_file()
    page = (public / page_url(REL).strip("/") / "index.html").read_text(encoding="utf-8")
    assert 'id="search"' in page and "pagefind-ui.js" in page  # a search box on every page
    # as a reader does it: typed into the search box of a page of the site
    found = in_a_browser(public, [{"name": "current", "url": page_url(REL), "query": OLD},
                                  {"name": "older", "url": "/", "query": "只用了六十天"}], tmp_path)
    assert page_url(REL) in found["current"], found
    assert any(url.startswith("/diffs/qq/20250210A05NRE00/") for url in found["older"]), found


def site_without_search(full_crawl, tmp_path):
    """The site of a copy of the full crawl's archive, built with HUGO_SEARCH off; its public folder."""
    hugo_required()
    archive = tmp_path / "archive"
    shutil.copytree(full_crawl.archive, archive)
    settings = get_crawler(settings_dict={**HUGO_SETTINGS, "ARCHIVE_DIR": str(archive), "HUGO_SEARCH": False}).settings
    return HugoSite.from_settings(settings).run().public


def test_a_site_without_search_is_built_when_asked(full_crawl, tmp_path):
    public = site_without_search(full_crawl, tmp_path)
    assert not (public / "pagefind").exists()


def test_every_image_of_an_article_loads_from_the_site_offline(full_crawl, tmp_path):
    public = site_without_search(full_crawl, tmp_path)
    rel = "articles/qq/20250213A06E5300.md"
    seen = in_a_browser(public, [{"name": "article", "url": page_url(rel)}], tmp_path)["article"]
    assert len(seen) >= 2, seen  # the cover and the body's images
    assert all(image["loaded"] and image["src"].startswith("../../archived/") for image in seen), seen
