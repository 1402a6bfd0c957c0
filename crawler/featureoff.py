"""A component whose feature is simply off says so at INFO, not as a warning.

Scrapy logs a ``NotConfigured`` that carries a message as a WARNING
(``Disabled …: WACZ_ON_CLOSE is off``) on every run; a feature left off is
no news. ``raise feature_off(__name__, "WACZ_ON_CLOSE is off")`` logs it at
INFO under the component's logger (a log file and ``-v`` keep it) and raises
a bare ``NotConfigured``, which Scrapy leaves out without a word. A setting
that is wrong, not off, still raises ``NotConfigured`` with its message.

Two kinds of setting say "off" the same way everywhere: a flag that is false
(:func:`needs_flag`) and a number that is 0 (:func:`needs_number`).
"""

from __future__ import annotations

import logging

from scrapy.exceptions import NotConfigured


def feature_off(logger_name: str, reason: str) -> NotConfigured:
    logging.getLogger(logger_name).info("off: %s", reason)
    return NotConfigured()


def needs_flag(settings, name: str, logger_name: str) -> None:
    """The feature is off (``feature_off``: "NAME is off") unless the flag ``name`` is set."""
    if not settings.getbool(name):
        raise feature_off(logger_name, f"{name} is off")


def needs_number(settings, name: str, logger_name: str, kind: type = int):
    """The number ``name`` (an ``int``, or a ``float``); the feature is off (``feature_off``:
    "NAME is 0") when it is 0 or less."""
    value = settings.getfloat(name) if kind is float else settings.getint(name)
    if value <= 0:
        raise feature_off(logger_name, f"{name} is 0")
    return value
