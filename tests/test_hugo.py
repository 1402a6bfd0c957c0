"""The archive as a Hugo site: real Debian hugo, real archive files, no mocks.

The archive is made the way the crawler makes it: the three qq seeds as
articles with the crawler's own keys after the seed keys, one generic English
article and one article with two older copies in versions/ (both written by
crawler.core.markdown.render). The site is built by the component on its own and
by the ``scrapy hugo`` command; an article page is screenshot with headless
Chromium, served from 127.0.0.1 only.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.core import markdown
from crawler.exports.hugo import SITE_DIR, HugoError, HugoSite, capture_label, replay_link, timestamp14
from crawler.pipelines.markdown import article_path
from tests.conftest import ROOT, SEEDS
from tests.fixtures.screenshot import screenshot
from tests.fixtures.server import free_port

QQ = {  # seed -> article id (its source link)
    "000_916c35625ed2f8d3.txt": "20250213A06E5300",
    "001_7e5bc8a25ec71449.txt": "20250210A05NRE00",
    "004_0f7ec6953a63be2f.txt": "20250213A06RUW00",
}
REPLAY = "http://localhost:8080/archive/{timestamp}/{url}"
HUGO_SETTINGS = {"HUGO_REPLAY_URL": REPLAY, "HUGO_BIN": "hugo", "HUGO_BASE_URL": "/",
                 "HUGO_SOURCE_DIR": "", "HUGO_OUTPUT_DIR": ""}
GENERIC_URL = "https://www.scmp.com/tech/article/3298700/hong-kong-ai-lab"
HISTORY_URL = "https://www.reuters.com/business/acme-results-2025-11-25/"
# the older copies of the history article, named as the markdown pipeline names them
HISTORY_STAMPS = ("20251125T160000123456Z", "20251126T080000654321Z")
HISTORY_DATES = ("2025-11-25T15:59:58Z", "2025-11-26T07:59:59Z", "2025-11-27T09:00:00Z")
HISTORY_PROFITS = ("5 percent", "7 percent", "7 percent")
#: how Hugo shows a date it could not read (Go's zero time)
YEAR_1 = re.compile(r"(?<!\d)0001-01-01|\b1-01-01\b|January 1, 1\b")

def hugo_required():
    assert shutil.which("hugo"), "hugo is not installed (Debian: apt-get install hugo)"


def capture_lines(url: str, warc_date: str, extractor: str) -> str:
    """The crawler's own keys, in its order and quoting (crawler.core.markdown.CAPTURE_KEYS)."""
    return (f'fetched_url: "{url}"\n'
            'warc_file: "crawler-20251125160000000-00000-host.warc.gz"\n'
            'warc_record_id: "<urn:uuid:6f1c2d6e-0d8e-4a51-9d62-2b8f0a3c1e11>"\n'
            f'warc_date: "{warc_date}"\n'
            f'extractor: "{extractor}"\n')


def qq_article(seed: str, article_id: str) -> str:
    """A seed as the crawler stores it: the seed text, capture keys after the seed keys."""
    text = (SEEDS / seed).read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    url = f"https://news.qq.com/rain/a/{article_id}"
    return head + "\n" + capture_lines(url, "2025-11-25T16:00:00Z", "qq") + "---\n" + body


def generic_article(url, title, date, paragraphs, warc_date, site="scmp") -> dict:
    blocks = [{"type": "text", "markdown": p, "text": p} for p in paragraphs]
    return dict(site=site, lang="en", title=title, date=date, thumbnail="", blocks=blocks,
                source_url=url, url=url, extractor="generic",
                capture={"warc_file": "crawler-20251125160000000-00000-host.warc.gz",
                         "record_id": "<urn:uuid:0b0e5a7c-3f59-4c0b-9a43-8a1f2f6f7d21>", "date": warc_date})


def history_copy(n: int) -> str:
    paragraphs = [
        "Acme Corp reported its third-quarter results on Tuesday.",
        f"The company said profit rose {HISTORY_PROFITS[n]} from a year earlier.",
        "Shares were little changed in early trading.",
    ] + (["Analysts had expected a smaller rise."] if n == 2 else [])
    return markdown.render(generic_article(HISTORY_URL, "Acme profit rises", "2025-11-25 10:00:00",
                                           paragraphs, HISTORY_DATES[n], site="reuters"))


