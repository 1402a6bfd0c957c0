"""A page whose declared charset is wrong is re-decoded or refused, never archived as mojibake."""

import pytest
from scrapy.http import HtmlResponse

from crawler.encoding import UndecodablePage, page_text

TEXT = "中国人工智能初创企业深度求索的大模型一经发布，震动全行业，甚至连一众硅谷科技巨头也纷纷加入这股热潮。" * 5


def test_a_page_that_tells_the_truth_is_read_as_it_says():
    response = HtmlResponse("https://x/", body=f"<p>{TEXT}</p>".encode("gbk"), encoding="gbk")
    assert page_text(response) == (f"<p>{TEXT}</p>", None)


def test_a_gbk_page_declared_utf8_is_decoded_as_gbk():
    body = f"<html><body><p>{TEXT}</p></body></html>".encode("gbk")
    response = HtmlResponse("https://x/", body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    assert "\ufffd" in response.text  # what Scrapy alone would archive
    text, note = page_text(response)
    assert TEXT in text
    assert "declared charset utf-8 is wrong" in note


def test_bytes_that_are_no_text_are_refused():
    body = bytes(range(256)) * 20
    response = HtmlResponse("https://x/", body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    with pytest.raises(UndecodablePage, match="undecodable text"):
        page_text(response)
