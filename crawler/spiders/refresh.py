"""The ``refresh`` spider: re-check archived articles, not the seeds.

The articles come from the capture state (crawler.state), chosen by the
``scrapy refresh`` options: last checked longer ago than an age, one site,
named articles, a maximum count. Each request is conditional (the stored
``ETag``/``Last-Modified``) and names the article's last full capture, so
that the WARC middleware writes a 304 or a byte-identical payload as
revisit records. Outcomes per article:

* unchanged: a 304 or the identical payload (no extraction at all), or a
  new page whose article text equals the stored one (the pipelines decide);
* changed: the article text differs (new version, old one kept);
* gone: 404/410, or redirected to a page that is not the article;
* failed: anything else that went wrong (a redirect to a login or consent
  page that would send the reader back to the article, too); nothing stored changes.
"""

from __future__ import annotations

import re
from datetime import timedelta

import scrapy

from crawler import signals as crawler_signals
from crawler import sites
from crawler.archive.storage import ArchiveStore
from crawler.extensions.archiveio import run_io
from crawler.extensions.evidence import recorded_evidence
from crawler.extensions.guardports import port_policy
from crawler.extensions.statestore import state_store
from crawler.net.validators import conditional_headers, validators
from crawler.spiders import elsewhere
from crawler.spiders.qq import QqSpider
from crawler.state.late import unrecorded_outcome
from crawler.state.open import find

#: Failure kinds that mean the article is no longer there.
GONE_KINDS = elsewhere.ABSENT_KINDS
AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks", "": "days"}


def parse_age(text: str | None) -> timedelta | None:
    """``"6h"``, ``"1d"``, ``"30m"``, ``"2w"``, ``"90s"`` (a bare number is days)."""
    if text in (None, ""):
        return None
    match = AGE.match(str(text))
    if not match:
        raise ValueError(f"not an age: {text!r} (use e.g. 30m, 6h, 1d, 2w)")
    return timedelta(**{UNITS[match.group(2)]: float(match.group(1))})


def moved(response) -> bool:
    """Whether the page that answered is another article address than the one asked."""
    asked = (response.meta.get("redirect_urls") or [response.url])[0]
    return sites.article_key(response.url) != sites.article_key(asked)


def full_request(response, callback, errback):
    """The page that answered asked again, without the article's conditional headers."""
    meta = {k: v for k, v in response.meta.items()
            if k in ("seed_url", "seed", "article_key", "redirect_urls", "tried", "first_reason", "first_kind")}
    return scrapy.Request(response.url, callback=callback, errback=errback, dont_filter=True, meta=meta)


