"""Pages no adapter fully knows: fallback to the generic path, per-site text
floors, control characters, relative cover URLs. Pure functions on saved
HTML; nothing here touches the network."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler import sites
from crawler.archive.storage import ArchiveStore
from crawler.core import markdown
from crawler.pipelines.markdown import MarkdownWriterPipeline

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


def test_a_description_is_no_body_for_a_page_its_adapter_cannot_read():
    description = "。".join(PARAGRAPHS)
    page = f'<html><head><meta name="description" content="{description}"></head><body><div></div></body></html>'
    fields = sites.extract("https://news.qq.com/a/20120315/000126.htm", page)
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
    assert fields["thumbnail"] == ("https://www.example.cn/mirror/img/content/dam/news/2025/"
                                   "jcr:content.thumb.319.319.png")


# --- Chinese pages in the generic path -------------------------------------------------

ARTICLE = [
    "新华社北京3月25日电 记者从国家林业和草原局获悉，今年以来全国已完成造林一千二百万亩。",
    "据介绍，各地抓住春季有利时机，组织开展义务植树活动，",
    "累计参加义务植树的群众超过三千万人次。",
    "国家林草局有关负责人表示，",
    "今年将继续推进大规模国土绿化行动，科学开展造林种草。",
    "同时，要加强森林草原防火工作，严防重特大火灾发生。",
    "专家指出，植树造林对改善生态环境、应对气候变化具有重要意义。",
    "下一步，有关部门将加大资金投入，支持重点区域生态保护和修复。",
]
RELATED = ["春季造林进入高峰期", "多地启动森林防火应急响应", "全国绿化委员会发布年度公报",
           "专家解读国土绿化新政策", "植树节：一起种下希望", "三北工程建设取得新进展"]
COMMENTS = [f"网友{i}：这篇报道写得很好，希望各地都能重视植树造林，保护我们的绿水青山，为子孙后代留下美好家园！"
            for i in range(12)]


def _layout_page(extra_after: str = "") -> str:
    """An old portal template: a layout table, the article split over short
    <p>s in one cell, menus and a ranking in others, a longer comment block."""
    nav = "".join(f'<a href="/c{i}.html">频道{i}</a> | ' for i in range(20))
    ranking = "".join(f'<tr><td><a href="/r{i}.html">{t}</a></td></tr>' for i, t in enumerate(RELATED * 2))
    body = "".join(f"<p>{p}</p>" for p in ARTICLE)
    comments = "".join(f'<div class="c"><a href="/u{i}">网友{i}</a><p>{c}</p><span>2025-03-25</span></div>'
                       for i, c in enumerate(COMMENTS))
    return f"""<html><head><meta charset="utf-8"><title>全国已完成造林一千二百万亩_新闻中心</title></head><body>
<table><tr><td colspan="2">{nav}</td></tr>
<tr><td width="640"><h1>全国已完成造林一千二百万亩</h1>
<div>2025年03月25日 10:21　来源：新华社</div>
<table><tr><td>{body}</td></tr></table>{extra_after}</td>
<td width="300"><table><tr><td>排行榜</td></tr>{ranking}</table></td></tr>
<tr><td colspan="2"><div>网友评论</div>{comments}</td></tr>
<tr><td colspan="2">关于我们 | 联系方式 | 版权所有 © 2025 新闻中心 京ICP备12345678号</td></tr></table>
</body></html>"""


def test_an_article_split_over_short_paragraphs_in_a_layout_table():
    fields = sites.extract("https://www.example-news.cn/gn/2025/03-25/1001.shtml", _layout_page())
    text = text_of(fields)
    assert all(p in text for p in ARTICLE)
    assert not any(t in text for t in RELATED)
    assert "网友3" not in text and "ICP" not in text and "频道" not in text


BOILERPLATE_AFTER = """<p>责任编辑：王小明</p><p>编辑：李华</p>
<div>分享到： 微信 微博 QQ空间</div><p>【点击进入专题】</p>
<p>免责声明：本文仅代表作者个人观点，与本网无关，不代表本网的立场。</p>
<div><h3>相关新闻</h3><ul>{}</ul></div>""".format("".join(f"<li><a href='/n{i}.html'>{t}，详情请看</a></li>"
                                                           for i, t in enumerate(RELATED)))


def test_chinese_boilerplate_after_the_article_is_left_out():
    page = f"""<html><head><meta charset="utf-8"><title>全国已完成造林一千二百万亩</title></head><body>