def make_archive(root: Path) -> dict:
    """A small archive; returns {name: articles/ path} of its articles."""
    paths = {}
    for seed, article_id in QQ.items():
        rel = f"articles/qq/{article_id}.md"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(qq_article(seed, article_id), encoding="utf-8")
        paths[seed] = rel
    generic = generic_article(GENERIC_URL, "Hong Kong opens an AI lab", "2025-02-12 09:30:00", [
        "Hong Kong will open a public artificial intelligence laboratory next year, officials said.",
        "The lab will offer computing time to universities and start-ups.",
    ], "2025-11-25T16:00:01Z")
    history = generic_article(HISTORY_URL, "", "", [], "", site="reuters")
    for name, rel, text in (("generic", article_path(generic), markdown.render(generic)),
                            ("history", article_path(history), history_copy(2))):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
        paths[name] = rel
    stem = paths["history"][len("articles/"):-len(".md")]
    for n, stamp in enumerate(HISTORY_STAMPS):
        version = root / "versions" / stem / f"{stamp}.md"
        version.parent.mkdir(parents=True, exist_ok=True)
        version.write_text(history_copy(n), encoding="utf-8")
    return paths


def page_url(rel: str) -> str:
    """The site path of an article's page: the id keeps its case (disablePathToLower)."""
    return "/" + rel[len("articles/"):-len(".md")] + "/"


def page_of(public: Path, rel: str) -> Path:
    return public / page_url(rel).strip("/") / "index.html"


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The component on its own: HugoSite from a crawler's settings, generate + build."""
    hugo_required()
    archive = tmp_path_factory.mktemp("hugo-archive")
    paths = make_archive(archive)
    repo_site = snapshot(ROOT / "hugo")
    settings = get_crawler(settings_dict={**HUGO_SETTINGS, "ARCHIVE_DIR": str(archive)}).settings
    result = HugoSite.from_settings(settings).run()
    return archive, paths, result, repo_site


def test_every_article_is_in_the_index_newest_first_with_its_own_page(built):
    archive, paths, result, _ = built
    public = archive / SITE_DIR / "public"
    assert result.public == public
    index = (public / "index.html").read_text(encoding="utf-8")
    positions = []
    for name, rel in paths.items():
        meta = markdown.parse((archive / rel).read_text(encoding="utf-8"))[0]
        page = page_of(public, rel)
        assert page.is_file(), f"no page for {rel}"
        link = f".{page_url(rel)}index.html"  # relative, naming the file: the site opens from disk too
        assert f'href="{link}"' in index, f"{rel} missing from the index"
        assert html.escape(meta["title"], quote=False) in index
        positions.append((meta["date"], index.index(f'href="{link}"')))
    # newest first: index order follows the dates, descending
    assert [p for _, p in sorted(positions, reverse=True)] == sorted(p for _, p in positions)


def test_dates_render_as_front_matter_says_in_beijing_time_never_year_1(built):
    archive, paths, _, _ = built
    public = archive / SITE_DIR / "public"
    sitemap = (public / "sitemap.xml").read_text(encoding="utf-8")
    for seed in QQ:
        meta = markdown.parse((archive / paths[seed]).read_text(encoding="utf-8"))[0]
        page = page_of(public, paths[seed]).read_text(encoding="utf-8")
        day, time = meta["date"].split(" ")
        assert f'<time datetime="{day}T{time}">{meta["date"]}</time>' in page
        # the instant too: Beijing time (timeZone), not UTC
        assert re.search(rf"<loc>{page_url(paths[seed])}</loc>\s*<lastmod>{day}T{time}\+08:00</lastmod>", sitemap)
    assert "2025-02-13 17:15:08" in page_of(public, paths["000_916c35625ed2f8d3.txt"]).read_text(encoding="utf-8")
    for page in public.rglob("*.html"):
        assert not YEAR_1.search(page.read_text(encoding="utf-8")), f"year 1 on {page}"


