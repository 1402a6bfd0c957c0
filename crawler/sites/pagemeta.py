"""What pages say about themselves: meta tags, and their dates made uniform."""

from __future__ import annotations

from datetime import datetime, timezone

from dateutil import parser as dateparser


def meta_content(tree, *names) -> str | None:
    """The first non-empty ``<meta>`` content for one of ``names``."""
    for name in names:
        for attr in ("property", "name", "itemprop"):
            values = tree.xpath(f"//meta[@{attr}=$n]/@content", n=name)
            if values and values[0].strip():
                return values[0].strip()
    return None


def normalize_time(value, local_tz=None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` in the site's local time, from what the page says.

    A time with an offset is converted to ``local_tz`` where the site's zone
    is known; otherwise the wall-clock time the page states is kept.
    """
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        seconds = int(value)
        if seconds > 10**11:
            seconds //= 1000
        stamp = datetime.fromtimestamp(seconds, tz=local_tz or timezone.utc)
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    try:
        stamp = dateparser.parse(str(value), ignoretz=local_tz is None)
        if local_tz is not None and stamp.tzinfo is not None:
            stamp = stamp.astimezone(local_tz)
    except (ValueError, OverflowError):
        return None
    return stamp.strftime("%Y-%m-%d %H:%M:%S")
