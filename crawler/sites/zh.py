"""Chinese news pages in the generic path: the right block, without the boilerplate.

trafilatura reads Chinese pages well when they are built like Western ones.
Three things go wrong with the rest (bench/extraction_zh.py):

* Table layouts and text split over many short ``<p>``: trafilatura keeps a
  whole layout table (navigation, rankings and footer cells included), or
  takes a longer comment or related-news block for the article.
* Boilerplate that Chinese pages share whatever the site, at the edges of the
  body: 责任编辑/编辑/来源 lines, 相关阅读/相关新闻 lists, share bars
  (分享到 微信 微博), "点击进入" links, copyright notices and disclaimers.

So a second candidate is read from the DOM by the density of prose, the
idea behind CETD and GeneralNewsExtractor (not their code): every block of
text counts for its length when it reads as prose (sentence punctuation, few
links) and against it otherwise (menus, link lists, labels); the element
whose subtree sums highest is the article's container. Chinese text has a
punctuation mark every few characters, menus and link lists have none, which
makes the sign reliable. Then both candidates are judged by the same measure
and the better taken; the boilerplate lines are dropped from the edges of the
text. No rule names a site.
"""

from __future__ import annotations

import re

from crawler.sites.blocks import BLOCK_TAGS, SKIP_TAGS, blocks_from_element
from crawler.sites.pagemeta import normalize_time

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Sentence punctuation of Chinese prose (full width), and the Latin marks
#: that old pages use in its place.
PROSE_PUNCT = re.compile(r"[，。！？；：、“”‘’（）《》…,.!?;]")
#: Under this many characters a line is prose only if it ends a sentence.
SHORT_LINE_CHARS = 40
SENTENCE_END = re.compile(r"。|[。！？!?…；;.，、：][”’」』）)]?\s*$")
#: Share of CJK characters over which a text is treated as Chinese...
CHINESE_SHARE = 0.3
#: ... unless this share of it is kana: Japanese, which these rules do not know.
KANA = re.compile(r"[\u3040-\u30ff]")
KANA_SHARE = 0.05
#: A block of text reads as prose with at least one punctuation mark per this many characters.
CHARS_PER_PUNCT = 40
#: Blocks whose text is more than this share links are navigation.
LINK_SHARE = 0.5
#: A paragraph this long met a second time is a copy, not more article.
REPEAT_MIN_CHARS = 20
#: A table cell this long holds running text: its table is layout, not data.
LAYOUT_CELL_CHARS = 80
TABLE_FILL = re.compile(r"(?:\s*\|\s*|[\s\u3000\xa0]{2,})+")
#: Class or id words of the blocks around an article (never inside it).
CHROME_NAME = re.compile(
    r"(?:^|[\s_-])(?:comments?|comment-?list|reply|replies|related|relate|recommend\w*|rank\w*|hot-?news|"
    r"share\w*|footer|sidebar|nav\w*|breadcrumbs?|crumbs?|copyright|disclaimer|pagination|pager|"
    # the pinyin names Chinese templates use: 评论, 相关新闻/阅读/文章, 推荐, 排行(榜), 分享, 版权, 免责
    # (not the two-letter ones: "pl-4" is a padding class)
    r"pinglun|plist|xgxw|xgyd|xgwz|xgtj|tuijian|paihang|phb|fenxiang|bdshare\w*|jiathis\w*|banquan|mianze)"
    r"(?:$|[\s_-])", re.I)
#: blocks.py walks a container recursively; deeper ones are left to trafilatura.
MAX_WALK_DEPTH = 400
#: Elements never part of an article, by their tag.
CHROME_TAGS = {"nav", "header", "footer", "aside", "menu", "select", "option"} | SKIP_TAGS

#: Labels that start a line of credits or provenance, not article text.
_CREDIT = (r"责任编辑|责编|编辑|主编|审核|审校|校对|监制|统筹|策划|值班编辑|实习编辑|本文编辑|网络编辑|"
           r"来源|文章来源|本文来源|稿件来源|信息来源|新闻来源|图片来源|摄影|记者|通讯员|作者|撰稿|原标题|"
           r"出处|发布时间|发布日期|更新时间|时间|日期|浏览次数|阅读量|点击数|点击量|字号|关键词|标签|"
           r"采写|出品|排版|美编|制图|视觉|设计|文字|图片|视频|文|图")
