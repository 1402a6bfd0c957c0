"""The download handler for http(s): Scrapy's own, plus headless Chromium for browser requests.

Plain requests go to Scrapy's HTTP/1.1 handler as before. A request with
``meta["browser"]`` (crawler/browser/policy.py decides which) is rendered by one
browser shared by the whole crawl (renderer.py: scrapy-playwright with the
system's Chromium, ``BROWSER_EXECUTABLE``; Playwright's own browser download
is never used). scrapy-playwright's handler, installed as such, starts its
Playwright driver when the engine starts; here the renderer is built, and
Playwright imported, on the first browser request, so a crawl that needs no
browser starts none.

What a render gives back, and why:

* the page's document exactly as served (headers as received, body as
  decoded by Playwright, see pagecapture.py), with ``flags=["browser"]``:
  the WARC capture middleware records it like any other exchange. A
  navigation the browser saw redirected comes back hop by hop: the first
  hop is returned as served, and Scrapy's redirect middleware asks for the
  next, which is served from what the browser already fetched;
* in ``meta["browser_render"]``, for crawler/downloadermiddlewares/browser.py:
  the rendered DOM, a screenshot, and every other exchange of the page
  (scripts, XHR/fetch JSON, images, frames) for the WARC.

Capture by Playwright's response events rather than a WARC-writing proxy
(warcprox): the crawl keeps its one WARC writer and its record rules.

Every request the browser makes goes through the crawl's guard proxy
(crawler/net/guardproxy/): Chromium is launched with ``--proxy-server``
pointing at it (Playwright's ``proxy`` option, with the run's secret the
guard proxy asks for) and ``--proxy-bypass-list=<-loopback>``, so redirect hops,
popups, workers and WebSockets pass the network guard as the page's own
requests do, and the proxy chains to the operator's proxy (``http_proxy``/
``https_proxy``/``no_proxy``, ``HOST_PROXY_MAP``) exactly as Scrapy would.
WebRTC may use only proxied TCP, so no UDP leaves around the proxy.

This module also holds the browser's temporary folder, inside the archive:
``<ARCHIVE_DIR>/.tmp/browser-<pid>-<host>-<random>/`` holds the browser's
HOME and TMPDIR (Chromium's profile and its process-singleton socket, the
Playwright driver's artifacts), so nothing lands in ~/.config, ~/.cache or
/tmp. The folder is removed when the browser closes; one left by a killed
crawl is swept by the next one (its owner's lock is free), as is anything
else in ``.tmp`` older than ``STALE_AFTER``. Chromium is started through a
two-line wrapper that enters that folder, so that its TMPDIR can be the
short ``/proc/self/cwd`` (Linux): a UNIX socket's path has at most 107
bytes, and the archive's own path may be longer.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shlex
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from crawler.archive.storage import ArchiveStore

logger = logging.getLogger(__name__)

#: Entries of <ARCHIVE_DIR>/.tmp not in use and older than this are removed.
STALE_AFTER = 10 * 60
#: Names of the browser's temporary folders: pid, host, mkdtemp's random part.
TMP_NAME = re.compile(r"^browser-(?P<pid>\d+)-(?P<host>.+)-[a-z0-9_]{8}$")
#: Chromium switches that keep every request on the guard proxy (never
#: around it, not even for loopback or link-local addresses: ``<-loopback>``
#: removes those implicit bypasses) and WebRTC off UDP. The proxy itself is
#: Playwright's ``proxy`` launch option (``--proxy-server``, and the run's
#: credentials, given to the browser over its protocol, never on a command line).
PROXY_SWITCHES = ("--proxy-bypass-list=<-loopback>", "--webrtc-ip-handling-policy=disable_non_proxied_udp")


class BrowserError(Exception):
    """A page the browser could not render; the message says why."""


class BrowserTimeout(BrowserError):
    """A page that did not load and settle within BROWSER_PAGE_TIMEOUT."""


class RendererCrashed(BrowserError):
    """A page that crashed the browser's renderer."""


# --- the browser's temporary folder ----------------------------------------------