def test_hugo_reports_nothing_about_the_articles(built):
    _, _, result, _ = built
    assert result.warnings == []
    assert not re.search(r"^\s*(WARN|ERROR)", result.stdout + result.stderr, re.M), result.stderr


def test_article_page_has_thumbnail_body_source_and_replay(built):
    archive, paths, _, _ = built
    page = page_of(archive / SITE_DIR / "public", paths["000_916c35625ed2f8d3.txt"]).read_text(encoding="utf-8")
    # no WARC in this archive: the cover is the publisher's, marked as not archived
    assert '<img class="thumbnail not-archived" src="https://inews.gtimg.com/om_ls/OuHxYgbOh2Qmw0rTgRURagQ7UCpTiXy8nDU0bCQCKBhzQAA_640360/0"' in page
    # bold closing after full-width punctuation, which CommonMark leaves as text
    assert "<strong>财联社2月13日讯（编辑 史正丞）</strong>北京时间" in page
    assert "**" not in page
    assert '<a href="https://new.qq.com/rain/a/20250213A06E5300">qq</a>' in page  # the seed's source link
    assert 'Source: <a href="https://news.qq.com/rain/a/20250213A06E5300">' in page
    replay = "http://localhost:8080/archive/20251125160000/https://news.qq.com/rain/a/20250213A06E5300"
    assert f'Captured 2025-11-25 16:00:00 UTC · <a class="replay" href="{replay}">' in page


def test_versions_listed_with_capture_dates_and_diffs_against_the_next(built):
    archive, paths, _, _ = built
    public = archive / SITE_DIR / "public"
    page = page_of(public, paths["history"]).read_text(encoding="utf-8")
    items = re.findall(r"<li><span class=\"captured\">(.*?)</li>", page, re.S)
    assert len(items) == 2
    assert items[0].startswith("captured 2025-11-25 15:59:58 UTC")
    assert items[1].startswith("captured 2025-11-26 07:59:59 UTC")
    assert "next version" in items[0] and "current version" in items[1]
    assert "http://localhost:8080/archive/20251125155958/" + HISTORY_URL in items[0]
    diffs = [re.search(r'class="diff" href="([^"]+)"', item).group(1) for item in items]
    stem = paths["history"][len("articles/"):-len(".md")]
    assert diffs == [f"../../diffs/{stem}/{stamp}.html" for stamp in HISTORY_STAMPS]  # from reuters/<id>/
    diffs = [f"/diffs/{stem}/{stamp}.html" for stamp in HISTORY_STAMPS]
    first = (public / diffs[0].lstrip("/")).read_text(encoding="utf-8")
    assert "<del>5</del>" in first and "<ins>7</ins>" in first
    assert "captured 2025-11-25 15:59:58 UTC" in first and "captured 2025-11-26 07:59:59 UTC" in first
    second = (public / diffs[1].lstrip("/")).read_text(encoding="utf-8")
    assert "<ins>Analysts had expected a smaller rise.</ins>" in second
    assert "captured 2025-11-27 09:00:00 UTC" in second
    # a timeline: each version with what changed in the next
    assert "1 paragraph changed (&#43;1/-1 characters)" in items[0]
    assert "1 paragraph added (&#43;37/-0 characters)" in items[1]
    # the diff pages: unchanged paragraphs folded, each change an anchor, a way back
    assert "1 unchanged paragraph" in first and 'id="change-1"' in first and 'href="#change-1"' in first
    back = re.search(r'<p class="back"><a href="([^"]+)"', first).group(1)
    folder = (public / diffs[0].lstrip("/")).parent
    assert (folder / back).resolve() == page_of(public, paths["history"]).resolve()
    # articles with no older copy list none
    assert 'class="versions"' not in page_of(public, paths["generic"]).read_text(encoding="utf-8")


