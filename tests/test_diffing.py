"""Article diffs: paragraph pairing, character/word marks, counts, renderings."""

import re

import pytest
from lxml import etree
from lxml import html as lxml_html

from crawler.core import digest
from crawler.core.digest import text_digest
from crawler.diff import compare as diffing
from crawler.diff.compare import diff_articles
from crawler.diff.html import render_html
from crawler.diff.text import render_text
from tests.conftest import SEEDS

SEED = (SEEDS / "000_916c35625ed2f8d3.txt").read_text(encoding="utf-8")
# seed 000 writes 营利 twice and 盈利 once: the kind of one-character correction an editor makes
TYPO, FIXED = "非盈利AI机构", "非营利AI机构"
CAPTURE = ('fetched_url: "https://new.qq.com/rain/a/20250213A06E5300"\n'
           'warc_file: "crawler-20250301120000000-00000-host.warc.gz"\n'
           'warc_record_id: "<urn:uuid:%s>"\nwarc_date: "%s"\nextractor: "qq"\n')

ENGLISH = """---
title: "Joe Tsai says AI race will have no single winner"
date: "2025-03-26 10:00:00"
lang:
  - "en"
---

Alibaba Group chairman Joe Tsai said the race to build artificial intelligence will not produce a single winner, arguing that the speed of adoption matters more than the raw capability of any one model.

Speaking at an investment conference this week, Tsai said open-source models released by Chinese companies had narrowed the gap with their American rivals and lowered the cost for businesses that want to build their own applications.

He pointed to the company's Qwen family of models, which developers have downloaded millions of times, as evidence that smaller models tuned for specific tasks can compete with far larger systems.

Tsai also warned that spending on data centres in the United States was running ahead of demand, saying he had started to see the beginnings of a bubble in the construction of computing infrastructure.

[scmp](https://www.scmp.com/tech/article/3303769/joe-tsai-ai-race)
"""


def with_capture(text, record="11111111-1111-1111-1111-111111111111", date="2025-03-01T12:00:00Z"):
    """The text with the crawler's capture keys added to its front matter."""
    head, sep, body = text.partition("\n---\n")
    return head + "\n" + (CAPTURE % (record, date)).rstrip("\n") + sep + body


def paragraphs(text):
    return digest.article_parts(text)[1]


def html_marks(page):
    doc = lxml_html.document_fromstring(page.encode("utf-8"))
    return ([d.text_content() for d in doc.iter("del")], [i.text_content() for i in doc.iter("ins")])


def test_chinese_one_character_correction_is_marked_at_character_level():
    assert SEED.count(TYPO) == 1
    diff = diff_articles(SEED, SEED.replace(TYPO, FIXED))
    paras = paragraphs(SEED)
    index = next(i for i, p in enumerate(paras) if TYPO in p)

    assert diff.changed and diff.front_matter == []
    assert [op.tag for op in diff.ops] == ["equal"] * index + ["replace"] + ["equal"] * (len(paras) - index - 1)
    changed = diff.ops[index]
    assert changed.mode == "char"
    assert [s for s in changed.segments if s[0] != "equal"] == [("delete", "盈"), ("insert", "营")]
    assert diff.counts == {"paragraphs_added": 0, "paragraphs_removed": 0, "paragraphs_changed": 1,
                           "chars_added": 1, "chars_removed": 1, "front_matter_changed": 0}

    plain = render_text(diff, color=False, old_label="v1", new_label="v2")
    lines = plain.splitlines()
    n = index + 1
    assert lines[:3] == ["--- v1", "+++ v2", f"@@ -{n - 1},3 +{n - 1},3 @@"]
    assert lines[3] == " " + paras[index - 1]
    assert lines[4] == "~" + paras[index].replace("盈利", "[-盈-]{+营+}利")
    assert lines[5] == " " + paras[index + 1]
    assert len(lines) == 6
    assert re.findall(r"\[-(.*?)-\]|\{\+(.*?)\+\}", plain) == [("盈", ""), ("", "营")]

    colored = render_text(diff, color=True)
    assert "\x1b[1;7;31m盈\x1b[0m" in colored and "\x1b[1;7;32m营\x1b[0m" in colored
    assert "[-" not in colored
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored).count("\n-") == 1

    page = render_html(diff, "2025-02-13 capture", "2025-03-01 capture")
    assert html_marks(page) == (["盈"], ["营"])