<div class="article"><h1>全国已完成造林一千二百万亩</h1><p>来源：新华社</p>
{"".join(f"<p>{p}</p>" for p in ARTICLE)}{BOILERPLATE_AFTER}</div></body></html>"""
    fields = sites.extract("https://www.example-news.cn/2025/0325/story.html", page)
    text = text_of(fields)
    assert all(p in text for p in ARTICLE)
    for junk in ("责任编辑", "编辑：", "分享到", "点击进入", "免责声明", "相关新闻", *RELATED, "来源："):
        assert junk not in text, junk


def test_a_sentence_that_starts_like_a_credit_line_stays():
    lines = ["记者：你怎样看待今年的农业补贴政策？", "来源：据统计，今年全省粮食产量再创新高，达到六百亿斤。"]
    page = f"""<html><head><meta charset="utf-8"><title>访谈</title></head><body><article>
{"".join(f"<p>{p}</p>" for p in ARTICLE[:4] + lines + ARTICLE[4:])}</article></body></html>"""
    text = text_of(sites.extract("https://www.example-news.cn/2025/0325/talk.html", page))
    assert all(line in text for line in lines)


@pytest.mark.parametrize("page_title, h1, expected", [
    ("全国已完成造林一千二百万亩_国内新闻_新闻中心", "<h1>全国已完成造林一千二百万亩</h1>", "全国已完成造林一千二百万亩"),
    ("劳伦斯：一个无法定义的“洛克菲勒”-搜狐财经", "", "劳伦斯：一个无法定义的“洛克菲勒”"),
    ("17种产品、1个园区入选国家绿色制造名单 - 要闻 - 日报网", "", "17种产品、1个园区入选国家绿色制造名单"),
    ("对比试车——测试两款新车", "", "对比试车——测试两款新车"),
])
def test_a_chinese_headline_is_the_title_without_channel_and_site(page_title, h1, expected):
    page = f"""<html><head><meta charset="utf-8"><title>{page_title}</title></head><body><div class="article">
{h1}{"".join(f"<p>{p}</p>" for p in ARTICLE)}</div></body></html>"""
    fields = sites.extract("https://www.example-news.cn/2025/0325/story.html", page)
    assert fields["title"] == expected
    assert expected not in text_of(fields).split("\n")  # not repeated as the first paragraph


PLATFORM_LINES = [
    "特别声明：以上内容(如有图片或视频亦包括在内)为自媒体平台“网易号”用户上传并发布，本平台仅提供信息存储服务。",
    "（原标题：全国已完成造林一千二百万亩，多地启动春季植树）",
    "扫一扫在手机打开当前页", "【纠错】 【打印】 【关闭】", "返回搜狐，查看更多", "【责任编辑:王子】",
]


def test_platform_statements_and_page_tools_are_left_out_but_sentences_stay():
    kept = ["声明指出，双方将加强合作，共同推进项目建设。", "他在声明中说：“我们将继续努力。”"]
    page = f"""<html><head><meta charset="utf-8"><title>造林</title></head><body><div class="article">
{"".join(f"<p>{p}</p>" for p in ARTICLE[:5] + kept + ARTICLE[5:] + PLATFORM_LINES)}</div></body></html>"""
    text = text_of(sites.extract("https://www.example-news.cn/2025/0325/s.html", page))
    assert all(line in text for line in kept + ARTICLE)
    assert not any(line in text for line in PLATFORM_LINES)


def test_a_longer_comment_block_that_trafilatura_takes_is_not_the_article():
    comments = "".join(f"<p>{c}{c}</p>" for c in COMMENTS)
    page = f"""<html><head><meta charset="utf-8"><title>全国已完成造林一千二百万亩_新闻中心</title></head><body>
