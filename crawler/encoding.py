"""Page text that is really text: a wrong declared charset is caught.

Scrapy decodes with the charset the page declares (header, meta, BOM). A
page that lies about it decodes to U+FFFD replacement characters; archived
as is, the article would be mojibake. Here such a page is decoded again
with charset-normalizer's guess, and refused if no guess reads cleanly.
"""

from __future__ import annotations

import charset_normalizer

#: More replacement characters than this share of the text means a wrong charset.
MAX_REPLACEMENT_SHARE = 0.005


class UndecodablePage(ValueError):
    """The page's bytes are not text in its declared or any guessed charset."""


def _replacement_share(text: str) -> float:
    return text.count("\ufffd") / max(len(text), 1)


def page_text(response) -> tuple[str, str | None]:
    """(text, note): the page's text, and a note when its charset was wrong."""
    text = response.text
    if _replacement_share(text) <= MAX_REPLACEMENT_SHARE:
        return text, None
    best = charset_normalizer.from_bytes(response.body).best()
    if best is not None:
        guessed = str(best)
        if _replacement_share(guessed) <= MAX_REPLACEMENT_SHARE:
            return guessed, f"declared charset {response.encoding} is wrong; decoded as {best.encoding}"
    raise UndecodablePage(
        f"undecodable text: {text.count(chr(0xFFFD))} replacement characters in {response.encoding}")
