"""A page whose declared charset is wrong is re-decoded or refused, never archived as mojibake."""

from scrapy.http import HtmlResponse

from crawler.core.encoding import garbled, redecode
from crawler.core.markdown import plain_text
from crawler.extraction.pool import extract_page

TEXT = "中国人工智能初创企业深度求索的大模型一经发布，震动全行业，甚至连一众硅谷科技巨头也纷纷加入这股热潮。" * 5


def _extract(response):
    """What the crawl's extraction workers make of a page (crawler.extraction.pool)."""
    return extract_page(response.url, response.text, response.body, response.encoding)[0]


def _page(body_html: str, declared: str, encoding: str, extra: bytes = b"") -> HtmlResponse:
    body = f"<html><body><article><p>{body_html}</p></article>".encode(encoding) + extra + b"</body></html>"
    return HtmlResponse("https://example.org/a", body=body, headers={"Content-Type": f"text/html; charset={declared}"})


def test_garbled_counts_replacement_characters():
    assert not garbled(TEXT) and not garbled(TEXT + "\ufffd")
    assert garbled("\ufffd" * 10 + "abc")


def test_a_gbk_page_declared_utf8_is_decoded_as_gbk(tmp_path):
    response = _page(TEXT, "utf-8", "gbk")
    assert "\ufffd" in response.text  # what Scrapy alone would archive
    fields = _extract(response)
    assert TEXT in plain_text(fields["blocks"])


def test_a_stray_block_in_another_charset_outside_the_article_is_no_reason_to_refuse(tmp_path):
    stray = "<!-- 广告位招商，联系电话 -->".encode("gbk") * 10
    response = _page(TEXT, "utf-8", "utf-8", extra=stray)
    fields = _extract(response)
    assert TEXT in plain_text(fields["blocks"]) and not garbled(plain_text(fields["blocks"]))


def test_redecode_finds_nothing_better_for_a_truthful_page():
    assert redecode(TEXT.encode("utf-8"), "utf-8") is None


def test_replacement_characters_the_author_wrote_are_text_not_a_charset_lie(tmp_path):
    """An honest UTF-8 article with a broken emoji, on a page with a stray
    GBK footer: archived as it is, not refused."""
    authored = TEXT + "\ufffd" * 4 + TEXT[:20]
    response = _page(authored, "utf-8", "utf-8", extra="<footer>广告位招商</footer>".encode("gbk"))
    fields = _extract(response)
    assert fields is not None and authored in plain_text(fields["blocks"])


def test_an_article_that_reads_in_no_charset_is_none(tmp_path, monkeypatch):
    import crawler.extraction.pool as extraction_module

    monkeypatch.setattr(extraction_module, "redecode", lambda body, declared: None)  # no guess helps
    response = _page(TEXT, "utf-8", "gbk")
    assert _extract(response) is None


def test_a_rendered_page_is_read_as_the_utf8_its_content_type_says_over_its_own_meta_charset():
    """The browser hands over the DOM as UTF-8 while the DOM may still say ``<meta charset=gbk>``:
    the Content-Type it is given (crawler/downloadermiddlewares/browser.py) outranks it."""
    from crawler.extraction.pool import extract_body

    body = f'<html><head><meta charset="gbk"></head><body><article><p>{TEXT}</p></article></body></html>'
    fields, _, charset = extract_body("https://example.org/a", body.encode("utf-8"), "text/html; charset=utf-8")
    assert charset == "utf-8" and TEXT[:40] in plain_text(fields["blocks"])


def _meta_page(declared_in_meta: str, encoding: str, header: str | None = None) -> HtmlResponse:
    body = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={declared_in_meta}">'
            f"<title>人工智能</title></head><body><article><p>{TEXT}</p></article></body></html>").encode(encoding)
    return HtmlResponse("https://example.org/a", body=body,
                        headers={"Content-Type": f"text/html; charset={header}"} if header else None)


def test_a_utf8_page_that_still_declares_gb2312_is_read_as_utf8():
    """A CMS moved to UTF-8 and kept its old meta tag (4 of GeneralNewsExtractor's 62
    Chinese test pages): GB18030 reads the bytes as mojibake without one replacement
    character, so only the bytes say it; the note says what was done, for the log."""
    for response in (_meta_page("gb2312", "utf-8"), _meta_page("gbk", "utf-8", header="GBK")):
        assert response.encoding != "utf-8" and TEXT not in response.text  # what Scrapy alone reads
        fields, note = extract_page(response.url, response.text, response.body, response.encoding)
        assert TEXT in plain_text(fields["blocks"]), fields["blocks"][:2]
        assert note == f"declared charset {response.encoding} is wrong; decoded as utf-8"


def test_a_real_gbk_page_and_a_mostly_ascii_one_keep_their_declared_charset():
    gbk = _meta_page("gb2312", "gbk")
    fields, note = extract_page(gbk.url, gbk.text, gbk.body, gbk.encoding)
    assert note is None and TEXT in plain_text(fields["blocks"])
    # a few accented letters that happen to be valid UTF-8 are no evidence
    latin = HtmlResponse("https://example.org/b", body=("<html><body><article><p>" + "News of the day. " * 40
                                                        + "Café</p></article></body></html>").encode("utf-8"),
                         headers={"Content-Type": "text/html; charset=windows-1252"})
    fields, note = extract_page(latin.url, latin.text, latin.body, latin.encoding)
    assert note is None and "CafÃ©" in plain_text(fields["blocks"])
