"""trafilatura's own CLI, its downloads sent through a forward proxy.

The benchmark's peer column: ``trafilatura -i urls.txt ...`` on the pages
the crawl fetches, through the same HTTPS proxy on 127.0.0.1. trafilatura
2.x does not read ``https_proxy`` (only a SOCKS proxy in ``http_proxy``, with
PySocks installed) and verifies against certifi's bundle alone, so this
starts its CLI with its download pool replaced by a urllib3 ``ProxyManager``
for ``https_proxy`` that trusts ``SSL_CERT_FILE`` (the proxy's CA). Nothing
else of the CLI changes; pass it its usual arguments:

    https_proxy=http://127.0.0.1:PORT SSL_CERT_FILE=ca.pem \\
        .venv/bin/python bench/trafilatura_peer.py -i urls.txt --parallel 2 --markdown ...

Run with ``--config-file`` holding ``SSRF_PROTECTION = off`` (the pool is
then kept, not replaced by trafilatura's address-vetting one) and
``SLEEP_TIME = 0``.
"""

from __future__ import annotations

import os

import urllib3
from trafilatura import cli, downloads


def main() -> None:
    proxy = os.environ["https_proxy"]
    downloads.HTTP_POOL = urllib3.ProxyManager(proxy, num_pools=50, ca_certs=os.environ["SSL_CERT_FILE"],
                                               cert_reqs="CERT_REQUIRED")
    cli.main()


if __name__ == "__main__":
    main()
