"""The throughput benchmark's HTTPS page server: CONNECT, TLS from its own CA, GET.

Not a benchmark (nothing is timed): only that the server answers as a
proxy does, so that bench/throughput.py --https measures a real TLS crawl.
"""

from __future__ import annotations

import http.client
import ssl

from bench.throughput import PageServer, make_ca


def test_https_page_server_answers_connect_with_tls_from_its_ca(tmp_path):
    url = "https://news7.example/news/7.html"
    ca, cert, key = make_ca(tmp_path, {"news7.example"})
    server = PageServer({url: b"<html><body><p>seven</p></body></html>"}, tls=(cert, key))
    try:
        port = server.server.server_address[1]
        context = ssl.create_default_context(cafile=str(ca))  # verifies the chain and the host name
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
        conn.set_tunnel("news7.example", 443)
        conn.request("GET", "/news/7.html")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b"<html><body><p>seven</p></body></html>"
        conn.close()

        # an https:// page is never served in clear, as an absolute-URI GET
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        plain.request("GET", url)
        assert plain.getresponse().status == 400
        plain.close()
    finally:
        server.stop()
