"""Article text that is really text: a wrong declared charset is caught.

Scrapy decodes with the charset the page declares (header, meta, BOM). A
page that lies about it decodes to U+FFFD replacement characters, and the
article would be archived as mojibake. What counts is the article's own
text (a stray block in another charset elsewhere on the page does not): when
it is garbled, the page is decoded again with charset-normalizer's guess.
Replacement characters the author wrote (a broken emoji) are text: they
survive a decoding that drops undecodable bytes, which a charset lie's do not.

A UTF-8 page that declares a legacy charset (a CMS moved to UTF-8 and kept
its ``<meta charset=gb2312>``) makes no replacement characters: GB18030 reads
almost any bytes as some character. Its bytes say it instead: they decode
strictly as UTF-8, with many multi-byte characters, which text in another
charset does only by chance, for a handful of characters.
"""

from __future__ import annotations

import codecs

import charset_normalizer

#: More replacement characters than this share of the text means a wrong charset.
MAX_REPLACEMENT_SHARE = 0.005


#: Multi-byte characters that make strictly valid UTF-8 bytes UTF-8 whatever
#: the page declares.
MIN_UTF8_CHARACTERS = 20


def mislabelled_utf8(body: bytes, declared: str | None) -> str | None:
    """The page's text when it is UTF-8 that declares another charset, else None."""
    try:
        if not declared or codecs.lookup(declared).name == "utf-8":
            return None
        text = body.decode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return None
    if len(text) - len(text.encode("ascii", "ignore")) < MIN_UTF8_CHARACTERS:
        return None
    return text


def garbled(text: str) -> bool:
    """Whether ``text`` holds more U+FFFD than a real text would."""
    return text.count("\ufffd") > max(2, MAX_REPLACEMENT_SHARE * len(text))


def redecode(body: bytes, declared: str | None) -> tuple[str, str] | None:
    """(text, charset) as charset-normalizer reads the bytes, or None when it
    finds nothing better than the declared charset."""
    best = charset_normalizer.from_bytes(body).best()
    if best is None or (declared and best.encoding.replace("_", "-").lower() == declared.lower()):
        return None
    return str(best), best.encoding
