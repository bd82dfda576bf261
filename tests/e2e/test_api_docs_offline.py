"""Issue 15 finding 6: /docs and /redoc load nothing from a third-party host.

Before, Swagger UI's script and style came from cdn.jsdelivr.net (a blank page on an offline
server, and a third party told of every visit).
"""

from __future__ import annotations

import re

from tests.e2e.api_fixtures import Api

ASSET = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|url:\s*'([^']+)'""")


def test_docs_pages_load_every_asset_from_this_server(sqlite_api: Api) -> None:
    client = sqlite_api.client
    for page, kinds in (("/docs", ("js", "css", "png", "json")), ("/redoc", ("js", "png", "json"))):
        html = client.get(page)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "http://" not in html.text and "https://" not in html.text and "//cdn" not in html.text
        urls = [a or b for a, b in ASSET.findall(html.text)]
        assert sorted({u.rsplit(".", 1)[-1] for u in urls}) == sorted(kinds), (page, urls)
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), (page, url)  # same origin
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 100, (page, url, asset.status_code)
    bundle = client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text and bundle.headers["content-type"].startswith(
        ("application/javascript", "text/javascript")
    )