def test_content_is_built_in_place_and_nothing_lands_in_the_repo(built):
    archive, paths, _, repo_site = built
    for name, rel in paths.items():  # articles untouched: the qq ones still hold the seed bytes
        if name in QQ:
            assert (archive / rel).read_text(encoding="utf-8") == qq_article(name, QQ[name])
    config = json.loads((archive / SITE_DIR / "config.json").read_text(encoding="utf-8"))
    assert {"source": str(archive / "articles"), "target": "content"} in config["module"]["mounts"]
    assert config["timeZone"] == "Asia/Shanghai"
    assert config["cacheDir"] == str(archive / SITE_DIR / "cache")
    assert not (archive / SITE_DIR / "content").exists()
    assert snapshot(ROOT / "hugo") == repo_site  # no .hugo_build.lock, no resources/


def test_url_key_makes_hugo_refuse_the_whole_site(tmp_path):
    """Why the crawler writes fetched_url: Hugo reserves url, and an absolute one stops the build."""
    hugo_required()
    make_archive(tmp_path)
    rel = tmp_path / "articles/qq/20250213A06E5300.md"
    rel.write_text(rel.read_text(encoding="utf-8").replace(
        'fetched_url: "https://', 'url: "https://', 1), encoding="utf-8")
    with pytest.raises(HugoError) as failure:
        HugoSite(tmp_path).run()
    assert "URLs with protocol (http*) not supported" in str(failure.value)
    assert not (tmp_path / SITE_DIR / "public" / "index.html").exists()


def test_a_date_hugo_cannot_read_is_reported_not_shown_as_year_1(tmp_path):
    hugo_required()
    paths = make_archive(tmp_path)
    rel = tmp_path / paths["001_7e5bc8a25ec71449.txt"]
    rel.write_text(rel.read_text(encoding="utf-8").replace(
        'date: "2025-02-10 16:31:51"', 'date: "10 Feb 2025 4:31pm"', 1), encoding="utf-8")
    result = HugoSite(tmp_path).run()
    assert len(result.warnings) == 1
    assert str(rel) in result.warnings[0] and "10 Feb 2025 4:31pm" in result.warnings[0]
    page = page_of(result.public, paths["001_7e5bc8a25ec71449.txt"]).read_text(encoding="utf-8")
    assert "date unknown" in page and not YEAR_1.search(page)


def test_hugo_warnings_are_collected(tmp_path):
    """A site without a list layout: Hugo warns for the taxonomy pages, and the warning is kept."""
    hugo_required()
    source = tmp_path / "site-source"
    shutil.copytree(ROOT / "hugo", source)
    (source / "layouts/_default/list.html").unlink()
    make_archive(tmp_path / "archive")
    result = HugoSite(tmp_path / "archive", source=source).run()
    assert result.warnings and all(line.lstrip().startswith("WARN") for line in result.warnings)
    assert any('found no layout file for "HTML" for kind "taxonomy"' in line for line in result.warnings)


