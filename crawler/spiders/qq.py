"""The ``qq`` spider: seed documents in, Article items out.

It requests each seed's source article and, one hop away, every page the
seed references (off-site allowed only for those), then hands each response
to the site adapter for its host. It knows Scrapy and seeds, not output
formats. Article images are requested too, for the WARC only.

The callback routes (``route``): each decision it asks is a function of its
layer (crawler/spiders/responses.py, the extraction pool, crawler/sites/identity.py,
crawler/spiders/elsewhere.py, crawler/browser/policy.py, crawler/net/policy.py);
the methods here add only the crawl's logs, stats and stores.
"""

from __future__ import annotations

from pathlib import Path

import scrapy

from crawler import signals as crawler_signals
from crawler import sites
from crawler.archive.storage import ArchiveStore
from crawler.browser import policy as browser
from crawler.core.failures import is_image
from crawler.core.timefmt import utcnow
from crawler.extensions.archiveio import run_io
from crawler.extensions.guardports import port_policy
from crawler.extensions.statestore import state_store
from crawler.extraction.pool import ExtractionError, ExtractionPool
from crawler.items import Article
from crawler.net.policy import drop_blocked_images, parse_networks
from crawler.net.validators import conditional_headers, validators
from crawler.seeds import load_seeds
from crawler.sites import identity
from crawler.sites.blocks import text_length
from crawler.spiders import elsewhere
from crawler.spiders.failures import failure_reason
from crawler.spiders.responses import not_a_page
from crawler.warc.lookup import latest_capture