def host_name() -> str:
    """This machine's name as browser folders carry it."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "host"


@dataclass
class BrowserDir:
    """The browser's folder under <ARCHIVE_DIR>/.tmp, locked while in use."""

    path: Path
    _lock: object = field(default=None, repr=False)

    @property
    def home(self) -> Path:
        return self.path / "home"

    @property
    def tmp(self) -> Path:
        return self.path / "tmp"

    @classmethod
    def create(cls, archive_dir) -> "BrowserDir":
        root = ArchiveStore(archive_dir).path(".tmp")
        root.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f"browser-{os.getpid()}-{host_name()}-", dir=root))
        lock = open(path / "lock", "w")  # held until close: the sweep leaves a live folder alone
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for sub in ("home", "tmp"):
            (path / sub).mkdir(mode=0o700)
        return cls(path, lock)

    def launcher(self, executable: str) -> Path:
        """A wrapper that starts ``executable`` with its working directory in
        ``tmp``, for TMPDIR=/proc/self/cwd (see the module doc)."""
        path = self.path / "chromium"
        script = (f'#!/bin/sh\ncd "$(dirname "$0")/tmp" || exit 1\n'
                  f"exec {shlex.quote(executable)} \"$@\"\n")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
        with os.fdopen(fd, "w") as handle:
            handle.write(script)
        return path

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _owner_gone(entry: Path) -> bool | None:
    """Whether the crawl that made ``entry`` is gone (its lock is free); None
    when it has no lock file."""
    try:
        handle = open(entry / "lock", "r")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def sweep_tmp(archive_dir, now: float | None = None) -> list[str]:
    """Remove what dead crawls left in <ARCHIVE_DIR>/.tmp; the names removed.

    A browser folder of this machine goes when its owner's lock is free (a
    ``kill -9`` frees it). Another machine's (a shared crawl on one archive)
    is left to that machine's next crawl: ``flock`` does not reach across
    every shared filesystem. Anything else goes once older than STALE_AFTER.
    """
    root = ArchiveStore(archive_dir).path(".tmp")
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    for entry in sorted(root.iterdir()):
        try:
            age = now - entry.lstat().st_mtime
        except OSError:
            continue
        match = TMP_NAME.match(entry.name)
        if match and not entry.is_symlink() and entry.is_dir():
            if match["host"] != host_name():
                continue
            gone = _owner_gone(entry)
            if gone is False or (gone is None and age < STALE_AFTER):
                continue
        elif age < STALE_AFTER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry.name)
    return removed


@contextlib.contextmanager
def driver_tmpdir(path: Path):
    """TMPDIR for the Playwright driver started inside this block: it makes its
    ``playwright-artifacts-*`` and ``playwright_chromiumdev_profile-*`` folders
    in its TMPDIR, and takes its environment from this process when spawned."""
    # this process's own temporary folder is fixed first: tempfile reads TMPDIR once, on first use, and
    # whatever first uses it meanwhile (the extraction pool's forkserver socket) must not land in here
    tempfile.gettempdir()
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before


# --- the browser -----------------------------------------------------------

def launch_options(settings, workdir: BrowserDir, proxy_url: str, credentials: tuple[str, str] | None = None) -> dict:
    """Playwright launch options: the system Chromium (through the folder's
    launcher), headless, its switches, every request through the guard proxy
    at ``proxy_url`` with that run's ``credentials`` (the guard proxy answers
    nothing else), HOME and TMPDIR in the browser's folder in the archive."""
    home = str(workdir.home)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(HOME=home, TMPDIR="/proc/self/cwd", XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_DATA_HOME=os.path.join(home, ".local", "share"))
    return {
        "executable_path": str(workdir.launcher(settings.get("BROWSER_EXECUTABLE"))),
        "headless": True,
        "args": [*settings.getlist("BROWSER_ARGS"), *PROXY_SWITCHES],
        # Playwright passes --proxy-server, and answers the proxy's 407 with the credentials
        "proxy": {"server": proxy_url, **(dict(zip(("username", "password"), credentials)) if credentials else {})},
        "env": env,
        "downloads_path": str(workdir.tmp),
        # Scrapy handles the crawl's signals; the browser closes with the crawl
        "handle_sigint": False,
        "handle_sigterm": False,
        "handle_sighup": False,
    }


def shared_renderer(crawler):
    """The crawl's one renderer, built on the first browser request and
    closed when the engine stops."""
    renderer = getattr(crawler, "_browser_renderer", None)
    if renderer is None:
        # imported here: a crawl that needs no browser does not even load Playwright
        from crawler.browser.renderer import Renderer

        renderer = crawler._browser_renderer = Renderer(crawler)
        crawler.signals.connect(renderer.close, signal=signals.engine_stopped, weak=False)
    return renderer


class ChromiumDownloadHandler(HTTP11DownloadHandler):
    """http(s): Scrapy's HTTP/1.1 handler, and the browser for ``meta["browser"]``.

    Built when the crawl starts: it sweeps what a killed crawl's browser left
    in <ARCHIVE_DIR>/.tmp (see ``sweep_tmp``).
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        try:
            removed = sweep_tmp(crawler.settings.get("ARCHIVE_DIR"))
        except (OSError, ValueError) as exc:
            logger.warning("browser: could not sweep the archive's .tmp: %s", exc)
            removed = []
        if removed:
            logger.info("browser: removed %d stale temporary folder(s) from the archive's .tmp: %s",
                        len(removed), ", ".join(removed))
            crawler.stats.inc_value("browser/tmp_swept", len(removed))

    async def download_request(self, request):
        if request.meta.get("browser"):
            return await shared_renderer(self._crawler).render(request)
        return await super().download_request(request)