def test_english_word_change_is_marked_at_word_level():
    new = ENGLISH.replace("open-source models released", "open-source model released")
    diff = diff_articles(ENGLISH, new)
    (changed,) = [op for op in diff.ops if op.tag != "equal"]
    assert changed.mode == "word"
    assert [s for s in changed.segments if s[0] != "equal"] == [("delete", "models"), ("insert", "model")]
    assert diff.counts["chars_removed"] == 6 and diff.counts["chars_added"] == 5
    plain = render_text(diff, color=False)
    assert "open-source [-models-]{+model+} released" in plain
    assert html_marks(render_html(diff, "old", "new")) == (["models"], ["model"])


def test_adjacent_word_changes_read_as_one_change():
    new = ENGLISH.replace("single winner, arguing", "lone victor, saying")
    plain = render_text(diff_articles(ENGLISH, new), color=False)
    assert "a [-single winner, arguing-]{+lone victor, saying+} that" in plain


def test_latin_word_in_chinese_paragraph_is_marked_by_character():
    old = "马斯克也喊出豪言：我们有信心Grok 3会比其他任何AI都强。"
    segments = diffing.inline_diff(old, old.replace("Grok 3", "Grok 4"))
    assert diffing.diff_mode(old, old) == "char"
    assert [s for s in segments if s[0] != "equal"] == [("delete", "3"), ("insert", "4")]


def test_paragraph_inserted_between_others():
    paras = paragraphs(SEED)
    anchor = paras[5]
    added = "马斯克此前曾多次表示，xAI将在年内推出更强大的模型。"
    diff = diff_articles(SEED, SEED.replace(anchor + "\n\n", anchor + "\n\n" + added + "\n\n"))
    assert [op.tag for op in diff.ops].count("equal") == len(paras)
    (op,) = [op for op in diff.ops if op.tag != "equal"]
    assert (op.tag, op.old_index, op.new_index, op.new) == ("insert", None, 6, added)
    assert diff.counts == {"paragraphs_added": 1, "paragraphs_removed": 0, "paragraphs_changed": 0,
                           "chars_added": len(added), "chars_removed": 0, "front_matter_changed": 0}
    lines = render_text(diff, color=False, context=1).splitlines()
    assert lines[2:] == ["@@ -6,2 +6,3 @@", " " + anchor, "+" + added, " " + paras[6]]
    assert render_text(diff, color=False, context=0).splitlines()[2:] == ["@@ -6,0 +7 @@", "+" + added]
    assert html_marks(render_html(diff, "a", "b")) == ([], [added])


def test_paragraph_removed():
    paras = paragraphs(SEED)
    gone = paras[8]
    diff = diff_articles(SEED, SEED.replace("\n\n" + gone, ""))
    (op,) = [op for op in diff.ops if op.tag != "equal"]
    assert (op.tag, op.old_index, op.new_index) == ("delete", 8, None)
    assert diff.counts == {"paragraphs_added": 0, "paragraphs_removed": 1, "paragraphs_changed": 0,
                           "chars_added": 0, "chars_removed": len(gone), "front_matter_changed": 0}
    lines = render_text(diff, color=False, context=2).splitlines()
    assert lines[2:] == ["@@ -7,5 +7,4 @@", " " + paras[6], " " + paras[7], "-" + gone,
                         " " + paras[9], " " + paras[10]]
    assert html_marks(render_html(diff, "a", "b")) == ([gone], [])


def test_changed_and_inserted_in_one_block_are_paired_by_similarity():
    paras = paragraphs(SEED)
    edited = paras[4].replace("谈谈", "聊聊")
    assert edited != paras[4]
    added = "对此，马斯克并未给出具体的发布日期。"
    new = SEED.replace(paras[4], added + "\n\n" + edited)
    diff = diff_articles(SEED, new)
    changes = [(op.tag, op.old_index, op.new_index) for op in diff.ops if op.tag != "equal"]
    assert changes == [("insert", None, 4), ("replace", 4, 5)]
    assert diff.counts == {"paragraphs_added": 1, "paragraphs_removed": 0, "paragraphs_changed": 1,
                           "chars_added": len(added) + 2, "chars_removed": 2, "front_matter_changed": 0}


def test_rewritten_paragraph_is_removed_and_added():
    paras = paragraphs(SEED)
    rewrite = "本段内容已由编辑完全改写，与原文没有相同之处。"
    diff = diff_articles(SEED, SEED.replace(paras[4], rewrite))
    assert [op.tag for op in diff.ops if op.tag != "equal"] == ["delete", "insert"]
    assert diff.counts["paragraphs_changed"] == 0


