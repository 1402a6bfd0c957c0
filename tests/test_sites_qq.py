"""The qq adapter on the three real page shapes, as pure functions of HTML."""


import pytest

from crawler.core import markdown
from crawler.sites import adapter_for, generic, qq
from crawler.sites.pagemeta import normalize_time
from tests.fixtures.qq_site import BUILDERS, QQ_SEEDS, read_seed


@pytest.mark.parametrize("name,template", sorted(QQ_SEEDS.items()))
def test_body_title_time_cover_match_the_seed(name, template):
    article = read_seed(name)
    page = BUILDERS[template](article)
    url = article.source_url.replace("new.qq.com", "news.qq.com") if template == "new_template" else article.source_url
    fields = qq.extract(url, page)
    assert fields["title"] == article.meta["title"]
    assert fields["date"] == article.meta["date"]
    assert fields["thumbnail"] == article.meta["thumbnail"]
    assert fields["article_id"] == article.article_id
    rendered = [b["markdown"] if b["type"] == "text" else f"![图片]({b['src']})" for b in fields["blocks"]]
    assert rendered == article.paragraphs
    assert markdown.summarize(fields["blocks"]) == article.meta["summary"]


def test_client_rendered_page_uses_embedded_data():
    article = read_seed("004_0f7ec6953a63be2f.txt")
    fields = qq.extract(article.source_url, BUILDERS["client_rendered"](article))
    assert fields["extractor"] == "qq:embedded-data"
    assert any(b["type"] == "image" for b in fields["blocks"])


def test_page_chrome_never_enters_the_body():
    article = read_seed("000_916c35625ed2f8d3.txt")
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", BUILDERS["new_template"](article))
    text = "".join(b.get("text", "") for b in fields["blocks"])
    for chrome in ("免责声明", "举报", "文明上网", "相关推荐", "热点榜", "按住画面移动小窗", "Copyright", "关注"):
        assert chrome not in text


def test_window_data_without_semicolon_and_braces_in_strings():
    page = '<html><body><script>window.DATA = {\n\t"title": "a } b {", "pubtime": "2025-02-10 16:31:51"\n}\n  </script></body></html>'
    assert qq.page_data(page) == {"title": "a } b {", "pubtime": "2025-02-10 16:31:51"}


def test_uppercase_tags_bold_and_placeholders_in_json_body():
    page = """<html><body><div id="root"></div><script>window.DATA = {"title": "t",
      "pubtime": 1739439308, "content": {"text": "<P><STRONG>粗体</STRONG>正文第一段，足够长的文字。</P><P><!--IMG_0--></P><P>第二段</P>"},
      "attribute": {"IMG_0": {"url": "//inews.gtimg.com/om_bt/abc/641", "desc": "图注"}}};</script></body></html>"""
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert fields["blocks"] == [
        {"type": "text", "markdown": "**粗体**正文第一段，足够长的文字。", "text": "粗体正文第一段，足够长的文字。"},
        {"type": "image", "src": "https://inews.gtimg.com/om_bt/abc/641"},
        {"type": "text", "markdown": "第二段", "text": "第二段"},
    ]
    assert fields["date"] == "2025-02-13 17:35:08"  # epoch seconds read in Beijing time


@pytest.mark.parametrize("value,expected", [
    ("2025-02-13 17:15:08", "2025-02-13 17:15:08"),
    ("2025-02-13T17:15:08+08:00", "2025-02-13 17:15:08"),
    ("2/13/2025, 5:15:08 PM", "2025-02-13 17:15:08"),
    ("", None), (None, None), ("not a date", None),
])
def test_normalize_time(value, expected):
    assert normalize_time(value, qq.BEIJING) == expected


def test_times_with_an_offset_become_beijing_time():
    assert normalize_time("2025-02-13T09:15:08Z", qq.BEIJING) == "2025-02-13 17:15:08"
    # where the zone is unknown (other sites), the stated wall clock is kept
    assert normalize_time("2025-02-13T09:15:08-05:00") == "2025-02-13 09:15:08"