#: A label then its names: "编辑：…", and as magazine-style credits write it, "编辑 | …", "文丨…".
CREDIT_LINE = re.compile(rf"^[\s|【\[（(]*(?:{_CREDIT})\s*(?:[：:︰]|[|丨｜/]\s*(?=\S))[^。！？?!，,]*$")
#: A credit line is short; a long one is a sentence that happens to start so.
CREDIT_MAX_CHARS = 60
#: Headings of the lists that follow an article; from one of them on, nothing is the article.
TAIL_HEADING = re.compile(
    r"^[\s【\[（(>·•]*(?:相关(?:阅读|新闻|报道|链接|文章|推荐|专题|资讯|内容|视频|搜索)|延伸阅读|推荐阅读|扩展阅读|"
    r"热门(?:推荐|文章|新闻|阅读|排行|评论)|精彩推荐|精彩(?:图片|专题)|猜你喜欢|为你推荐|你可能(?:还)?(?:喜欢|感兴趣)|"
    r"更多(?:精彩|新闻|内容|相关)|往期(?:回顾|推荐)|今日(?:推荐|热点)|热点(?:推荐|新闻|排行)|排行榜|新闻排行|"
    r"(?:24小时|一周|本周|今日)(?:热门|排行|热点)|网友评论|我要评论|发表评论|最新评论|热门评论|评论列表|上一篇|下一篇|"
    r"延伸推荐|推荐|小编推荐|编辑推荐|(?:网友|热门|最新)?跟[贴帖]|精选留言|写留言|"
    r"免责声明|版权声明|特别声明|郑重声明|反侵权公告|版权公告|侵权声明)"
    r"[\s】\]）)：:>]*")
#: A list heading ends the article only after this much prose (before, it is
#: a heading of the page's chrome above the article).
TAIL_AFTER_CHARS = 80
#: The disclaimer a comment section opens with ("网友评论仅供其表达个人看法，并不表明某网立场"):
#: a tail heading however long.
COMMENTS_OPENER = re.compile(r"^(?:网友|读者)?(?:评论|跟[贴帖]|留言).{0,6}(?:仅供|仅代表|只代表|不代表|并不代表|不表明|并不表明)")
#: A comment section's count, the heading it opens with ("《标题》已有3条评论", "共128条评论",
#: "评论（12）"): a tail heading, the title in it included (up to CREDIT_MAX_CHARS in all).
COMMENT_COUNT = re.compile(r"(?:^|已有|共有|共|有)\d+(?:条|件|个)?(?:评论|留言|回复|跟[贴帖])[:：]?$"
                           r"|^(?:网友)?(?:评论|留言|跟[贴帖])[（(]\d+[）)][:：]?$")
#: An account's prompts (scan or press its QR code, follow it, reply a keyword,
#: tap "在看"): where they come after the article's text, it has ended there
#: (the account's own blurb and lists follow); above it, they are dropped.
ACCOUNT_PROMPT = re.compile(
    r"^(?:.{0,12}(?:扫描|扫码|长按|识别).{0,10}二维码.{0,24}"
    r"|.{0,16}关注.{0,16}(?:公众号|微信号).{0,16}"
    r"|\d{0,2}[、.]?\s*回复【[^】]{1,12}】.{0,24}"
    r"|.{0,16}点(?:击|个)?【?在看】?.{0,16})$")
