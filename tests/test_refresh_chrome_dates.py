"""An article that gives itself no date keeps no date from the chrome around it.

Pages with no date in a meta tag or a byline, English and Chinese, whose chrome
carries dates that move: today's date in the masthead, the latest stories'
dates in a side list, the year of the copyright line. A first crawl archives
them; the chrome then moves (a new day, new stories, a new year) and a real
``scrapy refresh`` must find every article unchanged: no version, no change
event. Dated from the chrome, each would have been recorded as an edit.
"""

from __future__ import annotations

import json

import frontmatter
import pytest

from tests.conftest import run_crawl, run_scrapy
from tests.fixtures.qq_site import Page
from tests.fixtures.server import FixtureProxy

HOST = "https://undated.example"
EN = ["The harbour authority approved the new container terminal after two years of talks with the unions.",
      "Shipping lines welcomed the decision, which adds capacity for two million containers a year.",
      "Residents near the site asked for limits on night work and lorry traffic through the old town.",
      "Construction is due to start in the spring and the first berth should open within three years."]
ZH = ["港务局在与工会进行了两年的谈判之后，正式批准了新的集装箱码头建设计划，预计将大幅提升港口的吞吐能力。",
      "多家航运公司对这一决定表示欢迎，认为新码头每年可以增加两百万个标准集装箱的处理能力，缓解目前的拥堵。",
      "码头附近的居民则要求限制夜间施工，并减少货车穿过老城区的次数，以免影响日常生活和古建筑的保护。",
      "工程预计将在明年春天动工，第一个泊位有望在三年之内投入使用，港务局表示将定期公布施工的进展情况。"]
#: (today, the latest stories' days, the copyright year): the chrome as first crawled, then moved on
FIRST = ("Sunday, March 2, 2025", "2025年3月2日 星期日", ("2025-03-01", "2025-03-02", "2025-03-02"), 2025)
LATER = ("Thursday, January 1, 2026", "2026年1月1日 星期四", ("2025-12-30", "2025-12-31", "2026-01-01"), 2026)


def html5_page(title: str, paragraphs: list[str], chrome) -> str:
    """Header, navigation, a side column and a footer as HTML5 elements."""
    today, _, days, year = chrome
    latest = "".join(f'<li><a href="/story/{n}">Council debates the transport plan for the city, part {n}</a> '
                     f"<span>{day}</span></li>" for n, day in enumerate(days))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Port News</title></head>'
            f'<body><header><span class="today">{today}</span><nav><a href="/">Home</a> <a href="/port">Port</a>'
            f"</nav></header><main><article><h1>{title}</h1><p class=\"byline\">By Staff Reporter</p>{body}</article>"
            f"<aside><h2>Latest</h2><ul>{latest}</ul></aside></main>"
            f"<footer><p>© {year} Port News. All rights reserved.</p></footer></body></html>")


def div_page(title: str, paragraphs: list[str], chrome) -> str:
    """An older portal's layout in divs: chrome known only by its class and id
    names, or by being a list of links."""
    _, today, days, year = chrome
    latest = "".join(f'<li><a href="/news/{n}.html">市政府召开会议讨论城市交通规划第{n}部分</a> {day}</li>'
                     for n, day in enumerate(days))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>{title}_港口新闻网'
            f'</title></head><body><div id="header"><span>{today}</span></div><div class="wrap">'
            f'<div class="left"><h1>{title}</h1><div class="info">来源：港口新闻网</div>{body}</div>'
            f'<div class="right"><div class="box"><h3>最新新闻</h3><ul>{latest}</ul></div></div></div>'
            f'<div class="footer">Copyright © 2005-{year} 港口新闻网 版权所有</div></body></html>')


ARTICLES = {
    "en-html5": lambda chrome: html5_page("Terminal approved", EN, chrome),
    "en-divs": lambda chrome: div_page("Terminal approved after two years of talks", EN, chrome),
    "zh-html5": lambda chrome: html5_page("港务局批准新集装箱码头", ZH, chrome),
    "zh-divs": lambda chrome: div_page("港务局批准新集装箱码头", ZH, chrome),
}


def url(name: str) -> str:
    return f"{HOST}/news/{name}.html"


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    pages = {url(name): Page(body=make(FIRST).encode("utf-8")) for name, make in ARTICLES.items()}
    web = FixtureProxy(pages).start()
    try:
        seeds = tmp_path_factory.mktemp("seeds")
        (seeds / "undated.md").write_text("".join(f"- [{name}]({url(name)})\n" for name in ARTICLES),
                                          encoding="utf-8")
        archive = tmp_path_factory.mktemp("archive")
        first = run_crawl(archive, web.url, seeds=seeds)
        assert first.returncode == 0, first.log[-4000:]
        before = {p.relative_to(archive).as_posix(): p.read_bytes() for p in archive.rglob("*.md")}
        for name, make in ARTICLES.items():
            web.pages[url(name)] = Page(body=make(LATER).encode("utf-8"))
        second = run_scrapy(["refresh"], archive, web.url)
        after = {p.relative_to(archive).as_posix(): p.read_bytes() for p in archive.rglob("*.md")}
    finally:
        web.stop()
    return {"archive": archive, "first": first, "second": second, "before": before, "after": after}


def test_the_pages_are_archived_whole_and_undated(refreshed):
    articles = {k: frontmatter.loads(v.decode("utf-8")) for k, v in refreshed["before"].items()
                if k.startswith("articles/")}
    assert len(articles) == len(ARTICLES)
    for rel, post in articles.items():
        assert "approved" in post.content or "批准" in post.content, rel
        assert not post.get("date"), (rel, post.get("date"))  # no date of its own: none from around it


def test_chrome_that_moves_on_is_no_edit(refreshed):
    log = refreshed["second"].log
    assert refreshed["second"].returncode == 0, log[-4000:]
    summary = log[log.index("refresh summary"):]
    assert f"unchanged:  {len(ARTICLES)}" in summary and "changed:    0" in summary, summary
    assert refreshed["after"] == refreshed["before"]  # no version, no rewritten file
    changes = refreshed["archive"] / "changes.jsonl"
    events = [json.loads(line) for line in changes.read_text().splitlines()] if changes.exists() else []
    assert [e for e in events if e["event"] == "changed"] == []