def test_registry_picks_by_host():
    assert adapter_for("https://new.qq.com/rain/a/1") is qq
    assert adapter_for("https://news.qq.com/rain/a/1") is qq
    assert adapter_for("https://www.scmp.com/tech/x") is generic


def test_bold_spans_keep_their_spaces_outside_the_markers():
    page = '<div class="rich_media_content"><p>a <strong> bold </strong>b<b></b></p></div>'
    fields = qq.extract("https://news.qq.com/rain/a/20250101A00AAA00", page)
    assert fields["blocks"][0]["markdown"] == "a **bold** b"


def test_white_space_is_collapsed_but_line_breaks_and_spacers_stay():
    page = '<div class="rich_media_content"><p>a  b\n c<br>d</p><p>&nbsp;</p><p>\n</p><p>end of it</p></div>'
    fields = qq.extract("https://news.qq.com/rain/a/20250101A00AAA00", page)
    assert [b["markdown"] for b in fields["blocks"]] == ["a b c\nd", " ", "end of it"]


def test_bold_by_style_counts_as_bold():
    page = ('<div class="rich_media_content"><p><span style="font-weight: bold;">蓝鲸新闻</span>讯，'
            '<span style="font-weight:400">正文</span></p></div>')
    fields = qq.extract("https://news.qq.com/rain/a/20250101A00AAA00", page)
    assert fields["blocks"][0]["markdown"] == "**蓝鲸新闻**讯，正文"


def test_window_data_assigned_through_json_parse():
    inner = '{"title": "t", "pubtime": "2025-02-10 16:31:51"}'
    import json as _json
    page = f"<script>window.DATA = JSON.parse({_json.dumps(inner)});</script>"
    assert qq.page_data(page) == {"title": "t", "pubtime": "2025-02-10 16:31:51"}


def test_outer_container_fallback_leaves_byline_and_chrome_out():
    """A page without div.rich_media_content: the body comes from
    div.content-article, minus its h1, byline, video player and footer."""
    article = read_seed("000_916c35625ed2f8d3.txt")
    page = (BUILDERS["new_template"](article).replace("rich_media_content", "x-body")
            .replace("article-content-wrap article-content-wrap-pc", "x-wrap"))
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    rendered = [b["markdown"] if b["type"] == "text" else f"![图片]({b['src']})" for b in fields["blocks"]]
    assert rendered == article.paragraphs


def test_related_items_in_the_page_data_never_stand_in_for_the_article():
    related = "<p>" + "一篇很长的推荐文章摘要。" * 40 + "</p>"
    page = ('<html><body><div id="root"></div><script>window.DATA = {"title": "t", "pub_time": "2025-02-13 17:15:08",'
            '"originContent": {"text": "<p>本文正文第一段，足够长的文字内容。</p>"},'
            f'"recommend": [{{"abstract": "{related}", "pubtime": "2019-01-01 00:00:00", "shareImg": "https://x/r.jpg",'
            '"id": "8QMd3n5Z7YMcuDo"}]};</script></body></html>')
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert [b["markdown"] for b in fields["blocks"]] == ["本文正文第一段，足够长的文字内容。"]
    assert fields["date"] == "2025-02-13 17:15:08"
    assert fields["thumbnail"] != "https://x/r.jpg"
    assert fields["article_id"] == "20250213A06E5300"


@pytest.mark.parametrize("page", ["", "   ", "<!-- nothing -->", "\x00"])
def test_empty_documents_give_no_body_not_a_crash(page):
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert fields["blocks"] == []


def test_xhtml_with_an_xml_declaration_is_read():
    page = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
            '<body><div class="rich_media_content"><p>XHTML 页面的正文，足够长。</p></div></body></html>')
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert [b["markdown"] for b in fields["blocks"]] == ["XHTML 页面的正文，足够长。"]
    text = "Body of an XHTML news page that trafilatura can read. " * 10
    fields = generic.extract("https://example.org/a", page.replace("XHTML 页面的正文，足够长。", text))
    assert "trafilatura can read" in "".join(b["text"] for b in fields["blocks"])