<table><tr><td><h1>全国已完成造林一千二百万亩</h1><div>2025-03-25 10:21 来源：新华社</div>
<font>{"".join(f"<p>{p}</p>" for p in ARTICLE)}</font></td></tr></table>
<div id="pl" class="post-content"><div class="hd">网友评论（128）</div>{comments}</div></body></html>"""
    text = text_of(sites.extract("https://www.example-news.cn/2025/0325/c.html", page))
    assert all(p in text for p in ARTICLE)
    assert "网友3" not in text


def test_a_news_flash_page_keeps_its_one_sentence():
    flash = "中国人民银行决定下调金融机构存款准备金率零点五个百分点。"
    description = flash  # what a flash page's description usually is
    page = f"""<html><head><meta charset="utf-8"><title>央行宣布降准_快讯</title>
<meta name="description" content="{description}"></head><body><div class="nav"><a href="/">首页</a></div>
<div class="flash"><h1>央行宣布降准</h1><p>{flash}</p></div></body></html>"""
    url = "https://www.example-news.cn/flash/2025/0325/1.html"
    fields = sites.extract(url, page)
    assert text_of(fields) == flash and fields["extractor"] != "meta-description"
    assert sites.too_little_text(url, fields["blocks"], 40) is None


def test_a_chinese_page_nested_deeper_than_pythons_stack_is_read_and_harms_no_later_page():
    text = "这是一篇埋得很深的中文新闻文章，用来检查极深的嵌套不会让提取崩溃或拖慢后面的网页。" * 3
    for depth in (500, 1500, 800):
        page = ("<html><head><meta charset='utf-8'><title>深</title></head><body>" + "<div>" * depth
                + f"<p>{text}</p>" + "</div>" * depth + "</body></html>")
        assert text in text_of(sites.extract(f"https://www.example.cn/deep{depth}.html", page))


def test_an_article_of_clauses_one_per_paragraph_is_found_in_a_layout_table():
    clauses = [c + "，" for c in "今年以来 全国各地抓住春季有利时机 组织开展义务植树活动 累计参加的群众超过三千万人次 "
               "新造林面积达到一千二百万亩 比去年同期增加一成 各地还加强了森林草原防火 严防重特大火灾发生 "
               "有关部门表示 下一步将加大资金投入 支持重点区域生态保护和修复".split()]
    clauses[-1] = clauses[-1].rstrip("，") + "。"
    page = _layout_page().replace("".join(f"<p>{p}</p>" for p in ARTICLE), "".join(f"<p>{c}</p>" for c in clauses))
    text = text_of(sites.extract("https://www.example-news.cn/gn/2025/03-25/1002.shtml", page))
    assert all(c in text for c in clauses)
    assert not any(t in text for t in RELATED) and "网友3" not in text


def test_text_width_measures_only_what_a_floor_needs():
    """A page's text is not measured character by character when its length
    alone clears the floor (that loop cost 3.6 ms a page on the reactor)."""
    from crawler.sites.blocks import text_width

    assert text_width("中文新闻") == 8 and text_width(" news ") == 4
    assert text_width("中文", enough=40) == 4  # short: measured, wide characters count two
    assert text_width("中" * 100, enough=40) == 100  # at least as wide as the floor needs


# --- the date of a Chinese page that no meta tag dates ---------------------------------

def dated_page(byline: str = "2005年03月21日 11:21 来源：新华网", above: str = "") -> str:
    """A Chinese article dated only in its byline, with other dates around it:
    the archive's month in the menu, related news, the copyright line."""
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f"<html><head><meta charset='utf-8'><title>一季度经济运行情况_财经频道_某某网</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a> <a href='/archive/200412/'>2004年12月</a></div>{above}"
            f"<h1>一季度经济运行情况</h1><div class='info'>{byline}</div><div class='content'>{paragraphs}</div>"
            f"<div class='side'><h3>相关新闻</h3><ul><li><a href='/a/1.html'>一月份工业增长加快</a> 2006年01月05日</li>"
            f"<li><a href='/a/2.html'>去年工业增加值增长</a> 2004年12月01日</li></ul></div>"
            f"<div class='footer'>Copyright © 1997-2006 某某网 版权所有 更新时间：2006年03月24日</div></body></html>")


