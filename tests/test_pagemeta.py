"""Page dates made uniform: calendar digits, epoch counts, offsets, and nonsense."""

from datetime import timedelta, timezone

import pytest

from crawler.sites.pagemeta import normalize_time

BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize("value,local_tz,expected", [
    # compact calendar digits are the wall clock the page states, never epoch counts
    ("20250213", BEIJING, "2025-02-13 00:00:00"),
    (20250213, BEIJING, "2025-02-13 00:00:00"),
    (20250213, None, "2025-02-13 00:00:00"),
    (" 20250213 ", BEIJING, "2025-02-13 00:00:00"),
    ("20250213171508", BEIJING, "2025-02-13 17:15:08"),
    (20250213171508, None, "2025-02-13 17:15:08"),
    ("202502131715", BEIJING, "2025-02-13 17:15:00"),
    # epoch seconds and milliseconds, in the site's zone (UTC where unknown)
    (1739439308, BEIJING, "2025-02-13 17:35:08"),
    ("1739439308", None, "2025-02-13 09:35:08"),
    (1739439308000, BEIJING, "2025-02-13 17:35:08"),
    ("1739439308123", None, "2025-02-13 09:35:08"),
    (1739439308.9, BEIJING, "2025-02-13 17:35:08"),
    ("+1739439308", BEIJING, "2025-02-13 17:35:08"),
    (999999999, None, "2001-09-09 01:46:39"),
    # text dates; an offset is converted only where the zone is known
    ("2025-02-13 17:15:08", BEIJING, "2025-02-13 17:15:08"),
    ("2025-02-13T09:15:08Z", BEIJING, "2025-02-13 17:15:08"),
    ("2025-02-13T09:15:08-05:00", None, "2025-02-13 09:15:08"),
    ("2025-02-13T09:15:08-05:00", BEIJING, "2025-02-13 22:15:08"),
    # out of range, negative, impossible or meaningless: no date, no exception
    ("20251340", BEIJING, None),
    ("00000000", BEIJING, None),
    ("18991231", BEIJING, None),
    ("22010101", BEIJING, None),
    (22010101000000, None, None),
    (10**20, BEIJING, None),
    ("99999999999999999999", None, None),
    (-5, BEIJING, None),
    ("-1739439308", BEIJING, None),
    (0, BEIJING, None),
    ("12345", BEIJING, None),
    (9999999999999, BEIJING, None),  # milliseconds past the year 2200
    (1e300, BEIJING, None),
    (float("inf"), BEIJING, None),
    (float("nan"), BEIJING, None),
    (True, BEIJING, None),
    ("9999-12-31T23:59:59-14:00", BEIJING, None),
    ("0001-01-01T00:00:00+14:00", BEIJING, None),
    ("1066-10-14", None, None),
    ("", BEIJING, None),
    ("   ", BEIJING, None),
    (None, BEIJING, None),
    ("not a date", BEIJING, None),
    ({"pubtime": 1}, BEIJING, None),
])
def test_normalize_time(value, local_tz, expected):
    assert normalize_time(value, local_tz) == expected
