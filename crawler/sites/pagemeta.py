"""What pages say about themselves: meta tags, and their dates made uniform."""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from dateutil import parser as dateparser

from crawler.core.timefmt import article_date


META_ATTRS = ("property", "name", "itemprop")


def meta_content(tree, *names) -> str | None:
    """The first non-empty ``<meta>`` content for one of ``names``: for each
    name, then each of ``META_ATTRS``, the content of the document's first
    ``<meta>`` with that attribute equal to the name and a ``content`` (what
    ``//meta[@attr=$n]/@content`` gives first), if it is not blank. One pass
    over the document's ``<meta>`` elements, not an XPath query of the whole
    tree per name and attribute."""
    first: dict[tuple[str, str], str] = {}
    for meta in (tree.getroottree() if hasattr(tree, "getroottree") else tree).iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attr in META_ATTRS:
            value = meta.get(attr)
            if value is not None:
                first.setdefault((attr, value), content)
    for name in names:
        for attr in META_ATTRS:
            value = first.get((attr, name))
            if value is not None and value.strip():
                return value.strip()
    return None


#: A date outside these years is a misread field, not a publication time.
MIN_YEAR, MAX_YEAR = 1900, 2200
NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
#: All-digit dates by length: compact calendar forms, not epoch counts
#: (20250213 would otherwise read as 1970-08-23).
COMPACT_FORMATS = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
#: Epoch counts by number of integer digits: seconds (1973-2286), milliseconds.
EPOCH_DIVISORS = {9: 1, 10: 1, 13: 1000}


def normalize_time(value, local_tz=None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` in the site's local time, from what the page says.

    A time with an offset is converted to ``local_tz`` where the site's zone
    is known; otherwise the wall-clock time the page states is kept. Numbers
    are read by their digit count (see ``COMPACT_FORMATS``/``EPOCH_DIVISORS``).
    Anything unreadable or out of range gives None: a page's odd date field
    must never cost the page.
    """
    try:
        stamp = _parse(value, local_tz)
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    if stamp is None or not MIN_YEAR <= stamp.year <= MAX_YEAR:
        return None
    return article_date(stamp)


def _parse(value, local_tz) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        text = str(int(value)) if isinstance(value, int) or value.is_integer() else repr(value)
    else:
        text = str(value).strip()
    if not text:
        return None
    if NUMBER.fullmatch(text):
        return _from_number(text, local_tz)
    stamp = dateparser.parse(text, ignoretz=local_tz is None)
    if local_tz is not None and stamp.tzinfo is not None:
        stamp = stamp.astimezone(local_tz)
    return stamp


def _from_number(text: str, local_tz) -> datetime | None:
    if text.startswith("-"):
        return None
    whole, _, fraction = text.lstrip("+").partition(".")
    if not fraction and len(whole) in COMPACT_FORMATS:
        return datetime.strptime(whole, COMPACT_FORMATS[len(whole)])
    divisor = EPOCH_DIVISORS.get(len(whole))
    if divisor is None:
        return None
    return datetime.fromtimestamp(int(whole) // divisor, tz=local_tz or timezone.utc)
