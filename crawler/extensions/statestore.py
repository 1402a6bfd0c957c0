"""The crawl's one capture state store, held by an extension.

:class:`CaptureState` opens the archive's state (crawler.state.open:
rebuilt when missing or damaged) at first use, and closes it when the
engine stops. Every component reads and writes the same store through
:func:`state_store`. The shared crawl's add-on puts a subclass in its place
whose store lives in Redis (same interface); this module knows nothing of it.
"""

from __future__ import annotations

from crawler.extensions.lookup import SharedObject, extension
from crawler.state.open import open_store


class CaptureState(SharedObject):
    def build(self):
        """A new store for this crawl (a subclass's may be another kind)."""
        return open_store(self.crawler.settings.get("ARCHIVE_DIR"))

    @property
    def store(self):
        """The crawl's store, opened on first use and closed when the engine stops."""
        return self.held()


def state_store(crawler):
    """The crawl's one capture state store (the CaptureState extension's)."""
    return extension(crawler, CaptureState).store
