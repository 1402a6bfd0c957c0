"""Article text that is really text: a wrong declared charset is caught.

Scrapy decodes with the charset the page declares (header, meta, BOM). A
page that lies about it decodes to U+FFFD replacement characters, and the
article would be archived as mojibake. What counts is the article's own
text (a stray block in another charset elsewhere on the page does not): when
it is garbled, the page is decoded again with charset-normalizer's guess.
Replacement characters the author wrote (a broken emoji) are text: they
survive a decoding that drops undecodable bytes, which a charset lie's do not.
"""

from __future__ import annotations

import charset_normalizer

#: More replacement characters than this share of the text means a wrong charset.
MAX_REPLACEMENT_SHARE = 0.005


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