#: What a list or a table cell row starts with as trafilatura writes it ("- ", "| "): not part of the words.
LIST_MARK = re.compile(r"^(?:[-*•]\s+|\|\s*)+")
#: Whole lines of chrome anywhere in the body: share bars, print/close links,
#: font-size switches, "click to enter" links, copyright and reprint notices.
CHROME_LINE = re.compile(
    r"^(?:[\s|·•【】\[\]]*(?:分享到|分享至|一键分享|扫一扫|微信扫一扫|扫描二维码|微信|微博|QQ空间|朋友圈|新浪微博|腾讯微博|豆瓣|"
    r"人人网|复制链接|收藏|打印|关闭|关闭窗口|打印本页|返回顶部|回到顶部|我要纠错|纠错|举报|点赞|评论|条评论|"
    r"大|中|小|字号|【大\s*中\s*小】|默认|A\+|A-)[\s|·•:：【】\[\]]*)+$"
    r"|^.{0,30}(?:点击进入|点击查看|点击阅读|阅读原文|点击图片进入下一页|点击这里|进入专题|查看原文|点击注册|点击下载|点击订阅)"
    r"[^。！？]{0,30}$"
    r"|^.{0,300}(?:ICP备|ICP证|版权所有|版權所有|未经(?:授权|许可|书面授权).{0,20}(?:转载|使用|复制)|转载请注明|不得转载|"
    r"All Rights Reserved|Copyright\s*©|©\s*\d{4}|本文(?:系|为)转载|本网站?(?:所刊载|注明)|凡本网注明|"
    r"不代表.{0,24}(?:观点|立场)|不表明.{0,24}立场|仅代表作者.{0,6}观点|转(?:发|载)请注明|"
    r"仅供(?:参考|读者参考)|如有侵权|侵权行为|转载申请|禁止.{0,4}转载|"
    r"许可证编号|举报电话|违法和不良信息).{0,300}$"
    r"|^[\s|·•]*(?:更多|专题|more)\s*(?:>>|»|>|›)?[\s|·•]*$"
    # statements of the platform (特别声明：…, 新浪声明：…), the original headline,
    # the neighbours' links, "back to the portal for more"
    r"|^[\s【\[（(]*[^\s，。：:]{0,6}声明\s*[：:】\]]"
    r"|^[\s【\[（(]*原标题\s*[：:].{0,80}$"
    r"|^[\s【\[]*(?:上一篇|下一篇|上一页|下一页)[\s】\]]*[：:]?.{0,60}$"
    r"|^.{0,10}返回.{0,8}查看更多.{0,10}$",
    re.I | re.S)


#: Buttons of a share bar; a short line with two of them is the bar.
SHARE_WORD = re.compile(r"分享|微信|微博|QQ好友|QQ空间|朋友圈|复制链接|扫一扫|二维码|手机看|手机(?:上)?(?:打开|阅读|浏览)|收藏|打印")
SHARE_BAR_MAX_CHARS = 40


def is_chrome(text: str) -> bool:
    """A share bar, a "click to enter" link, a copyright or disclaimer line."""
    text = text.strip()
    if CHROME_LINE.search(text):
        return True
    return len(text) <= SHARE_BAR_MAX_CHARS and len(SHARE_WORD.findall(text)) >= 2


#: What ``str.isspace`` calls white space (``\s`` in a str pattern is the same test).
SPACES = re.compile(r"\s+")


def cjk_share(text: str) -> float:
    """Han characters among the characters that are not white space."""
    chars = len(SPACES.sub("", text))  # in C, not a Python test per character
    return len(CJK.findall(text)) / chars if chars else 0.0


def is_chinese(text: str) -> bool:
    """Mostly Han characters, and not Japanese (kana among them)."""
    if cjk_share(text) < CHINESE_SHARE:
        return False
    return len(KANA.findall(text)) <= KANA_SHARE * len(text)


def prose_like(text: str) -> bool:
    """Whether a line reads as sentences rather than a label or a menu."""
    text = _compact(text)
    if len(text) < 6:
        # but an opening clause of a sentence split over several <p> ("今年以来，")
        return len(text) >= 4 and text[-1] in "，、" and len(CJK.findall(text)) >= 3
    marks = len(PROSE_PUNCT.findall(text))
    if not (marks >= 1 and marks * CHARS_PER_PUNCT >= len(text)):
        return False
    # a short line must end a sentence or a clause (a sentence split over
    # several <p>), or be a bracketed credit such as "（记者 某某）": headlines
    # and related-news titles have commas inside, not at their end
    return len(text) >= SHORT_LINE_CHARS or bool(SENTENCE_END.search(text)) or text[0] in "（(【["


def _compact(text: str) -> str:
    """The line's characters as a reader counts them: no layout white space,
    no table-cell bars (trafilatura writes layout tables as ``| a | b |``)."""
    return TABLE_FILL.sub(" ", text).strip()


def line_value(text: str) -> float:
    """What a line is worth to an article: its length if it reads as prose,
    minus its length if it does not (a menu, a list of titles, a label)."""
    n = len(_compact(text))
    if is_chrome(text) or (n <= CREDIT_MAX_CHARS and CREDIT_LINE.search(text)):
        return -n
    return n if prose_like(text) else -0.5 * n


def text_quality(lines: list[str]) -> float:
    return sum(line_value(line) for line in lines)


# --- the densest container ----------------------------------------------------------

