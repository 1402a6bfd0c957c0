"""Every timestamp format the archive writes or reads, in one place.

All but an article's own date are UTC; a naive datetime (what YAML gives
for an unquoted date in old front matter) is taken as UTC. Pure: no Scrapy,
no I/O.

- ``iso_utc`` ``2025-02-13T17:15:08Z``: the state's times, changes.jsonl's
  ``time``, the lock's and shared runs' ``started``/``finished``,
  ``fetched_at``, a version's capture time.
- ``parse_iso``: reads those and warcio's ``WARC-Date`` (``...08Z`` or
  ``...08.123456Z``), which the front matter keeps as ``warc_date``.
- ``stamp_name`` ``20250213T171508Z`` (``micro``: ``20250213T171508123456Z``):
  version file names, a shared run's id, the state's damaged-copy name.
- ``warc_name_stamp`` ``20250213171508123``: WARC file names (Heritrix's
  convention, milliseconds).
- ``timestamp14`` ``20250213171508``: replay URLs and the WACZ's capture keys.
- ``display`` ``2025-02-13 17:15:08 UTC``: the site's capture labels.
- ``article_date`` ``2025-02-13 17:15:08``: an article's own ``date`` (the
  seed format: the site's local time, no zone).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from dateutil.parser import isoparse

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP_MICRO_FORMAT = "%Y%m%dT%H%M%S%fZ"
#: A version file's name (without ``.md``): ``stamp_name``'s two forms, ``-N`` after a clash.
STAMP = re.compile(r"^(\d{8})T(\d{6})(\d{6})?Z(?:-\d+)?$")
ARTICLE_DATE = "%Y-%m-%d %H:%M:%S"
#: The time of an event that has none (the change feed's floor).
EPOCH = "1970-01-01T00:00:00Z"


def now() -> datetime:
    """The current time, aware, UTC."""
    return datetime.now(timezone.utc)


def utc(when: datetime) -> datetime:
    """``when`` in UTC; a naive datetime is taken as UTC already."""
    return when.astimezone(timezone.utc) if when.tzinfo is not None else when


def iso_utc(when: datetime | None = None) -> str:
    """``2025-02-13T17:15:08Z``: ``when`` (default now) to the second."""
    return utc(when or now()).strftime(ISO_UTC)


def utcnow() -> str:
    """Now as ``iso_utc`` text: the state's and shared runs' times."""
    return iso_utc()


def parse_iso(value) -> datetime:
    """A datetime from ISO 8601 text (a datetime passes through); ValueError if unreadable."""
    return value if isinstance(value, datetime) else isoparse(str(value))


def iso_label(value) -> str | None:
    """A front-matter ``warc_date`` as ISO 8601 UTC text: a datetime (YAML
    loads an unquoted date so) in ``iso_utc`` form, text as written, since
    quoted dates on disk are warcio's WARC-Date already."""
    if isinstance(value, datetime):
        return iso_utc(value)
    return str(value) if value else None


def stamp_name(when: datetime | None = None, micro: bool = False) -> str:
    """A version file's name for ``when`` (default now), see ``STAMP``."""
    return utc(when or now()).strftime(STAMP_MICRO_FORMAT if micro else STAMP_FORMAT)


def stamp_time(name: str) -> datetime | None:
    """The UTC time a version's file name gives (any form of ``STAMP``), or None."""
    found = STAMP.match(name[:-3] if name.endswith(".md") else name)
    if not found:
        return None
    return datetime.strptime(found[1] + found[2] + (found[3] or "000000"), "%Y%m%d%H%M%S%f").replace(
        tzinfo=timezone.utc)


def warc_date_stamp(value) -> str | None:
    """``stamp_name`` of a ``warc_date`` (datetime or text), or None: text is
    read by its first 14 digits, as WARC-Dates are UTC."""
    if isinstance(value, datetime):
        return stamp_name(value)
    digits = re.sub(r"\D", "", str(value or ""))
    return f"{digits[:8]}T{digits[8:14]}Z" if len(digits) >= 14 else None


def warc_name_stamp(when: datetime | None = None) -> str:
    """``20250213171508123``: the 17-digit time in a WARC file's name."""
    return utc(when or now()).strftime("%Y%m%d%H%M%S%f")[:17]


def timestamp14(value) -> str:
    """``2025-11-25T16:00:00Z`` -> ``20251125160000`` (UTC): the form replay
    URLs and WACZ capture keys take. ValueError if unreadable."""
    return utc(parse_iso(value)).strftime("%Y%m%d%H%M%S")


def display(when: datetime) -> str:
    """``2025-02-13 17:15:08 UTC``: a time as the site shows it."""
    return utc(when).strftime("%Y-%m-%d %H:%M:%S UTC")


def article_date(when: datetime) -> str:
    """``2025-02-13 17:15:08``: an article's own date, in the zone it is given in."""
    return when.strftime(ARTICLE_DATE)