def test_front_matter_only_change():
    old = with_capture(SEED)
    new = with_capture(SEED.replace('title: "马斯克、蔡崇信', 'title: "马斯克和蔡崇信')
                       .replace('thumbnail: "https://inews.gtimg.com/om_ls/', 'thumbnail: "https://inews.gtimg.com/om_ls2/'),
                       record="22222222-2222-2222-2222-222222222222", date="2025-03-02T08:00:00Z")
    diff = diff_articles(old, new)
    assert diff.changed
    assert [key for key, _, _ in diff.front_matter] == ["title", "thumbnail"]
    assert diff.front_matter[0] == ("title", "马斯克、蔡崇信亮相迪拜WGS大会 接力发布AI大消息",
                                    "马斯克和蔡崇信亮相迪拜WGS大会 接力发布AI大消息")
    assert diff.counts == {"paragraphs_added": 0, "paragraphs_removed": 0, "paragraphs_changed": 0,
                           "chars_added": 0, "chars_removed": 0, "front_matter_changed": 2}
    assert diff.hunks() == []
    lines = render_text(diff, color=False).splitlines()
    assert lines[2:] == ["@@ front matter @@",
                         '~title: "马斯克[-、-]{+和+}蔡崇信亮相迪拜WGS大会 接力发布AI大消息"',
                         '~thumbnail: "https://inews.gtimg.com/[-om_ls-]{+om_ls2+}/'
                         'OuHxYgbOh2Qmw0rTgRURagQ7UCpTiXy8nDU0bCQCKBhzQAA_640360/0"']
    assert html_marks(render_html(diff, "a", "b")) == (["、", "om_ls"], ["和", "om_ls2"])


def test_front_matter_key_added_and_removed():
    old = SEED.replace('lead: ""\n', "")
    new = SEED.replace('mathjax: false\n', "")
    diff = diff_articles(old, new)
    assert diff.front_matter == [("mathjax", False, None), ("lead", None, "")]
    assert render_text(diff, color=False).splitlines()[2:] == [
        "@@ front matter @@", "-mathjax: false", '+lead: ""']


@pytest.mark.parametrize("color", [False, True])
def test_identical_texts_and_capture_keys_only(color):
    for old, new in [(SEED, SEED), (with_capture(SEED), with_capture(SEED, "33333333-3333-3333-3333-333333333333"))]:
        diff = diff_articles(old, new)
        assert not diff.changed
        assert diff.front_matter == [] and all(op.tag == "equal" for op in diff.ops)
        assert set(diff.counts.values()) == {0}
        assert render_text(diff, color=color, old_label="a", new_label="b") == ""
        assert html_marks(render_html(diff, "a", "b")) == ([], [])
    legacy = SEED.replace("---\n\n", 'url: "https://new.qq.com/rain/a/20250213A06E5300"\n---\n\n', 1)
    assert not diff_articles(SEED, legacy).changed


def test_text_digest_is_the_article_not_the_capture():
    digest = text_digest(SEED)
    assert re.fullmatch(r"t2:[0-9a-f]{64}", digest)  # the algorithm named
    assert text_digest(with_capture(SEED)) == digest
    assert text_digest(with_capture(SEED, "44444444-4444-4444-4444-444444444444", "2026-01-01T00:00:00Z")) == digest
    # layout is not content: extra blank lines, trailing spaces
    assert text_digest(SEED.replace("\n\n", "\n\n\n").replace("。\n", "。  \n")) == digest
    assert text_digest(SEED.replace(TYPO, FIXED)) != digest
    assert text_digest(SEED.replace('sidebar: "right"', 'sidebar: "left"')) != digest
    # an unquoted YAML date is the same date
    unquoted = SEED.replace('date: "2025-02-13 17:15:08"', "date: 2025-02-13 17:15:08")
    assert text_digest(unquoted) == digest and not diff_articles(SEED, unquoted).changed


