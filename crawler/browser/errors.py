"""Why a page could not be rendered: the errors the renderer raises.

Apart from renderer.py so that they can be named without loading Playwright.
"""

from __future__ import annotations


class BrowserError(Exception):
    """A page the browser could not render; the message says why."""


class BrowserTimeout(BrowserError):
    """A page that did not load and settle within BROWSER_PAGE_TIMEOUT."""


class RendererCrashed(BrowserError):
    """A page that crashed the browser's renderer."""
