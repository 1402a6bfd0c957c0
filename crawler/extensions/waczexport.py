"""A WACZ of the archive at the end of every crawl or refresh (WACZ_ON_CLOSE).

Runs on ``engine_stopped``, when the WARC writer has closed its file and the
capture state holds this run's outcomes, and packs the whole archive as
``scrapy wacz`` does (crawler/exports/wacz.py), replacing the previous
package atomically. The run already holds the archive's lock. A package
that cannot be made is logged and counted as ``wacz/failed``, which makes
the crawl exit 1 (crawler/commands/runner.py): the archive it made stands,
but cron hears that the package it was asked for is missing.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import NotConfigured

from crawler.exports.wacz import WaczError, pack_from_settings
from crawler.extensions.onstop import OnEngineStop
from crawler.featureoff import needs_flag

logger = logging.getLogger(__name__)


class WaczExport(OnEngineStop):
    """Packs the archive when the engine stops; stats ``wacz/pages``,
    ``wacz/warc_files``, ``wacz/bytes`` or ``wacz/failed``."""

    @classmethod
    def check(cls, settings) -> None:
        needs_flag(settings, "WACZ_ON_CLOSE", __name__)
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WACZ_ON_CLOSE needs WARC_ENABLED")

    def engine_stopped(self):
        try:
            result = pack_from_settings(self.settings)
        except WaczError as exc:
            logger.error("WACZ not written: %s", exc)
            self._set("wacz/failed", 1)
            return
        except Exception:  # noqa: BLE001 - reported and counted (exit 1)
            logger.exception("WACZ not written")
            self._set("wacz/failed", 1)
            return
        self._set("wacz/pages", result.pages)
        self._set("wacz/warc_files", len(result.warc_files))
        self._set("wacz/bytes", result.size)
        logger.info("WACZ written: %s (%d WARC files, %d pages, %d bytes)", result.path,
                    len(result.warc_files), result.pages, result.size)

    def _set(self, key, value):
        if self.stats is not None:
            self.stats.set_value(key, value)