def test_html_page_is_self_contained_and_parses_back():
    new = SEED.replace(TYPO, FIXED).replace("所以，马斯克口出狂言后", "所以马斯克口出狂言之后")
    diff = diff_articles(SEED, new)
    page = render_html(diff, "v1 <2025-02-13>", "v2 & fix", title="马斯克 & 蔡崇信")
    etree.fromstring(page.encode("utf-8"))  # well-formed markup, not only tag soup
    doc = lxml_html.document_fromstring(page.encode("utf-8"))
    assert doc.get("lang") == "zh-CN"
    assert doc.find(".//meta").get("charset") == "utf-8"
    assert doc.findtext(".//h1") == "马斯克 & 蔡崇信"
    assert [th.text_content() for th in doc.iter("th")] == ["v1 <2025-02-13>", "v2 & fix"]
    # nothing from outside: no script, style sheet, image or link but to its own anchors
    assert not doc.xpath("//script|//link|//img|//iframe|//*[@src]|//*[@href][not(starts-with(@href, '#'))]")
    assert [a.get("href") for a in doc.xpath("//p[@class='jump']/a")] == ["#change-1", "#change-2"]
    assert [tr.get("id") for tr in doc.xpath("//tr[@id]")] == ["change-1", "change-2"]
    assert html_marks(page) == (["，", "盈"], ["之", "营"])
    rows = doc.xpath("//tbody[@class='body']/tr")
    assert len(rows) == len(diff.ops)  # context=None: the whole article
    for row, op in zip(rows, diff.ops):
        old_cell, new_cell = row.xpath("td[contains(@class,'text')]")
        assert row.get("class") == op.tag
        # the text as the article reads: bold is <strong>, not asterisks
        assert old_cell.text_content() == (op.old or "").replace("**", "")
        assert new_cell.text_content() == (op.new or "").replace("**", "")
    for cell in doc.xpath("//td[contains(@class,'old')]"):
        assert not cell.xpath(".//ins")
    for cell in doc.xpath("//td[contains(@class,'new')]"):
        assert not cell.xpath(".//del")


def test_html_with_context_skips_unchanged_paragraphs():
    diff = diff_articles(SEED, SEED.replace(TYPO, FIXED))
    doc = lxml_html.document_fromstring(render_html(diff, "a", "b", context=1).encode("utf-8"))
    rows = doc.xpath("//tbody[@class='body']/tr")
    assert [r.get("class") for r in rows] == ["skip", "equal", "replace", "equal", "skip"]
    skipped = [int(re.search(r"\d+", r.text_content()).group()) for r in rows if r.get("class") == "skip"]
    assert sum(skipped) + 3 == len(diff.ops)


def test_markdown_without_front_matter():
    old = "第一段。\n\n第二段内容很长，讲述了马斯克的故事。\n\n[web](https://example.com/a)\n"
    diff = diff_articles(old, old.replace("马斯克", "蔡崇信"))
    assert diff.front_matter == [] and diff.counts["paragraphs_changed"] == 1
    assert "[-马斯克-]{+蔡崇信+}" in render_text(diff, color=False)


def test_every_paragraph_touched_still_pairs_paragraphs():
    """A new extractor changing punctuation everywhere: one big replaced block, paired."""
    old = (SEEDS / "004_0f7ec6953a63be2f.txt").read_text(encoding="utf-8")
    new = old.replace("，", ",")
    touched = [p for p in paragraphs(old) if "，" in p]
    diff = diff_articles(old, new)
    assert len(touched) > 50
    assert diff.counts["paragraphs_changed"] == len(touched)
    assert diff.counts["paragraphs_added"] == diff.counts["paragraphs_removed"] == 0
    assert diff.counts["chars_added"] == diff.counts["chars_removed"] == sum(p.count("，") for p in touched)
    assert diff.front_matter == []  # the summary is the body's opening: compared through the body


def test_digests_of_another_algorithm_are_not_compared():
    from crawler.core.digest import same_digest

    digest = text_digest(SEED)
    legacy = "0" * 64  # written before digests named their algorithm: t1's
    assert same_digest("t1:" + legacy, legacy) is True
    assert same_digest(digest, text_digest(SEED.replace(TYPO, FIXED))) is False
    for other in (legacy, "t1:" + digest.split(":", 1)[1], "t3:" + "0" * 64):
        assert same_digest(digest, other) is None  # nothing can be said: never a change