def test_deeply_nested_bodies_are_not_dropped():
    page = ('<div class="rich_media_content">' + "<div>" * 300 + "<p>深处的正文。</p>" + "</div>" * 300 + "</div>")
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert [b["markdown"] for b in fields["blocks"]] == ["深处的正文。"]


def test_indented_html_does_not_shorten_the_summary():
    from crawler.core import markdown
    text = "财联社2月13日讯（编辑 史正丞）北京时间周四午后，两位科技富豪马斯克、蔡崇信接力亮相迪拜世界政府峰会。"
    page = f'<div class="rich_media_content">\n  <p>\n      {text}\n  </p>\n</div>'
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert markdown.summarize(fields["blocks"]) == text[:50] + "..."
    # a line break of the source inside the paragraph counts as the one space it shows as
    wrapped = text[:10] + "\n        " + text[10:]
    page = f'<div class="rich_media_content"><p>{wrapped}</p></div>'
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert markdown.summarize(fields["blocks"]) == (text[:10] + " " + text[10:])[:50] + "..."


def test_skip_rules_match_whole_class_names_only():
    page = ('<div class="rich_media_content"><p class="shareholder-note">股东大会正文段落。</p>'
            '<div class="share-bar">分享到微信</div><p class="commentary">评论员文章正文。</p>'
            '<div class="comment-list">网友评论</div><p class="p-shareholders">股东名单。</p>'
            '<p class="pic-byline">图片来源：视觉中国</p><p class="editor-comment">编者按：正文的一部分。</p></div>')
    fields = qq.extract("https://news.qq.com/rain/a/20250101A00AAA00", page)
    assert [b["markdown"] for b in fields["blocks"]] == [
        "股东大会正文段落。", "评论员文章正文。", "股东名单。", "图片来源：视觉中国", "编者按：正文的一部分。"]


@pytest.mark.parametrize("cls", ["share_box", "shareBar", "relatedNews", "related_list", "recommendList",
                                 "commentList", "comment_box", "videoPlayerWrap", "share-bar-wrap",
                                 "related-news-list", "comment-list-item", "social-share", "article-share",
                                 "mod-comment", "news-related", "lefttool", "LeftTool", "author-info-box",
                                 "media-info-wrap", "byline-wrap", "videoPlayer", "bdsharebuttonbox",
                                 "articleShare", "relatednews", "commentlist", "sharebox", "video-player"])
def test_chrome_in_any_naming_style_is_skipped(cls):
    page = f'<div class="rich_media_content"><p>正文段落，足够长。</p><div class="{cls}">不是正文</div></div>'
    fields = qq.extract("https://news.qq.com/rain/a/20250101A00AAA00", page)
    assert [b["markdown"] for b in fields["blocks"]] == ["正文段落，足够长。"]


def test_a_render_timestamp_never_stands_in_for_the_publication_time():
    page = ('<script>window.DATA = {"timestamp": 1764000000, "article": {"pubtime": "2025-02-13 17:15:08"},'
            '"originContent": {"text": "<p>正文段落，足够长。</p>"}};</script>')
    assert qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)["date"] == "2025-02-13 17:15:08"


def test_bodies_inside_lists_of_related_items_are_never_the_article():
    page = ('<script>window.DATA = {"title": "t", "story": {"html": "<p>真正的正文。</p>"},'
            '"recommend": [{"html": "<p>' + "另一篇相关推荐文章的正文。" * 20 + '</p>"}]};</script>')
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert [b["markdown"] for b in fields["blocks"]] == ["真正的正文。"]


def test_small_thumbnails_of_other_articles_are_not_the_cover():
    page = ('<div class="rich_media_content"><p>正文。</p></div>'
            '<img src="https://inews.gtimg.com/om_ls/OtherArticleAAA_294195/0">')
    assert qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)["thumbnail"] == ""


def _client_page(attribute_key: str, attributes: dict, text: str, **extra) -> str:
    import json as _json
    data = {"title": "t", "pubtime": "2025-02-13 17:15:08", "originContent": {"text": text},
            attribute_key: attributes, **extra}
    return f'<div id="root"></div><script>window.DATA = {_json.dumps(data, ensure_ascii=False)};</script>'