@pytest.mark.parametrize("byline, above, expected", [
    ("2005年03月21日 11:21 来源：新华网", "", "2005-03-21 11:21:00"),
    ("发布时间：2005-03-21 11:21:05", "", "2005-03-21 11:21:05"),
    # an e-paper: the date above the headline
    ("来源：新华网", "<div class='issue'>2005年03月21日 星期一 第A01版</div>", "2005-03-21 00:00:00"),
])
def test_a_chinese_page_is_dated_by_its_byline_not_by_the_dates_around_it(byline, above, expected):
    assert sites.extract("https://news.example.cn/a/x.html", dated_page(byline, above))["date"] == expected


def test_a_chinese_page_whose_byline_has_no_date_gets_none_rather_than_another_date():
    """Related news and the copyright line carry dates, never the article's."""
    assert sites.extract("https://news.example.cn/a/x.html", dated_page("来源：新华网"))["date"] == ""


def test_a_chinese_page_is_never_read_by_dateparser(monkeypatch):
    """htmldate's extensive search sends text to dateparser, whose first
    Chinese string loads every language it knows: 1.2 s and 41 MiB in each
    extraction worker, for dates that were wrong more often than right."""
    import dateparser

    calls = []
    real = dateparser.DateDataParser.get_date_data
    monkeypatch.setattr(dateparser.DateDataParser, "get_date_data",
                        lambda self, *args, **kwargs: calls.append(args) or real(self, *args, **kwargs))
    # dates no other test sends (htmldate keeps its answers for a string it saw)
    unseen = {"2006年01月05日": "2007年07月07日", "2004年12月01日": "2003年03月03日", "2006年03月24日": "2007年08月08日"}
    for page in (dated_page("2005年05月05日 05:05 来源：人民网"), dated_page("来源：人民网")):
        for seen, new in unseen.items():
            page = page.replace(seen, new)
        sites.extract("https://news.example.cn/a/y.html", page)
    assert calls == []


def test_a_portal_s_date_of_today_is_not_the_article_s():
    """Many Chinese portals print today's date in their header: taken for the
    article's, it would change on every refresh and read as an edit."""
    menu = "".join(f"<a href='/{i}/'>{name}</a> " for i, name in enumerate("首页 新闻 国内 国际 财经 体育 娱乐 科技".split()))
    today = f"<div class='top'>今天是2022年02月13日 星期日</div><div class='menu'>{menu}</div>"
    assert sites.extract("https://news.example.cn/a/x.html", dated_page("来源：新华网", above=today))["date"] == ""
    # and below the headline, before the byline's own
    byline = "今天是2022年02月13日 星期日 发布时间：2005-03-21 11:21"
    assert sites.extract("https://news.example.cn/a/x.html", dated_page(byline))["date"] == "2005-03-21 11:21:00"


ACCOUNT_TAIL = ["编辑|张小明", "文丨李华", "采写：南都记者 余毅菁", "本文仅代表作者个人观点。",
                "请支持独立网站，转发请注明本文链接：https://www.example-news.cn/a.html",
                "扫描下方二维码解锁更多技能", "1、回复【公租房】查看最新消息", "看都看完了，点【在看】试试",
                "这是公众号的简介，每天为你带来最新的城市资讯和生活服务信息，欢迎大家关注和转发。"]


@pytest.mark.parametrize("as_lines", [False, True])
def test_an_accounts_prompts_and_magazine_credits_after_the_article_are_left_out(as_lines):
    """Credits written "编辑|…" or "文丨…", 采写, opinion and reprint notes
    go wherever they stand; an account's prompts (scan the QR code, reply
    a keyword, tap 在看) end the article: its blurb after them is no part of it.
    Also when the page writes them as <br>-separated lines of one block."""
    tail = "<br>".join(ACCOUNT_TAIL) if as_lines else "".join(f"<p>{p}</p>" for p in ACCOUNT_TAIL)
    body = "<br>".join(ARTICLE) if as_lines else "".join(f"<p>{p}</p>" for p in ARTICLE)
    page = f"""<html><head><meta charset="utf-8"><title>全国已完成造林一千二百万亩</title></head><body>
<div class="rich_media_content"><h1>全国已完成造林一千二百万亩</h1><div>{body}<br>{tail}</div></div></body></html>"""
    text = text_of(sites.extract("https://www.example-news.cn/2025/0325/story.html", page))
    assert all(p in text for p in ARTICLE), text
    for junk in ACCOUNT_TAIL:
        assert junk not in text, (junk, text)