def run_command(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "scrapy", "hugo", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_command_builds_to_output_with_base_url_and_keeps_hugo_cache_in_the_archive(tmp_path):
    hugo_required()
    archive, output, tmpdir = tmp_path / "archive", tmp_path / "archive" / "www", tmp_path / "tmp"
    tmpdir.mkdir()
    paths = make_archive(archive)
    proc = run_command("--archive", str(archive), "--output", str(output),
                       "--base-url", "https://archive.example.org/news/", env_extra={"TMPDIR": str(tmpdir)})
    assert proc.returncode == 0, proc.stderr
    assert f"site built in {output}" in proc.stdout
    # Hugo's own report is kept for -v (issue 25: quiet output); a site served at a base URL says so
    assert "Pages" not in proc.stdout and "serve that folder at https://archive.example.org/news/" in proc.stdout
    page = page_of(output, paths["history"]).read_text(encoding="utf-8")
    assert 'href="/news/diffs/reuters/' in page
    assert 'href="http://localhost:8080/archive/20251127090000/' + HISTORY_URL in page  # HUGO_REPLAY_URL
    assert not (tmpdir / "hugo_cache").exists()  # Hugo's default cache ($TMPDIR/hugo_cache) unused


def test_command_exits_1_when_hugo_is_missing_or_fails(tmp_path):
    make_archive(tmp_path)
    proc = run_command("--archive", str(tmp_path), "-s", "HUGO_BIN=/nonexistent/hugo")
    assert proc.returncode == 1
    assert "hugo not found" in proc.stderr and "apt-get install hugo" in proc.stderr
    hugo_required()
    rel = tmp_path / "articles/qq/20250210A05NRE00.md"
    rel.write_text(rel.read_text(encoding="utf-8").replace('fetched_url: "', 'url: "', 1), encoding="utf-8")
    proc = run_command("--archive", str(tmp_path))
    assert proc.returncode == 1
    assert "hugo failed" in proc.stderr and "URLs with protocol (http*) not supported" in proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_command("--archive", str(empty))
    assert proc.returncode == 1 and "no articles in" in proc.stderr


def test_replay_links_and_capture_labels():
    assert timestamp14("2025-11-25T16:00:00Z") == "20251125160000"
    assert timestamp14("2025-11-26T00:30:00.5+08:00") == "20251125163000"
    meta = {"fetched_url": "https://a.example/x?id=1", "warc_date": "2025-11-25T16:00:00Z"}
    assert replay_link(REPLAY, meta) == "http://localhost:8080/archive/20251125160000/https://a.example/x?id=1"
    assert replay_link("", meta) is None
    assert replay_link(REPLAY, {"fetched_url": "https://a.example/"}) is None
    assert replay_link(REPLAY, {**meta, "warc_date": "yesterday"}) is None
    assert capture_label(meta) == "2025-11-25 16:00:00 UTC"
    assert capture_label({}, "20251125T160000123456Z") == "before 2025-11-25 16:00:00 UTC"
    assert capture_label({}, "odd-name") == "before odd-name"


@pytest.fixture
def served(built):
    """The built site over HTTP on 127.0.0.1 (a stdlib server thread)."""
    public = built[0] / SITE_DIR / "public"
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(public))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name,shot", [("history", "hugo-article.png"),
                                       ("000_916c35625ed2f8d3.txt", "hugo-article-qq.png"),
                                       ("diff", "hugo-diff.png")])
