"""Which pages go through headless Chromium, and the request that sends them there.

Some pages carry no text until a script has run: x.com, client-rendered
news sites, qq pages whose embedded data lacks the body. ``BROWSER_RENDER``
decides what goes to the browser:

* ``"auto"`` (default): a page whose extraction came out empty or collapsed
  (fewer than ``BROWSER_AUTO_MIN_TEXT`` characters, or the page's
  description standing in for the body), and which looks like a script
  shell, is loaded again in the browser, once;
* ``"never"``;
* hosts (a list, or ``"x.com,twitter.com"``): article requests for them and
  their subdomains go straight to the browser; other pages still get
  ``auto``.

A browser request is an ordinary Scrapy request with ``meta["browser"]``;
crawler/downloadhandlers/chromium.py renders it. Nothing here imports
Playwright, so a crawl that needs no browser never loads one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import scrapy

from crawler.core.markdown import plain_text
from crawler.sites.blocks import parse_document

logger = logging.getLogger(__name__)

MODES = ("auto", "never")
#: Ids client-side frameworks mount their page on (React, Vue, Next, Nuxt, x.com).
MOUNT_IDS = {"root", "app", "react-root", "__next", "__nuxt", "__layout", "svelte", "main-app", "application"}
#: Visible characters a shell may show (a "loading" line, a noscript notice).
SHELL_MAX_TEXT = 200
#: A mount point with less text than this is empty (a spinner, a "Loading…").
MOUNT_MAX_TEXT = 20
#: Not visible text.
INVISIBLE = {"script", "style", "noscript", "template", "svg", "head"}
#: Request meta that belongs to one download, not to the page.
VOLATILE_META = {"download_slot", "download_latency", "download_timeout", "warc_capture", "proxy",
                 "_auth_proxy", "_scheme_proxy", "_slot_proxy", "retry_times", "depth", "browser",
                 "browser_render", "browser_chain"}


@dataclass(frozen=True)
class BrowserPolicy:
    """``BROWSER_RENDER`` read: a mode and the hosts that always go to the browser."""

    mode: str = "auto"
    hosts: frozenset = frozenset()

    @classmethod
    def from_settings(cls, settings) -> "BrowserPolicy":
        value = settings.get("BROWSER_RENDER", "auto")
        if isinstance(value, str) and value.strip().lower() in MODES:
            return cls(value.strip().lower())
        hosts = frozenset(h.strip().lower().lstrip(".") for h in settings.getlist("BROWSER_RENDER") if h.strip())
        if not hosts:
            raise ValueError(f"BROWSER_RENDER: expected 'auto', 'never' or hosts, got {value!r}")
        return cls("auto", hosts)

    def always(self, url: str) -> bool:
        """Whether ``url``'s host (or a domain above it) always goes to the browser."""
        if self.mode == "never" or not self.hosts:
            return False
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            return False
        return any(host == h or host.endswith("." + h) for h in self.hosts)


def _text_outside(root, skip_tags) -> int:
    """Characters of text in ``root`` a reader would see (scripts, styles,
    noscript notices and icons left out)."""
    total = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str):
            total += len((node.tail or "").strip())
            continue
        if node.tag.lower() in skip_tags:
            total += len((node.tail or "").strip()) if node is not root else 0
            continue
        total += len((node.text or "").strip())
        if node is not root:
            total += len((node.tail or "").strip())
        stack.extend(node)
    return total


def looks_like_script_shell(page: str) -> bool:
    """Whether a page is a script shell: it has scripts, and either an empty
    framework mount point (``#root``, ``#app``, ``#react-root``...) or next
    to no visible text of its own."""
    tree = parse_document(page)
    if not tree.xpath("//script"):
        return False
    body = tree.find("body")
    if body is None:
        return True
    for element in tree.xpath("//*[@id]"):
        if element.get("id") in MOUNT_IDS and _text_outside(element, INVISIBLE) < MOUNT_MAX_TEXT:
            return True
    return _text_outside(body, INVISIBLE) < SHELL_MAX_TEXT


def extraction_failed(fields: dict, min_chars: int) -> bool:
    """Empty or collapsed: less text than ``min_chars`` (on a shell that is a
    noscript notice or a "Loading…" line), or only the page's own
    description standing in for a body that was not there."""
    if fields.get("extractor") == "meta-description":
        return True
    return len(plain_text(fields.get("blocks") or []).strip()) < min_chars


def rendered(response) -> bool:
    return "browser" in response.flags or bool(response.meta.get("browser"))


def browser_meta(meta: dict) -> dict:
    """The page's request meta for its browser request: the spider's keys
    kept, one download's own keys dropped."""
    out = {k: v for k, v in meta.items() if k not in VOLATILE_META and not k.startswith("playwright")}
    out["browser"] = True
    # the page loaded again, not a link followed from itself: no self-Referer
    out.setdefault("referrer_policy", "no-referrer")
    return out


def fallback_request(spider, response, fields: dict):
    """The browser request for a page that needs one under ``auto``, or None.

    Called by the spider with the page's extracted fields. A page the
    browser already rendered is never sent again.
    """
    settings = spider.settings
    policy = BrowserPolicy.from_settings(settings)
    if policy.mode == "never" or rendered(response):
        return None
    if not extraction_failed(fields, settings.getint("BROWSER_AUTO_MIN_TEXT")):
        return None
    if not looks_like_script_shell(response.text):
        return None
    spider.crawler.stats.inc_value("browser/fallback")
    logger.info("%s: a script shell with no text (%s): loading it in the browser", response.url,
                fields.get("extractor"))
    origin = response.request
    return scrapy.Request(
        response.url,
        callback=origin.callback if origin is not None else None,
        errback=origin.errback if origin is not None else None,
        priority=origin.priority if origin is not None else 0,
        cb_kwargs=dict(origin.cb_kwargs) if origin is not None else None,
        dont_filter=True,
        meta=browser_meta(response.meta),
    )
