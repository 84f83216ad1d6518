"""The page for an authorization request that cannot be redirected back (plain words and a
reference, oauth_core.http.pages.refused_request_page), served with its own headers (CSP
included) and screenshot at desk and phone widths, light and dark; none scrolls sideways."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Route, expect

from oauth_core.http.pages import REFUSED_TITLE, refused_request_page
from oauth_core.http.request import HttpRequest

URL = "http://oauth.test/authorize"


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_refused_request_page_fits_and_reads_plainly(
    chromium: Browser, output_dir: Path, width: int, scheme: Literal["light", "dark"]
) -> None:
    # A request id as long as the local gateway's (API Gateway's own are shorter).
    request = HttpRequest("GET", "/authorize", request_id="5f0c2b8e9d4a4e61a3b7c0d9e8f1a2b3")
    response = refused_request_page(
        "The redirect_uri is not registered for this application.", request
    )

    def serve(route: Route) -> None:
        route.fulfill(status=response.status_code, headers=response.headers, body=response.body)

    context = chromium.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.route(URL, serve)
    page.goto(URL)
    expect(page.get_by_role("heading", name=REFUSED_TITLE)).to_be_visible()
    expect(page.locator("#reference")).to_have_text("5f0c2b8e9d4a4e61a3b7c0d9e8f1a2b3")
    assert "redirect_uri" not in page.locator("main").inner_text()
    # The stylesheet applied under the page's CSP (its nonce): the card has its border radius.
    assert page.locator("main").evaluate("e => getComputedStyle(e).borderRadius") == "12px"
    page.screenshot(path=str(output_dir / f"refused-{width}-{scheme}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