def test_html_diff_reads_as_the_article_with_archived_images_and_folded_paragraphs():
    """Bold as bold, image lines as the archived copies (never the publisher's),
    unchanged paragraphs folded to one line of context, a link back."""
    old = SEED.replace(TYPO, FIXED)
    image = next(p for p in paragraphs(SEED) if p.startswith("!["))
    url = image[image.index("](") + 2:-1]
    diff = diff_articles(SEED, old)
    page = render_html(diff, "a", "b", context=1, images={url: "../../../archived/x.png"},
                       back=("the article", "../../../qq/x/"))
    doc = lxml_html.document_fromstring(page.encode("utf-8"))
    assert doc.xpath("//p[@class='back']/a/@href") == ["../../../qq/x/"]
    assert "**" not in doc.text_content()
    assert doc.xpath("//tr[@class='skip']"), "unchanged paragraphs folded"
    assert len(doc.xpath("//tbody[@class='body']/tr[not(@class='skip')]")) < len(diff.ops)
    full = lxml_html.document_fromstring(render_html(diff, "a", "b", images={url: "../../../archived/x.png"})
                                         .encode("utf-8"))
    assert full.xpath("//img/@src") and set(full.xpath("//img/@src")) == {"../../../archived/x.png"}
    assert full.xpath("//strong"), "bold as bold"
    unknown = lxml_html.document_fromstring(render_html(diff, "a", "b", images={}).encode("utf-8"))
    assert not unknown.xpath("//img") and unknown.xpath("//span[@class='not-archived']")


def test_a_long_field_that_changes_past_the_cut_shows_where_it_changed():
    from crawler.diff.describe import describe_fields

    summary = "财联社2月13日讯（编辑 史正丞）北京时间周四午后，两位科技富豪马斯克、蔡崇信接力亮相迪拜世界政府峰会"
    said = describe_fields([("summary", summary, summary.replace("峰会", "大会"))])
    old, new = said.removeprefix("summary: ").split(" → ")
    assert old != new and "峰会" in old and "大会" in new and old.startswith("“…")
    # short values and a value added or removed read as before
    assert describe_fields([("title", "A", "B")]) == "title: “A” → “B”"
    assert describe_fields([("summary", summary, None)]).endswith("…” → none")


def test_spacing_beside_chinese_text_and_invisible_characters_are_no_edit():
    """t2: a no-break space after "，", pangu-style spaces between Chinese and
    Latin text, zero-width spaces and soft hyphens leave the digest (and the
    diff) as they were; spaces between Korean or English words still count."""
    body = [p for p in paragraphs(SEED) if "，" in p and re.search(r"[A-Za-z]", p)][0]
    respaced = re.sub(r"([\u4e00-\u9fff])([A-Za-z])", r"\1 \2", body.replace("，", "，\xa0"))
    respaced = respaced[:5] + "\u200b" + respaced[5:10] + "\u00ad" + respaced[10:] + "\ufeff"
    assert respaced != body
    edited = SEED.replace(body, respaced)
    assert text_digest(edited) == text_digest(SEED)
    assert not diff_articles(SEED, edited).changed
    title = re.search(r'title: "(.*)"', SEED)[1]
    assert text_digest(SEED.replace(title, title.replace("WGS", " WGS "), 1)) == text_digest(SEED)
    for a, b in [("한국어 문장입니다", "한국어문장입니다"), ("data centre", "datacentre")]:
        assert text_digest(SEED.replace(body, a)) != text_digest(SEED.replace(body, b))
    # a real edit is shown as written, spaces and all
    changed = SEED.replace(body, respaced.replace(respaced[-30:-20], "改动了的一些文字"))
    diff = diff_articles(SEED, changed)
    assert diff.changed
    (op,) = [op for op in diff.ops if op.tag != "equal"]
    assert "，" + " " in op.new and "\u200b" not in op.new


def test_every_invisible_format_character_is_left_out():
    import unicodedata

    invisible = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Cf"]
    assert len(invisible) > 40
    assert digest.INVISIBLE.sub("", "".join(invisible)) == ""
    assert all(unicodedata.category(chr(c)) in ("Cf", "Cn") for c in range(0x10000) if digest.INVISIBLE.match(chr(c)))


def test_a_re_spaced_chinese_paragraph_shows_its_one_real_edit():
    """Spaces beside Chinese text are layout (the digest leaves them out):
    a paragraph re-spaced around a correction showed every added space as
    {+ +}. Only the edit is marked, and a space that splits a number still is."""
    from crawler.diff.compare import inline_diff

    old = "中国的诺贝尔奖揭晓，第一位获奖的女性科学家是王小云，奖金为100万美元。"
    new = "中国的 诺贝尔奖 揭晓，第一位获奖的 女性科学家是 王小云，奖金为10 0万美金。"
    segments = inline_diff(old, new)
    edits = [(tag, text) for tag, text in segments if tag != "equal"]
    assert edits == [("insert", " "), ("delete", "元"), ("insert", "金")], segments
    assert "".join(text for tag, text in segments if tag != "delete") == new  # shown as written
