"""WeChat official-account articles: the time only the page's script holds, one article per message."""

from __future__ import annotations

import json

from crawler import sites
from crawler.sites import identity, weixin
from tests.conftest import crawled, run_scrapy
from tests.fixtures.qq_site import Page

LONG = ("https://mp.weixin.qq.com/s?__biz=MzA3NDM0ODQwMw==&mid=2649827010&idx=2&sn=0b1c2f8e9d&chksm=8f0a1b2c"
        "&scene=21#wechat_redirect")
STORY = ["今天凌晨，三星在美国旧金山举行发布会，正式发布旗下新一代旗舰手机系列机型，共有三款产品。",
         "此次发布的三款手机配置十分出色，处理器采用最新的旗舰芯片，内存与存储也全面升级。",
         "价格方面，基础版售价约合人民币六千三百元，将于下月起在国内陆续开售，预约现已开始。",
         "除手机外，同场还发布了一款折叠屏新机，折叠部分采用超薄玻璃，合上后只有巴掌大小。",
         "业内人士认为，新机的定价策略较为激进，将与国内厂商的同档产品展开正面竞争。"]


def account_page(script_time: str = '"1581517074"', title_tag: bool = True) -> str:
    """An account article as WeChat serves it: the time only in a script, the visible one empty."""
    og = '<meta property="og:title" content="三星新一代旗舰手机正式发布">' if title_tag else ""
    body = "".join(f"<p>{p}</p>" for p in STORY)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">{og}<title></title></head><body>
<div id="page-content"><h1 class="rich_media_title" id="activity-name">{"三星新一代旗舰手机正式发布" if title_tag else ""}</h1>
<div id="meta_content"><a id="js_name">爱否科技</a><em id="publish_time"></em></div>
<div class="rich_media_content" id="js_content" style="visibility: hidden;">{body}</div>
<div id="js_pc_qr_code">微信扫一扫关注该公众号</div></div>
<script>var nickname = "爱否科技"; var ct = {script_time}; var msg_title = "三星新一代旗舰手机正式发布";</script>
</body></html>"""


def test_an_account_article_is_dated_by_its_script_in_beijing_time():
    fields = sites.extract(LONG, account_page())
    assert fields["site"] == "weixin" and fields["lang"] == "zh"
    assert fields["date"] == "2020-02-12 22:17:54"  # 1581517074 is 14:17:54 UTC
    assert fields["title"] == "三星新一代旗舰手机正式发布"
    assert all(p in "\n".join(b["text"] for b in fields["blocks"]) for p in STORY)


def test_the_headline_from_the_script_and_no_date_without_one():
    fields = sites.extract(LONG, account_page(script_time='""', title_tag=False))
    assert fields["title"] == "三星新一代旗舰手机正式发布"
    assert fields["date"] == ""


def test_every_share_link_of_one_message_is_one_article():
    other_share = ("https://mp.weixin.qq.com/s?__biz=MzA3NDM0ODQwMw%3D%3D&mid=2649827010&idx=2&sn=0b1c2f8e9d"
                   "&scene=0&sessionid=1700000000&subscene=10000&from=timeline")
    assert sites.article_key(LONG) == sites.article_key(other_share) == "weixin:MzA3NDM0ODQwMw==:2649827010:2"
    assert sites.article_key(LONG.replace("idx=2", "idx=1")) != sites.article_key(LONG)  # another of the message
    assert sites.article_key("https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOp") == "weixin:s:AbCdEfGhIjKlMnOp"
    assert weixin.same_article(LONG, other_share) is True
    assert weixin.same_article(LONG, LONG.replace("mid=2649827010", "mid=2649827011")) is False
    # a verification page in front of the article is for the other rules (a wall naming the article)
    captcha = "https://mp.weixin.qq.com/mp/wappoc_appmsgcaptcha?poc_token=x&target_url=" + LONG.replace("&", "%26")
    assert weixin.same_article(LONG, captcha) is None
    assert identity.sends_back([LONG.split("#")[0]], captcha)


def notice_page(notice: str) -> str:
    """What WeChat serves, as a 200, at the address of an article that is no more."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title></title></head><body>
<div class="weui-msg"><div class="weui-msg__text-area"><h2 class="weui-msg__title">{notice}</h2></div></div>
<script>var msgs = ["该内容已被发布者删除", "此内容因违规无法查看"];</script></body></html>"""


def test_a_notice_in_place_of_the_article_says_it_is_no_more():
    for notice in ("该内容已被发布者删除", "此内容因违规无法查看"):
        assert sites.extract(LONG, notice_page(notice))["removed"] == notice
    # the notices its scripts hold are no notice; nor is an article that quotes one
    assert "removed" not in sites.extract(LONG, account_page())
    quoting = account_page().replace(STORY[1], f"有读者反映，打开链接只看到“该内容已被发布者删除”。{STORY[1]}")
    assert "removed" not in sites.extract(LONG, quoting)


def test_an_account_article_deleted_by_its_account_is_gone_with_the_notice(tmp_path):
    pages = {LONG.split("#")[0]: Page(body=account_page().encode())}
    with crawled(tmp_path, LONG, pages) as (proxy, archive):
        (current,) = (archive / "articles").rglob("*.md")
        before = current.read_bytes()
        pages[LONG.split("#")[0]] = Page(body=notice_page("该内容已被发布者删除").encode())
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 0, result.log[-3000:]
    assert "the site says the article is no more: 该内容已被发布者删除" in result.log
    events = [json.loads(line) for line in (archive / "changes.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == ["archived", "gone"]
    assert "该内容已被发布者删除" in events[-1]["reason"]
    assert current.read_bytes() == before and not (archive / "versions").exists()
