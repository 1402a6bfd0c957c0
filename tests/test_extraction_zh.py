"""Pages no adapter fully knows: fallback to the generic path, per-site text
floors, control characters, relative cover URLs. Pure functions on saved
HTML; nothing here touches the network."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler import markdown, sites
from crawler.pipelines.markdown import MarkdownWriterPipeline
from crawler.storage import ArchiveStore

PARAGRAPHS = [
    "国务院新闻办公室今天上午举行新闻发布会，介绍今年一季度国民经济运行情况。",
    "国家统计局新闻发言人表示，一季度国内生产总值同比增长百分之五点三，开局良好。",
    "从需求看，社会消费品零售总额增长百分之四点七，固定资产投资增长百分之四点五。",
    "发言人说，下阶段要加大宏观政策实施力度，巩固和增强经济回升向好态势。",
]

#: Tencent News' 2012 article template (``/a/2012…``): none of the
#: structures the qq adapter reads (no window.DATA, no content-article).
OLD_QQ = """<html><head><meta charset="utf-8"><title>一季度经济运行情况_新闻_腾讯网</title></head>
<body><div id="Head">腾讯首页 新闻 财经</div>
<div id="C-Main-Article-QQ"><div class="hd"><h1>一季度经济运行情况</h1>
<span class="pubTime">2012年03月15日10:21</span></div>
<div id="Cnt-Main-Article-QQ" bosszone="content">{}</div></div>
<div id="Foot">Copyright © 1998 - 2012 Tencent. All Rights Reserved</div></body></html>
""".format("".join(f"<p style=\"text-indent:2em\">{p}</p>" for p in PARAGRAPHS))


def text_of(fields) -> str:
    return "\n".join(b["text"] for b in fields["blocks"] if b["type"] == "text")


# --- an adapter that finds no body hands the page on -----------------------------------

def test_a_qq_page_of_an_unknown_template_is_read_by_the_generic_path():
    fields = sites.extract("https://news.qq.com/a/20120315/000123.htm", OLD_QQ)
    text = text_of(fields)
    assert all(p in text for p in PARAGRAPHS)
    assert fields["site"] == "qq"  # still a qq article, filed under qq
    assert sites.fell_back(fields) and "qq" in fields["extractor"]


def test_the_fallback_is_logged(caplog):
    with caplog.at_level("WARNING", logger="crawler.sites"):
        sites.extract("https://news.qq.com/a/20120315/000123.htm", OLD_QQ)
    assert "qq adapter found no article body" in caplog.text


def test_a_page_nothing_can_read_stays_empty():
    fields = sites.extract("https://news.qq.com/a/20120315/000124.htm", "<html><body><div></div></body></html>")
    assert not text_of(fields).strip() and not sites.fell_back(fields)


def test_x_shell_is_not_read_by_the_generic_path():
    shell = "<html><body><noscript>JavaScript is not available. Please enable it to continue.</noscript></body></html>"
    fields = sites.extract("https://x.com/someone/status/1234567890", shell)
    assert fields["blocks"] == [] and fields["extractor"] == "x-dom"  # the browser reads it, not generic


# --- the floor of text is the adapter's ------------------------------------------------

def _item(url, text, site="example"):
    return dict(site=site, article_id=None, title="t", date="2025-03-25 08:30:00", thumbnail="", lang="zh",
                source_url=url, url=url, blocks=[{"type": "text", "markdown": text, "text": text}] if text else [],
                capture={"warc_file": "a.warc.gz", "record_id": "<urn:uuid:1>", "date": "2025-03-25T00:30:00Z"})


def _pipeline(root):
    return MarkdownWriterPipeline(ArchiveStore(root), min_chars=40, min_ratio=0.5)


def test_a_short_x_post_is_archived(tmp_path):
    out = _pipeline(tmp_path).write(_item("https://x.com/someone/status/1234567890", "Ship it. Today.", "x"))
    assert out["outcome"] == "archived"


def test_an_empty_x_post_is_still_refused(tmp_path):
    with pytest.raises(DropItem, match="empty extraction"):
        _pipeline(tmp_path).write(_item("https://x.com/someone/status/1234567890", "", "x"))


def test_a_chinese_news_flash_is_archived(tmp_path):
    flash = "中国人民银行决定下调金融机构存款准备金率零点五个百分点。"  # 27 characters
    out = _pipeline(tmp_path).write(_item("https://news.example.cn/flash/1.html", flash))
    assert out["outcome"] == "archived"


def test_a_collapsed_extraction_is_still_refused(tmp_path):
    with pytest.raises(DropItem, match="empty extraction"):
        _pipeline(tmp_path).write(_item("https://news.example.com/story.html", "Loading, please wait..."))
    with pytest.raises(DropItem, match="empty extraction"):
        _pipeline(tmp_path).write(_item("https://news.example.cn/story.html", "正在加载，请稍候"))


# --- control characters ----------------------------------------------------------------

HOSTILE_BODY = "".join(f"<p>{p}\x1b[2J\x9b31m\x07\x00 &#27;[31m {p}</p>" for p in PARAGRAPHS * 2)
#: A qq page whose embedded data spells its title with JSON escapes (ESC ] 0 ;
#: sets a terminal's title, BEL ends it, CSI colours) and whose body has raw ones.
HOSTILE_QQ = """<html><head><title>x</title><script>window.DATA = {"title":
"标题\\u001b]0;owned\\u0007红\\u009b31m", "pubtime": "2025-03-25 10:00:00"};</script></head>
<body><div class="content-article">%s</div></body></html>""" % HOSTILE_BODY
HOSTILE_PAGE = """<html><head><meta charset="utf-8"><title>标题\x1b]0;owned\x07红\x1b[0m</title></head>
<body><article><h1>标题\x1b]0;owned\x07红\x1b[0m</h1>%s</article></body></html>""" % HOSTILE_BODY


@pytest.mark.parametrize("url, page", [("https://news.qq.com/rain/a/20250325A01ABC00", HOSTILE_QQ),
                                       ("https://news.example.com/2025/story.html", HOSTILE_PAGE)])
def test_control_characters_never_reach_the_markdown(url, page):
    fields = sites.extract(url, page)
    rendered = markdown.render({**fields, "source_url": url, "url": url})
    assert "红" in fields["title"] and PARAGRAPHS[0] in rendered
    for ch in ("\x1b", "\x07", "\x9b", "\x00"):
        assert ch not in fields["title"]
        assert ch not in text_of(fields)
        assert ch not in rendered


# --- URLs in metadata are resolved against the page ------------------------------------

PAGE_WITH_COVER = """<html><head><meta charset="utf-8">{base}
<meta property="og:image" content="/content/dam/news/2025/jcr:content.thumb.319.319.png">
<title>一季度经济运行情况</title></head><body><article><h1>一季度经济运行情况</h1>{body}</article></body></html>"""


def _cover_page(base=""):
    return PAGE_WITH_COVER.format(base=base, body="".join(f"<p>{p}</p>" for p in PARAGRAPHS))


def test_a_relative_og_image_is_resolved_against_the_page_url():
    fields = sites.extract("https://www.example.cn/news/2025/0325/story.html", _cover_page())
    assert fields["thumbnail"] == "https://www.example.cn/content/dam/news/2025/jcr:content.thumb.319.319.png"


def test_a_relative_og_image_follows_base_href():
    page = _cover_page('<base href="https://static.example.cn/site/">')
    fields = sites.extract("https://www.example.cn/news/2025/0325/story.html", page)
    assert fields["thumbnail"] == "https://static.example.cn/content/dam/news/2025/jcr:content.thumb.319.319.png"


def test_a_qq_cover_from_a_relative_og_image_is_resolved():
    page = _cover_page().replace("<article>", '<div class="content-article">').replace("</article>", "</div>")
    fields = sites.extract("https://news.qq.com/rain/a/20250325A01ABC00", page)
    assert fields["thumbnail"] == "https://news.qq.com/content/dam/news/2025/jcr:content.thumb.319.319.png"


def test_a_relative_base_href_is_itself_resolved():
    page = _cover_page('<base href="/mirror/">').replace('content="/content', 'content="img/content')
    fields = sites.extract("https://www.example.cn/news/story.html", page)
    assert fields["thumbnail"] == "https://www.example.cn/mirror/img/content/dam/news/2025/jcr:content.thumb.319.319.png"