OM = "https://inews.gtimg.com/om_bt/{}/{}"
SIZES = ("0", "1000", "640", "641")  # the page data lists 641 after the others


def _flat(name):
    return {**{f"imgurl{size}": OM.format(name, size) for size in SIZES},
            "bigOrigUrl": OM.format(name, "0"), "desc": "图注 https://example.com/credit"}


def _sized(name):
    return {f"imgurl{size}": {"imgurl": OM.format(name, size), "width": "641", "height": "360"} for size in SIZES}


@pytest.mark.parametrize("attribute_key,entry", [
    ("originAttribute", _flat),  # today's pages: plain strings per size
    ("originAttribute", _sized),  # sizes as {"imgurl": url, "width", "height"}
    ("cnt_attr", lambda name: {"img": _sized(name), "desc": ""}),
    ("cnt_attr", lambda name: {"all": {"img": _sized(name), "itype": "0"}}),
])
def test_client_rendered_images_come_in_place_in_the_641_size(attribute_key, entry):
    text = ("<p>第一段正文，足够长的文字。</p><p><!--IMG_1--></p><p>第二段</p><p><!--IMG_0--></p>"
            "<p><!--IMG_2--></p><p>第三段</p>")
    page = _client_page(attribute_key, {f"IMG_{n}": entry(f"Hash{n}") for n in range(3)}, text)
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert fields["extractor"] == "qq:embedded-data"
    assert [b.get("src") or b["markdown"] for b in fields["blocks"]] == [
        "第一段正文，足够长的文字。", OM.format("Hash1", "641"), "第二段",
        OM.format("Hash0", "641"), OM.format("Hash2", "641"), "第三段",
    ]


@pytest.mark.parametrize("entry,expected", [
    ({"imgurl0": OM.format("H", "0"), "imgurl1000": OM.format("H", "1000"), "imgurl640": OM.format("H", "640")},
     OM.format("H", "640")),
    ({"imgurl0": OM.format("H", "0"), "imgurl1000": OM.format("H", "1000")}, OM.format("H", "1000")),
    ({"bigOrigUrl": OM.format("H", "0"), "url": "https://x.test/legacy.jpg"}, OM.format("H", "0")),
    ({"imgurl0": {"imgurl": "//inews.gtimg.com/om_bt/H/0"}}, OM.format("H", "0")),
    ({"origUrl": "https://x.test/o.jpg", "imgurl": "https://x.test/i.jpg"}, "https://x.test/o.jpg"),
    ("https://x.test/bare.jpg", "https://x.test/bare.jpg"),
])
def test_image_size_preference(entry, expected):
    page = _client_page("originAttribute", {"IMG_0": entry}, "<p>正文段落，足够长。</p><p><!--IMG_0--></p>")
    blocks = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)["blocks"]
    assert blocks[1:] == [{"type": "image", "src": expected}]


def test_images_of_related_items_and_links_in_captions_are_not_body_images():
    page = _client_page(
        "originAttribute", {"IMG_0": {"desc": "https://x.test/credit.jpg"}},
        "<p>正文段落，足够长。</p><p><!--IMG_0--></p><p>结尾</p>",
        recommend=[{"cnt_attr": {"IMG_0": {"imgurl641": "https://x.test/other/641"}}}])
    blocks = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)["blocks"]
    assert [b["type"] for b in blocks] == ["text", "text"]


@pytest.mark.parametrize("pubtime,expected", [
    ("20250213171508", "2025-02-13 17:15:08"),
    (20250213171508, "2025-02-13 17:15:08"),
    (1739439308000, "2025-02-13 17:35:08"),
    (10**30, ""),
    (-1, ""),
])
def test_numeric_publication_times(pubtime, expected):
    page = _client_page("originAttribute", {}, "<p>正文段落，足够长。</p>", pubtime=pubtime)
    fields = qq.extract("https://news.qq.com/rain/a/20250213A06E5300", page)
    assert fields["date"] == expected
    assert fields["blocks"][0]["markdown"] == "正文段落，足够长。"
