"""How Chromium is launched: the system's binary, headless, every request through the guard proxy.

Playwright's own browser download is never used (``BROWSER_EXECUTABLE``).
Chromium is launched with ``--proxy-server`` pointing at the crawl's guard
proxy (crawler/net/guardproxy/; Playwright's ``proxy`` option, with the run's
secret the guard proxy asks for) and ``--proxy-bypass-list=<-loopback>``, so
redirect hops, popups, workers and WebSockets pass the network guard as the
page's own requests do. WebRTC may use only proxied TCP, so no UDP leaves
around the proxy. HOME and TMPDIR are the browser's folder (workdir.py).
"""

from __future__ import annotations

import os

from crawler.browser.workdir import BrowserDir

#: Chromium switches that keep every request on the guard proxy (never
#: around it, not even for loopback or link-local addresses: ``<-loopback>``
#: removes those implicit bypasses) and WebRTC off UDP. The proxy itself is
#: Playwright's ``proxy`` launch option (``--proxy-server``, and the run's
#: credentials, given to the browser over its protocol, never on a command line).
PROXY_SWITCHES = ("--proxy-bypass-list=<-loopback>", "--webrtc-ip-handling-policy=disable_non_proxied_udp")


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