def test_screenshot_of_an_article_page(built, served, tmp_path, name, shot):
    """Headless Chromium renders the page; every non-loopback request is refused
    (a dead proxy and no name resolution), so the remote images stay unloaded."""
    archive, paths, _, _ = built
    if name == "diff":  # the first older version of the history article against the next
        url = f"{served}/diffs/{paths['history'][len('articles/'):-len('.md')]}/{HISTORY_STAMPS[0]}.html"
    else:
        url = served + page_url(paths[name])
    target, stderr = screenshot(url, shot, tmp_path, size=(1200, 1600), extra=(
        "--disable-quic", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"))
    assert target.is_file(), stderr
    data = target.read_bytes()
    assert png_size(data) == (1200, 1600)
    assert len(data) > 20_000  # a blank page compresses to a few kB


def test_a_real_crawl_builds_as_it_is(full_crawl, tmp_path):
    """The archive a crawl of the shipped seeds made (qq articles, news pages,
    the x.com post with its emoji) builds in Hugo unchanged, every article with
    its own page and its date."""
    hugo_required()
    archive = tmp_path / "archive"
    shutil.copytree(full_crawl.archive, archive)
    before = snapshot(archive / "articles")
    settings = get_crawler(settings_dict={**HUGO_SETTINGS, "ARCHIVE_DIR": str(archive)}).settings
    result = HugoSite.from_settings(settings).run()
    assert result.warnings == [], result.warnings
    assert snapshot(archive / "articles") == before
    files = sorted((archive / "articles").rglob("*.md"))
    assert len(files) == 9
    for path in files:
        rel = path.relative_to(archive).as_posix()
        meta = markdown.parse(path.read_text(encoding="utf-8"))[0]
        page = page_of(result.public, rel).read_text(encoding="utf-8")
        assert html.escape(meta["title"], quote=False) in page, rel
        if meta["date"]:
            assert str(meta["date"]) in page, rel
        assert not YEAR_1.search(page), rel


def test_an_article_quoting_hugo_shortcodes_does_not_break_the_site(tmp_path):
    """An article about Hugo quotes ``{{% notice %}}`` and ``{{< x >}}``: Hugo
    would take them for shortcodes and refuse the whole site."""
    hugo_required()
    archive = tmp_path / "archive"
    text = "Write {{% notice %}} or {{< nonexistent >}} in your page to call a shortcode, the docs say."
    fields = dict(site="docs", article_id=None, title="Shortcodes", date="2025-03-01 10:00:00", thumbnail="",
                  lang="en", source_url="https://docs.example/shortcodes", url="https://docs.example/shortcodes",
                  blocks=[{"type": "text", "markdown": text, "text": text}])
    (archive / "articles" / "docs").mkdir(parents=True)
    (archive / "articles" / "docs" / "shortcodes.md").write_text(markdown.render(fields), encoding="utf-8")
    settings = get_crawler(settings_dict={**HUGO_SETTINGS, "ARCHIVE_DIR": str(archive)}).settings
    result = HugoSite.from_settings(settings).run()
    page = page_of(result.public, "articles/docs/shortcodes.md").read_text(encoding="utf-8")
    assert "Write {{% notice %}} or {{< nonexistent >}} in your page" in html.unescape(page)


def test_images_are_shown_from_the_archive_and_marked_when_never_captured(full_crawl, built, tmp_path):
    """A crawl's images come from its WARCs into the site (once per payload);
    the built site shows them from there. An archive whose images were never
    captured (the ``built`` one: no WARC) keeps their URLs, marked."""
    from lxml import html as lxml_html

    hugo_required()
    archive = tmp_path / "archive"
    shutil.copytree(full_crawl.archive, archive)
    settings = get_crawler(settings_dict={**HUGO_SETTINGS, "ARCHIVE_DIR": str(archive)}).settings
    public = HugoSite.from_settings(settings).run().public
    rel = "articles/qq/20250213A06E5300.md"
    meta, paragraphs = markdown.parse((archive / rel).read_text(encoding="utf-8"))
    originals = [p[p.index("](") + 2:-1] for p in paragraphs if p.startswith("![")]
    assert originals
    tree = lxml_html.fromstring(page_of(public, rel).read_bytes())
    images = tree.xpath("//article//img")
    assert [i.get("data-original") for i in images] == [meta["thumbnail"], *originals]
    folder = page_of(public, rel).parent
    for image in images:
        src = image.get("src")
        assert src.startswith("../../archived/") and "not-archived" not in (image.get("class") or ""), src
        assert png_size((folder / src).read_bytes())  # the captured payload itself
    assert len({i.get("src") for i in images}) == len({(folder / i.get("src")).read_bytes()
                                                       for i in images})  # one copy per payload
    # never captured: the publisher's URL, marked
    _, paths, _, _ = built
    bare = lxml_html.fromstring(page_of(built[0] / SITE_DIR / "public", paths["000_916c35625ed2f8d3.txt"]).read_bytes())
    marked = bare.xpath("//article//img")
    assert marked and all("not-archived" in i.get("class") and i.get("src").startswith("https://") for i in marked)


def test_the_command_says_how_to_view_the_site_and_serves_it_with_the_ids_case(tmp_path):
    """`scrapy hugo --serve` builds, then serves the site on 127.0.0.1; the page
    of an article is at the id the commands print (its case kept)."""
    import urllib.request

    hugo_required()
    archive = tmp_path / "archive"
    paths = make_archive(archive)
    built = run_command("--archive", str(archive))
    assert built.returncode == 0 and "to view it: open " in built.stdout and "scrapy hugo --serve" in built.stdout, built.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "scrapy", "hugo", "--archive", str(archive), "--serve", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        rel = paths["000_916c35625ed2f8d3.txt"]  # articles/qq/20250213A06E5300.md
        assert any(c.isupper() for c in rel)
        url = f"http://127.0.0.1:{port}{page_url(rel)}"
        for _ in range(600):
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as answer:
                    page = answer.read().decode("utf-8")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.1)
        assert "马斯克" in page
    finally:
        proc.terminate()
        proc.wait(30)