def test_a_comment_section_and_a_recommendation_box_end_the_article():
    """"网友评论仅供其表达个人看法，并不表明某网立场" opens the readers'
    comments, and so does a count of them ("《标题》已有3件评论", "评论（12）"); a
    heading written "延伸 · 推荐" opens another story's teaser."""
    for opener, after in (("网友评论仅供其表达个人看法，并不表明本网立场。", COMMENTS[:3]),
                          ("《全国已完成造林一千二百万亩》已有3件评论", COMMENTS[:3]),
                          ("评论（12）", COMMENTS[:3]),
                          ("延伸 · 推荐", ["女警一天打100电话被停机", "近日，一社区女民警在核查工作时，平均每天拨打100余个电话，被电信部门停机。"])):
        page = f"""<html><head><meta charset="utf-8"><title>全国已完成造林一千二百万亩</title></head><body>
<div class="article"><h1>全国已完成造林一千二百万亩</h1>{"".join(f"<p>{p}</p>" for p in ARTICLE)}
<p>{opener}</p>{"".join(f"<p>{p}</p>" for p in after)}</div></body></html>"""
        text = text_of(sites.extract("https://www.example-news.cn/2025/0325/story.html", page))
        assert all(p in text for p in ARTICLE)
        assert opener not in text and not any(p in text for p in after), text


@pytest.mark.parametrize("heading", [
    '<div class="sidebar"><h3 class="item-title"><a href="/s/1">乔丹93赛季精彩拉杆镜头，空中过3人太随意</a></h3></div>',
    '<div class="logo"><h1>某某省人民政府网站</h1></div>',
])
def test_a_related_storys_heading_or_the_sites_logo_is_not_the_headline(heading):
    """No og:title, and the heading trafilatura takes is a related story's
    (an author's other articles) or the site's logo in an h1: the page's own
    title names the article."""
    page = f"""<html><head><meta charset="utf-8"><title>全国已完成造林一千二百万亩 - 某某省人民政府门户网站</title></head>
<body>{heading}<div class="article-title"><h2>全国已完成造林一千二百万亩</h2></div>
<div class="article">{"".join(f"<p>{p}</p>" for p in ARTICLE)}</div></body></html>"""
    fields = sites.extract("https://www.example-news.cn/2025/0325/story.html", page)
    assert fields["title"] == "全国已完成造林一千二百万亩"


def test_an_unrelated_page_title_that_is_only_an_address_does_not_replace_the_headline():
    page = f"""<html><head><meta charset="utf-8"><title>blog.example.com</title></head><body>
<h2 class="title">湘菜粤菜 兵分两路</h2><div class="article">{"".join(f"<p>{p}</p>" for p in ARTICLE)}</div></body></html>"""
    assert sites.extract("https://blog.example.com/2005/1.html", page)["title"] == "湘菜粤菜 兵分两路"


def test_an_opening_clause_of_a_split_sentence_is_prose_a_label_is_not():
    from crawler.sites import zh

    assert zh.prose_like("今年以来，") and zh.prose_like("下周一，")
    assert not zh.prose_like("首页，") and not zh.prose_like("来源：") and not zh.prose_like("国内新闻")


@pytest.mark.parametrize("html_tag, expected", [("<html>", "zh"), ('<html lang="en">', "zh"),
                                                ('<html lang="zh-TW">', "zh-TW")])
def test_a_page_read_as_chinese_says_it_is_chinese(html_tag, expected):
    """A Chinese page that declares no language, or a template's "en", is
    Chinese in the archive (not "und", not English); a declared Chinese tag stays."""
    page = f"""{html_tag}<head><meta charset="utf-8"><title>一季度经济运行情况</title></head><body>
<article><h1>一季度经济运行情况</h1>{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}</article></body></html>"""
    fields = sites.extract("https://www.example-news.cn/2025/0325/story.html", page)
    assert all(p in text_of(fields) for p in PARAGRAPHS)
    assert fields["lang"] == expected