def _tag(element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _hidden(element) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or element.get("hidden") is not None


def _chrome_element(element) -> bool:
    """Comments, related lists, rankings, share bars, footers: by the names
    pages give them (whole words of class and id), or by the heading they
    open with (网友评论, 相关新闻 ...). A comment block is often longer than
    the article and as much prose: its name or heading is what tells."""
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    if names.strip() and CHROME_NAME.search(names):
        return True
    first = (element.text or "").strip()
    if not first and len(element):
        child = element[0]
        first = (child.text_content() if isinstance(child.tag, str) else "").strip()
    first = re.sub(r"[\s|]+", "", first)
    return bool(first) and len(first) <= 20 and bool(TAIL_HEADING.match(first))  # "网友评论（128）"


def block_scores(body) -> dict:
    """Every block element of ``body`` with the sum of the block values in its subtree.

    A block's own text (its text, its inline children's, and the tails) is
    one line; nested block elements are lines of their own, added to their
    ancestors' sums; a comment or related block counts against its parent
    and is never a candidate. Iterative, not recursive: a page nested
    thousands of levels deep must not exhaust Python's stack (a
    RecursionError caught inside lxml left it stalling on the next page).
    """
    own: dict = {}  # block -> [text pieces, characters inside links]
    parent: dict = {}
    penalty: dict = {}
    order: list = []
    stack: list = [("element", body, None, False)]
    while stack:
        kind, item, owner, in_link = stack.pop()
        if kind == "tail":
            own[owner][0].append(item)
            if in_link:
                own[owner][1] += len(item.strip())
            continue
        tag = _tag(item)
        if not tag or tag in CHROME_TAGS or _hidden(item):
            continue  # a comment, a script, a hidden or chrome element: its text is no line
        if item is body or tag in BLOCK_TAGS:
            if item is not body and _chrome_element(item):
                penalty[owner] = penalty.get(owner, 0.0) - len(_compact(item.text_content()))
                continue
            parent[item], owner = owner, item
            own[item] = [[], 0]
            order.append(item)
        linked = in_link or tag == "a"
        if item.text:
            own[owner][0].append(item.text)
            if linked:
                own[owner][1] += len(item.text.strip())
        for child in reversed(item):  # popped in document order, each child before its tail
            if child.tail:
                stack.append(("tail", child.tail, owner, linked))
            stack.append(("element", child, owner, linked))
    totals: dict = {}
    for block in order:
        text = "".join(own[block][0]).strip()
        value = 0.0
        if text:
            value = -len(text) if own[block][1] > LINK_SHARE * len(text) else line_value(text)
        totals[block] = value + penalty.get(block, 0.0)
    for block in reversed(order):  # children come after their parents in document order
        if parent[block] is not None:
            totals[parent[block]] += totals[block]
    return totals


def densest_container(tree):
    """The element whose text sums highest as prose, or None."""
    bodies = tree.xpath("//body")
    if not bodies:
        return None
    scores = block_scores(bodies[0])
    best = max(scores.items(), key=lambda item: item[1], default=(None, 0))
    return best[0] if best[1] > 0 else None


def _depth(node) -> int:
    """How many levels the subtree under ``node`` nests (iteratively)."""
    deepest, stack = 0, [(node, 0)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest


def density_lines(tree, base_url: str, node=None) -> list[str]:
    """The text lines of the densest container (headings and all), a block's
    ``<br>``-separated lines apart, as trafilatura's are (the boilerplate
    rules judge a line: an account's prompts after the article's last line
    are no part of it); none when it nests deeper than the block walker's
    recursion can go."""
    node = densest_container(tree) if node is None else node
    if node is None or _depth(node) > MAX_WALK_DEPTH:
        return []
    return [line.strip() for b in blocks_from_element(node, base_url) if b["type"] == "text"
            for line in b["text"].split("\n") if line.strip()]


def chrome_text(tree, article=None) -> str:
    """The compacted text of the page's comment, related-news, share and
    footer blocks (by name or opening heading), leaving out any that holds
    ``article`` (a wrapper's name is no verdict on what it wraps)."""
    parts = []
    for element in tree.xpath("//body//*"):
        if _tag(element) in BLOCK_TAGS and _chrome_element(element):
            if article is not None and (element is article or article in element.iterdescendants()):
                continue
            parts.append(_compact(element.text_content()))
    return "\n".join(parts)


def share_inside(lines: list[str], text: str) -> float:
    """The share of the prose in ``lines`` that is found in ``text``."""
    prose = [_compact(line) for line in lines if prose_like(line)]
    total = sum(len(line) for line in prose)
    return sum(len(line) for line in prose if line in text) / total if total else 0.0


def best_span(lines: list[str]) -> list[str]:
    """The run of consecutive lines worth most (the maximum-sum run of
    ``line_value``): the article without the menus, dates and link lists
    before it and the rankings and calendars after it; a short label
    between two paragraphs stays when the paragraphs outweigh it."""
    best, best_range = 0.0, (0, 0)
    running, start = 0.0, 0
    for i, line in enumerate(lines):
        if running <= 0:
            running, start = 0.0, i
        running += line_value(line)
        if running > best:
            best, best_range = running, (start, i + 1)
    return lines[best_range[0]:best_range[1]]


def layout_cells(lines: list[str]) -> list[str]:
    """trafilatura's rows of a layout table (``| menu | the article | links |``)
    as one line per cell, so that the article cell and the related-news cell
    are judged apart. A row of short cells (a data table) stays a row."""
    out: list[str] = []
    for line in lines:
        cells = [cell.strip() for cell in line.split("|")] if "|" in line else []
        cells = [cell for cell in cells if cell and cell.strip("-: ")]
        layout = any(len(_compact(cell)) >= LAYOUT_CELL_CHARS for cell in cells) or any(
            TAIL_HEADING.fullmatch(cell) or is_chrome(cell) for cell in cells)
        out.extend(cells if len(cells) > 1 and layout else [line])
    return out


# --- boilerplate at the edges ---------------------------------------------------------

def strip_boilerplate(lines: list[str], title: str = "") -> list[str]:
    """Lines without Chinese boilerplate: everything from the first heading
    of a related-news or comment list on (once at least a line of article
    came before), and every credit, share-bar, copyright or "click to
    enter" line, and a paragraph met a second time."""
    out: list[str] = []
    seen: set[str] = set()
    for line in lines:
        text = line.strip()
        if not text or (len(text) >= REPEAT_MIN_CHARS and text in seen):
            continue  # a paragraph twice is a copy (a print or mobile version in the page), not the article
        seen.add(text)
        text = LIST_MARK.sub("", text) or text  # "- 责任编辑：…" in a layout list item
        key = re.sub(r"[\s|·•・]+", "", text)  # "| 热门评论 |", "郑 重 声 明", "延伸 · 推荐"
        if TAIL_HEADING.fullmatch(key) or (TAIL_HEADING.match(key) and len(key) <= 20) \
                or ((COMMENTS_OPENER.match(key) or COMMENT_COUNT.search(key)) and len(key) <= CREDIT_MAX_CHARS) \
                or ACCOUNT_PROMPT.match(text):
            if sum(len(_compact(kept)) for kept in out if prose_like(kept)) >= TAIL_AFTER_CHARS:
                break
            continue
        if is_chrome(text) or is_chrome(key):
            continue
        if len(text) <= CREDIT_MAX_CHARS and CREDIT_LINE.search(text):
            continue
        out.append(line)
    return out


# --- the headline ---------------------------------------------------------------------

#: Between a headline and the channel and site names in a page title: "_", "|",
#: "｜", "»", a dash with spaces around it, or a hyphen between two Chinese
#: characters ("标题-搜狐财经"; not the one in "COVID-19", nor the "——" of a
#: headline itself).
TITLE_SEPARATOR = re.compile(
    r"\s*(?:_+|[|｜»]|\s[—–-]{1,2}\s|-{2,}|\s·\s|(?<=[\u4e00-\u9fff”」）)])-(?=[\u4e00-\u9fff]))\s*")
#: A headline segment must hold this share of the whole page title.
HEADLINE_SHARE = 0.4


def headline(tree, title: str) -> str:
    """The article's headline, without the channel and site names that page
    titles carry ("标题_财经频道_某某网"): an ``<h1>`` that the page title
    (or og:title) contains, else the longest segment of the title."""
    own = [t.strip() for t in [*tree.xpath("//title//text()"), *tree.xpath("//meta[@property='og:title']/@content")]
           if t and t.strip()]
    titles = [t for t in [(title or "").strip(), *own] if t]
    if not titles:
        return title
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    for h1 in tree.xpath("//h1"):
        # the page's own titles say it, not trafilatura's, which may be this h1 (a logo's)
        text = re.sub(r"\s+", " ", h1.text_content()).strip()
        if len(squash(text)) >= 4 and any(squash(text) in squash(t) for t in own):
            return text
    full = titles[0]
    if own and titles[0] not in own and _unrelated(titles[0], own[0]):
        full = own[0]  # trafilatura took a heading the page's title does not name: a related list's, a logo's
    segments = [seg for seg in TITLE_SEPARATOR.split(full) if seg.strip()]
    if len(segments) > 1:
        longest = max(segments, key=len)
        if len(longest) >= HEADLINE_SHARE * len(full):
            return longest.strip()
    return full


def _unrelated(heading: str, page_title: str) -> bool:
    """Whether a heading trafilatura took for the headline is another text
    than the page's own ``<title>``: neither holds the other, and the title's
    longest segment is a Chinese headline's length, not a site's name or
    address alone."""
    a, b = re.sub(r"\s+", "", heading), re.sub(r"\s+", "", page_title)
    if not a or a in b or b in a:
        return False
    longest = max((seg.strip() for seg in TITLE_SEPARATOR.split(page_title)), key=len, default="")
    return len(longest) >= UNRELATED_TITLE_SHARE * len(heading) and is_chinese(longest)


#: The page's own title replaces an unrelated heading when its longest segment
#: is at least this share of the heading's length (a site's name alone is not).
UNRELATED_TITLE_SHARE = 0.5


#: A date as a Chinese byline writes it: 2005年3月21日 11:21, 2005-03-21 11:21:05, 2005/3/21.
#: The page's text has no spaces left (``_page_text``): a day is followed by
#: 日 or 号, by no digit, or by a time glued to it (2005-03-2111:21).
BYLINE_DATE = re.compile(r"((?:19|20)\d{2})(?:年|[-/.])(\d{1,2})(?:月|[-/.])(\d{1,2})(?=[日号]|\D|$|\d{1,2}[:：]\d\d)[日号]?"
                         r"(?:(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?")
#: How far after the headline a byline's date is looked for (characters, spaces out).
BYLINE_CHARS = 300
#: How close above the headline an e-paper's issue date is (its weekday and page between).
ISSUE_DATE_GAP = 12
#: A portal's date of today, in its header: never the article's.
TODAY = re.compile(r"(?:今天|今日|当前日期|现在时间)(?:是|为)?[：:]?$")


def _page_text(tree) -> str:
    """The body's text in document order without code or white space."""
    root = tree.find("body")
    parts = []
    for element in (root if root is not None else tree).iter():
        if isinstance(element.tag, str) and element.tag not in SKIP_TAGS and element.text:
            parts.append(element.text)
        if element.tail:
            parts.append(element.tail)
    return SPACES.sub("", "".join(parts))


def byline_date(tree, headline: str, first_line: str) -> str | None:
    """The date written between the headline and the body ("2005年03月21日
    11:21 来源：新华网"), as ``YYYY-MM-DD HH:MM:SS``; None when there is none
    there. Many Chinese pages date an article only there, in no meta tag;
    the rest of the page holds other dates (related news, the copyright
    line, a portal's date of today), so only that stretch is read: at most
    ``BYLINE_CHARS`` after the headline's last appearance before the body, or
    an e-paper's issue date just above it."""
    text = _page_text(tree)
    head, body = SPACES.sub("", headline), SPACES.sub("", first_line)[:20]
    end = text.find(body) if body else -1
    # the headline's appearances before the body, the nearest first (menus
    # and e-paper indexes repeat it); without a body found, its first
    starts = [m.start() for m in re.finditer(re.escape(head[:20]), text[:end] if end > 0 else text)] if head else []
    match = None
    for start in (reversed(starts) if end > 0 else starts[:1]):
        stretch = text[start + len(head):end if end > start else None][:BYLINE_CHARS]
        match = next((m for m in BYLINE_DATE.finditer(stretch) if not TODAY.search(stretch[:m.start()])), None)
        if match:
            break
    if match is None and end > 0 and starts:
        # an e-paper's: the issue's date just above the headline ("2005年03月21日
        # 星期一 第A01版"), never a portal's date of today further up
        above = text[max(0, starts[-1] - ISSUE_DATE_GAP - 20):starts[-1]]
        found = [m for m in BYLINE_DATE.finditer(above) if len(above) - m.end() <= ISSUE_DATE_GAP
                 and not TODAY.search(above[:m.start()])]
        match = found[-1] if found else None
    if match is None:
        return None
    year, month, day, hour, minute, second = match.groups()
    written = f"{year}-{int(month):02d}-{int(day):02d}" + (f" {hour}:{minute}:{second or '00'}" if hour else "")
    return normalize_time(written)
