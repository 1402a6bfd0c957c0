"""The browser's guard proxy: every request Chromium makes passes the crawl's guard (proxy.py)."""
