"""The Hugo site offline: its search (Pagefind's index of the articles and their versions) and its images.

A real crawl's archive (Chinese qq articles) with one article corrected,
built with Debian's Hugo and indexed by Pagefind (the PyPI package's
binary); then Debian's headless Chromium, with every request but
127.0.0.1's refused, loads Pagefind from the built site and searches: a
Chinese phrase of the current text finds the article's page, one only
the older version had finds its diff page.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scrapy.utils.test import get_crawler

from crawler.exports.hugo import HugoSite
from tests.fixtures.server import free_port
from tests.test_hugo import HUGO_SETTINGS, hugo_required, page_url

REL = "articles/qq/20250210A05NRE00.md"
OLD, NEW = "仅用两个月", "仅用三个月"
SEARCH_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>search</title></head><body>
<script type="module">
const pagefind = await import("./pagefind/pagefind.js");
const found = {};
for (const query of %s) {
  const search = await pagefind.search(query);
  found[query] = (await Promise.all(search.results.map(r => r.data()))).map(d => d.url);
}
document.body.setAttribute("data-found", JSON.stringify(found));
</script></body></html>"""


IMAGES_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>images</title></head><body>
<iframe id="page" src="%s" width="1000" height="3000"></iframe>
<script>
document.getElementById("page").addEventListener("load", () => {
  const images = [...document.getElementById("page").contentDocument.querySelectorAll("article img")];
  const seen = images.map(i => ({src: i.getAttribute("src"), loaded: i.complete && i.naturalWidth > 0}));
  document.body.setAttribute("data-found", JSON.stringify(seen));
});
</script></body></html>"""


def run_in_chromium(public, name: str, page: str, tmp_path):
    """``page`` served from the built site as ``name`` and loaded in headless
    Chromium, every request but 127.0.0.1's refused; what its script put in
    ``data-found``."""
    (public / name).write_text(page, encoding="utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(public))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
           "XDG_CONFIG_HOME": str(home / "config")}
    try:
        proc = subprocess.run([
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", f"--proxy-server=http://127.0.0.1:{free_port()}",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000", "--dump-dom",
            f"http://127.0.0.1:{server.server_address[1]}/{name}",
        ], env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    start = proc.stdout.find('data-found="')
    assert start >= 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    import html

    value = proc.stdout[start + len('data-found="'):]
    return json.loads(html.unescape(value[:value.index('"')]))


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
    found = run_in_chromium(public, "search-test.html",
                            SEARCH_PAGE % json.dumps([OLD, "只用了六十天"], ensure_ascii=False), tmp_path)
    assert page_url(REL) in found[OLD], found
    assert any(url.startswith("/diffs/qq/20250210A05NRE00/") for url in found["只用了六十天"]), found


def test_a_site_without_search_is_built_when_asked(full_crawl, tmp_path):
    hugo_required()
    archive = tmp_path / "archive"
    shutil.copytree(full_crawl.archive, archive)
    settings = get_crawler(settings_dict={**HUGO_SETTINGS, "ARCHIVE_DIR": str(archive), "HUGO_SEARCH": False}).settings
    public = HugoSite.from_settings(settings).run().public
    assert not (public / "pagefind").exists()


def test_every_image_of_an_article_loads_from_the_site_offline(full_crawl, tmp_path):
    hugo_required()
    archive = tmp_path / "archive"
    shutil.copytree(full_crawl.archive, archive)
    settings = get_crawler(settings_dict={**HUGO_SETTINGS, "ARCHIVE_DIR": str(archive), "HUGO_SEARCH": False}).settings
    public = HugoSite.from_settings(settings).run().public
    rel = "articles/qq/20250213A06E5300.md"
    seen = run_in_chromium(public, "images-test.html", IMAGES_PAGE % page_url(rel), tmp_path)
    assert len(seen) >= 2, seen  # the cover and the body's images
    assert all(image["loaded"] and image["src"].startswith("/archived/") for image in seen), seen