class RefreshSpider(QqSpider):
    name = "refresh"
    arguments = {"older_than": "an age, e.g. 6h", "site": "a site", "article": "URL, id or file",
                 "limit": "a count"}

    def __init__(self, older_than: str | None = None, site: str | None = None,
                 article: str | list | None = None, limit: str | int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.older_than = parse_age(older_than)
        self.site = site or None
        self.articles = [a for a in (article.split("\n") if isinstance(article, str) else article or []) if a]
        self.limit = int(limit) if limit not in (None, "") else None
        self.keys_by_url: dict[str, str] = {}
        self.last_urls: dict[str, str] = {}  # source URL -> where the article last answered, if elsewhere

    reads_seeds = False

    def due(self):
        """The articles this run re-checks."""
        store = state_store(self.crawler)
        keys = None
        if self.articles:
            keys = []
            for ref in self.articles:
                state = find(store, ref)
                if state is None:
                    self.logger.error("no archived article matches %r", ref)
                    self.crawler.stats.inc_value("refresh/unknown_article")
                else:
                    keys.append(state.key)
        return store.due(older_than=self.older_than, site=self.site, keys=keys, limit=self.limit)

    def start_requests(self):
        """One conditional request per article due (QqSpider.start() sends them,
        or pushes them once for a shared run)."""
        due = list(self.due())
        ports = port_policy(self.crawler)
        for state in due:
            ports.allow_url(state.source_url)  # the archived articles' ports are the seeds' ports
        for state in due:
            self.seed_urls[state.source_url] = state.seed or state.path
            self.keys_by_url[state.source_url] = state.key
            if state.url and state.url != state.source_url:
                self.last_urls[state.source_url] = state.url
            headers, original = {}, state.original()
            if state.browser or not state.text_digest:
                # the text comes by the page's scripts: an unchanged shell says
                # nothing about it, so the page is fetched and rendered again;
                # no digest: the stored text's outcome was never recorded, and
                # only an extraction records it (crawler.pipelines.recordrepair)
                original = None
            else:
                headers = conditional_headers({"etag": state.etag, "last_modified": state.last_modified})
            yield scrapy.Request(
                state.source_url, callback=self.parse_article, errback=self.on_error,
                headers=headers, dont_filter=True,
                meta={"seed_url": state.source_url, "seed": state.seed, "article_key": state.key,
                      "refresh_original": original, "refresh_refused": state.refused()},
            )
        self.logger.info("articles to refresh: %d", len(self.seed_urls))

    async def route(self, response):
        """A refresh's own answers first (unchanged, refused again, a 304 from
        elsewhere), then the crawl's route (QqSpider.route)."""
        seed_url = response.meta["seed_url"]
        capture = response.meta.get("warc_capture") or {}
        if response.status == 304 and moved(response):
            # redirected elsewhere, and the conditional headers went along:
            # that page's 304 says nothing about the article. Fetched in full,
            # so that the same-article rule can judge it.
            return [full_request(response, self.parse_article, self.on_error)]
        if response.status == 304 or capture.get("revisit") == "identical":
            # the server says, or the bytes show, that nothing changed since
            # the capture the state recorded; but not what the file holds
            if await run_io(self.crawler, self.file_ahead_of_state, response.meta["article_key"]):
                self.logger.warning("%s: the archived file holds a text the capture state never recorded "
                                    "(a run stopped after writing it): the page is fetched in full", seed_url)
                return [full_request(response, self.parse_article, self.on_error)]
            self.crawler.signals.send_catch_log(
                crawler_signals.article_unchanged, url=seed_url, key=response.meta["article_key"],
                capture=capture, validators=validators(response), spider=self)
            return ()
        if capture.get("revisit") == "identical-refused":
            # the very page whose extraction was refused last time: refused
            # again, without a second copy of it or of its extraction
            refused = response.meta.get("refresh_refused") or {}
            return self.fail(seed_url, f"the page is the one whose extraction was refused at {refused.get('date')}: "
                                       "refused again", kind="refused again")
        return await super().route(response)

    def file_ahead_of_state(self, key: str) -> bool:
        """Whether the article's file holds another text than the capture
        state recorded (a run stopped after writing it, before recording it
        or before the state), or a revert to the recorded text that was never
        recorded itself. A 304 or an identical payload then says nothing of
        the article (the page may have gone back to the recorded text, and
        the file would keep the other for good): the page is fetched in full,
        and the pipelines record what the file holds, then what the page says."""
        state = state_store(self.crawler).get(key)
        if state is None or not state.text_digest or not state.path:
            return False
        return unrecorded_outcome(ArchiveStore(self.settings.get("ARCHIVE_DIR")), recorded_evidence(self.crawler),
                                  state.path, state.text_digest) is not None

    def alternates(self, url, meta) -> list[str]:
        """Also the address the article last answered at (a slug its site
        moved it to, whose old address may stop redirecting)."""
        return elsewhere.untried(url, meta, [*sites.alternate_urls(url), self.last_urls.get(meta["seed_url"])])

    def fail(self, url: str, reason: str, kind: str | None = None):
        key = self.keys_by_url.get(url)
        if key is None and kind in GONE_KINDS and self.settings.get("REDIS_URL"):
            # a shared run: another worker chose this article
            state = find(state_store(self.crawler), url)
            key = state.key if state else None
        if kind in GONE_KINDS and key:
            self.logger.warning("gone: %s: %s", url, reason)
            self.crawler.signals.send_catch_log(crawler_signals.article_gone, url=url,
                                                key=key, reason=reason, spider=self)
            return ()
        return super().fail(url, reason, kind)