class QqSpider(scrapy.Spider):
    name = "qq"
    #: The ``-a NAME=VALUE`` arguments it takes; any other is refused as a typo (crawler.commands.cli).
    arguments = {"seeds": "the seed folder, default SEEDS_DIR"}

    def __init__(self, seeds: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seeds_dir = seeds
        self.seed_urls: dict[str, str] = {}  # URL -> seed file name

    #: Whether the spider reads the seed folder (the refresh spider reads the state).
    reads_seeds = True

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        folder = Path(spider.seeds_dir or crawler.settings.get("SEEDS_DIR"))
        if cls.reads_seeds and not folder.is_dir():
            # fail at start-up, so the crawl exits non-zero before fetching anything
            raise FileNotFoundError(f"seed folder not found: {folder.resolve()}")
        spider.extractor = ExtractionPool.from_crawler(crawler)
        spider.allowed_networks = parse_networks(crawler.settings.getlist("GUARD_ALLOWED_NETWORKS"))
        return spider

    async def start(self):
        # a shared run's are pushed once, by one worker (crawler.distributed.start.SharedStart)
        for request in self.start_requests():
            yield request

    def start_requests(self):
        seeds_dir = self.seeds_dir or self.settings.get("SEEDS_DIR")
        seen: dict[str, str] = {}  # article key -> the first seed URL naming it
        seeds = load_seeds(seeds_dir)
        ports = port_policy(self.crawler)
        for url in (url for seed in seeds for url in seed.urls):
            ports.allow_url(url)  # every seed's port, before the first page names another
        for seed in seeds:
            if seed.front_matter_error:
                self.crawler.stats.inc_value("seeds/front_matter_ignored")
            for dropped in seed.dropped:
                self.crawler.stats.inc_value("seeds/link_dropped")
                if dropped.malformed:  # meant as a page: a failed seed URL, so cron hears of the typo
                    self.seed_urls[dropped.url] = seed.name
                    self.fail(dropped.url, f"invalid URL ({seed.name}): {dropped.reason}", kind="invalid URL")
            for url in seed.urls:
                key = sites.article_key(url)
                if key in seen:
                    if seen[key] != url:
                        self.logger.info("%s (%s) is the same article as %s: fetched once", url, seed.name, seen[key])
                    continue
                seen[key] = url
                self.seed_urls[url] = seed.name
                limit = self.settings.getint("URLLENGTH_LIMIT")
                if limit and len(url) > limit:  # Scrapy would drop it with an INFO line
                    self.fail(url, f"URL of {len(url)} characters is longer than URLLENGTH_LIMIT ({limit})",
                              kind="URL too long")
                    continue
                try:
                    # dont_filter: every seed URL is fetched and answered for,
                    # even when it differs from another only by a fragment or
                    # is where another seed redirects to
                    yield scrapy.Request(
                        url,
                        callback=self.parse_article,
                        errback=self.on_error,
                        dont_filter=True,
                        meta={"seed_url": url, "seed": seed.name},
                    )
                except ValueError as exc:  # one bad URL must not stop the crawl
                    self.fail(url, f"invalid URL ({seed.name}): {exc}", kind="invalid URL")
        self.logger.info("seed URLs to archive: %d", len(self.seed_urls))

    # --- callbacks --------------------------------------------------------

    async def parse_article(self, response):
        """Yields the Article, then its images' requests; or what ``route`` said instead."""
        routed = await self.route(response)
        if isinstance(routed, Article):
            yield routed
            routed = await self.image_requests(routed)
        for request in routed:
            yield request

    async def route(self, response):
        """Where an article's response goes (../shared/ARCHITECTURE.md): the
        Article, or requests elsewhere, or nothing (a failure, said). Each
        decision is its layer's; here only the order they are asked in."""
        meta, seed_url = response.meta, response.meta["seed_url"]
        if response.status >= 400:
            return self.try_elsewhere(response.url, meta, f"HTTP {response.status}", f"HTTP {response.status}",
                                      response.request, also=self.moved_to(response))
        if self.in_front_of_the_article(response):  # a login or consent page asking to send the reader back
            return self.try_elsewhere(seed_url, meta, f"redirected to {response.url}, a page that would send the "
                                      "reader back to the article (a login, consent or paywall page): not the "
                                      "article, and no sign that it is gone", "interstitial", response.request)
        if (refused := not_a_page(response, self.settings.getint("EXTRACTION_MAX_PAGE_BYTES"))) is not None:
            kind, reason = refused
            return self.fail(seed_url, reason, kind=kind)
        if (fields := await self.extract(response)) is None:
            return ()
        if notice := fields.pop("removed", None):  # the site says so in place of the article (crawler/sites/)
            return self.try_elsewhere(response.url, meta, f"the site says the article is no more: {notice}",
                                      "removed", response.request)
        key = meta.get("article_key") or sites.article_key(seed_url)
        if (why := self.not_the_article(key, response, fields)) is not None:  # e.g. sent to the front page
            if identity.with_added_query(seed_url, response.url):  # a consent page at the article's own address
                return self.try_elsewhere(seed_url, meta, f"the page at {response.url}, the article's address with "
                                          f"parameters added, is not the article ({why})", "not the article's text",
                                          response.request)
            return self.try_elsewhere(seed_url, meta, f"redirected away to {response.url} ({why})", "redirected away",
                                      response.request)
        if not text_length(fields["blocks"]) and self.alternates(response.url, meta):
            return self.try_elsewhere(response.url, meta, "no article body", "no article body", response.request)
        if (target := elsewhere.meta_refresh_target(response, fields,
                                                    self.settings.getint("ARCHIVE_MIN_TEXT_CHARS"))) is not None:
            return [self.follow_meta_refresh(response, target)]
        if (rendering := browser.fallback_request(self, response, fields)) is not None:
            return [rendering]  # a script shell with no text: loaded again in the browser, once
        self.drop_blocked_images(fields, response.url)
        return self.article(key, response, fields)

    # --- the steps' glue: logs, stats, the crawl's stores ------------------

    async def extract(self, response) -> dict | None:
        """The page's article fields from the extraction pool (crawler/extraction/),
        or None when there are none (the failure said)."""
        seed_url = response.meta["seed_url"]
        try:
            fields, note, charset = await self.extractor.extract_response(response)
        except ExtractionError as exc:  # a broken or pathological page must not stop the crawl
            self.logger.error("extraction failed for %s: %s", response.url, exc)
            self.fail(seed_url, str(exc), kind="extraction failed")
            return None
        if note:
            self.logger.warning("%s: %s", response.url, note)
        if fields is not None and sites.fell_back(fields):
            self.crawler.stats.inc_value("extraction/generic_fallback")
            self.logger.warning("%s: %s", response.url, fields["extractor"])
        if fields is None:
            self.fail(seed_url, f"undecodable text: the article does not read as {charset} "
                                "nor as any charset guessed from its bytes", kind="undecodable text")
        return fields

    def not_the_article(self, key: str, response, fields: dict) -> str | None:
        """Why the page that answered is not the article (crawler/sites/identity.py),
        or None. The stored copy is read only when the address does not say."""
        seed_url = response.meta["seed_url"]
        if identity.known_address(response.url, key, seed_url):
            return None
        state = state_store(self.crawler).get(key)
        stored = None
        if state is not None:
            paragraphs = []
            try:
                text = ArchiveStore(self.settings.get("ARCHIVE_DIR")).read_text(state.path)
                paragraphs = identity.stored_paragraphs(text)
            except (OSError, ValueError) as exc:  # a missing or damaged copy: the addresses still tell
                self.logger.warning("%s: stored copy %s not readable (%s)", seed_url, state.path, exc)
            stored = identity.Stored(urls=[state.url, state.source_url], title=state.title, paragraphs=paragraphs)
        return identity.not_the_article(seed_url, response.url, stored, canonical=identity.canonical_url(response),
                                        title=fields.get("title"), paragraphs=identity.page_paragraphs(fields),
                                        article_page=identity.declares_article(response))

    def in_front_of_the_article(self, response) -> bool:
        """Whether a redirect ended at a page that names the article as where
        to send the reader back (crawler/sites/identity.py): an interstitial,
        not the article and not its disappearance. A page at one of the
        article's own addresses, or one that says it is an article, is not."""
        meta = response.meta
        if not meta.get("redirect_urls"):
            return False
        key = meta.get("article_key") or sites.article_key(meta["seed_url"])
        if identity.known_address(response.url, key, meta["seed_url"]):
            return False
        # the hops too (a slug moved, then a login), but a section or the front page is not the article
        hops = [u for u in meta["redirect_urls"] if not identity.above(meta["seed_url"], u)]
        asked = [meta["seed_url"], *meta.get("tried", ()), *hops]
        # the request's address keeps the fragment (a "#next=…" the download drops from response.url)
        final = response.request.url if response.request else response.url
        # a page that says it is an article is judged by the same-article rule, unless its address says it is a wall
        return identity.sends_back(asked, final) and (identity.wall_address(final)
                                                      or not identity.declares_article(response))

    def follow_meta_refresh(self, response, target: str):
        """The request a page without text sends its readers on to (crawler/spiders/elsewhere.py)."""
        self.crawler.stats.inc_value("archive/meta_refresh_followed")
        self.logger.info("%s: no text, and a meta refresh to %s: following it", response.url, target)
        return elsewhere.follow_request(response, target, self.on_error)

    def drop_blocked_images(self, fields: dict, page_url: str) -> None:
        """Images at internal addresses out of the article (crawler/net/policy.py), each one named."""
        for url, reason in drop_blocked_images(fields, self.allowed_networks):
            self.crawler.stats.inc_value("guard/blocked_in_article")
            self.logger.warning("%s: image %s dropped: %s", page_url, url, reason)

    def article(self, key: str, response, fields: dict) -> Article:
        return Article(
            key=key,  # the stored key when the article is archived (a refresh): never re-derived
            source_url=response.meta["seed_url"],
            url=response.url,
            seed=response.meta.get("seed"),
            capture=response.meta.get("warc_capture"),
            validators=validators(response),
            browser=browser.rendered(response),
            fetched_at=utcnow(),
            **fields,
        )

    def alternates(self, url, meta) -> list[str]:
        """Other URLs of the same article not tried yet (qq's two hosts)."""
        return elsewhere.untried(url, meta, sites.alternate_urls(url))

    def moved_to(self, response) -> str | None:
        """Where a 404 or 410 of an archived article says it moved (its
        canonical, crawler/sites/identity.py), to be asked there too: the
        page there is the article only if it holds the archived text. A
        first crawl takes no other page on a 404's word."""
        seed_url = response.meta["seed_url"]
        if response.status not in (404, 410) or state_store(self.crawler).get(
                response.meta.get("article_key") or sites.article_key(seed_url)) is None:
            return None
        return identity.moved_to(response, seed_url)

    def try_elsewhere(self, url, meta, reason, kind, request=None, also: str | None = None) -> list:
        """The article asked at its next address (its other ones, then ``also``,
        where the failed page says it is), or its failure when none is left
        (crawler/spiders/elsewhere.py): what the callback yields."""
        others = elsewhere.untried(url, meta, [*self.alternates(url, meta), also])
        if others:
            self.logger.warning("%s: %s at %s; trying %s", meta["seed_url"], reason, url, others[0])
            return [elsewhere.retry_request(others[0], url, meta, reason, kind, request, self.parse_article,
                                            self.on_error)]
        kind, reason = elsewhere.final_failure(meta, url, reason, kind)
        return self.fail(meta["seed_url"], reason, kind=kind)

    # --- images, for the WARC only ------------------------------------------

    async def image_requests(self, article) -> list:
        """Each image of the article once (ARCHIVE_IMAGES); one archived before
        is asked conditionally, and an unchanged answer is a revisit of that
        capture, not a second copy."""
        if not self.settings.getbool("ARCHIVE_IMAGES"):
            return []
        urls = self.image_urls(article)
        # index look-ups and WARC reads in the archive I/O thread, not on the reactor
        indexed = urls and (Path(self.settings.get("ARCHIVE_DIR")) / "index.cdxj").is_file()
        earlier = await run_io(self.crawler, self.earlier_captures, urls) if indexed else {}
        return [self.image_request(url, earlier.get(url)) for url in urls]

    @staticmethod
    def image_urls(article) -> list[str]:
        urls = [b["src"] for b in article.get("blocks") or [] if b["type"] == "image"]
        if article.get("thumbnail"):
            urls.append(article["thumbnail"])
        return [url for url in dict.fromkeys(urls) if url.startswith(("http://", "https://"))]

    def earlier_captures(self, urls) -> dict:
        """The latest capture of each image archived before (crawler.warc.lookup)."""
        return {url: latest_capture(self.settings.get("ARCHIVE_DIR"), url) for url in urls}

    def image_request(self, url: str, capture: dict | None):
        return scrapy.Request(
            url,
            callback=self.image_archived,
            errback=self.image_failed,
            headers=conditional_headers(capture),
            meta={"refresh_original": capture} if capture else {},
            priority=-10,  # after the articles
        )

    def image_archived(self, response):
        stats = self.crawler.stats
        if response.status == 304 or (response.meta.get("warc_capture") or {}).get("revisit"):
            stats.inc_value("archive/images/unchanged")
        elif response.status >= 400:
            stats.inc_value("archive/images/http_error")
            self.logger.warning("image %s answered HTTP %d", response.url, response.status)
        elif not is_image(response):
            stats.inc_value("archive/images/not_image")
            ctype = response.headers.get("Content-Type", b"").decode("latin-1") or "no content type"
            self.logger.warning("image %s answered something that is not an image (%s)", response.url, ctype)
        else:
            stats.inc_value("archive/images/fetched")

    def image_failed(self, failure):
        self.crawler.stats.inc_value("archive/images/failed")
        kind, reason = failure_reason(failure, self.settings)
        self.logger.warning("image %s not fetched: %s", failure.request.url, reason)

    def on_error(self, failure):
        request = failure.request
        kind, reason = failure_reason(failure, self.settings)
        yield from self.try_elsewhere(request.url, request.meta, reason, kind=kind, request=request)

    def fail(self, url: str, reason: str, kind: str | None = None) -> tuple:
        """Say that ``url`` was not archived; nothing to yield, so a route may ``return self.fail(...)``."""
        self.logger.error("not archived: %s: %s", url, reason)
        self.crawler.signals.send_catch_log(
            signal=crawler_signals.url_failed, url=url, reason=reason, kind=kind or reason, spider=self
        )
        return ()
