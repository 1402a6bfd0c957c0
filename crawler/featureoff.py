"""A component whose feature is simply off says so at INFO, not as a warning.

Scrapy logs a ``NotConfigured`` that carries a message as a WARNING
(``Disabled …: WACZ_ON_CLOSE is off``) on every run; a feature left off is
no news. ``raise feature_off(__name__, "WACZ_ON_CLOSE is off")`` logs it at
INFO under the component's logger (a log file and ``-v`` keep it) and raises
a bare ``NotConfigured``, which Scrapy leaves out without a word. A setting
that is wrong, not off, still raises ``NotConfigured`` with its message.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import NotConfigured


def feature_off(logger_name: str, reason: str) -> NotConfigured:
    logging.getLogger(logger_name).info("off: %s", reason)
    return NotConfigured()
