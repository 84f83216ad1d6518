"""Federation in Chromium, between two local stacks (tests/e2e/test_federation.py sets them up):
the sign-in page's "Sign in with Company SSO" link, the upstream's own sign-in and consent, back
to the downstream's consent and the app; the page of a refused answer; the account page's
providers. Screenshots at 1280 and 390 px, light and dark."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, expect

from oauth_core import constants
from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.keys import KeySet
from oauth_core.tokens.upstream import UpstreamProviders
from oauth_core.wiring import memory_components
from tests.browser.conftest import SCREENS, Scheme
from tests.browser.test_login_flow import app_callback  # noqa: F401 - the app's redirect URI
from tests.e2e.flows import authorize_params, pkce_pair
from tests.e2e.test_federation import (  # noqa: F401 - the two stacks
    DISPLAY,
    PASSWORD,
    Federation,
    federation,
    ready,
    upstream_user,
)
from tests.e2e.test_security_client_credentials import oauthctl
from tests.support import ISSUER, form_fields

APP = "fed-browser-app"


@pytest.fixture(scope="module")
def downstream_app(ready: Federation) -> str:  # noqa: F811
    from oauthctl.admin import Admin

    Admin.connect(endpoint_url=ready.downstream.aws_endpoint).clients().create(
        {
            "client_id": APP,
            "client_name": "Federation test app",
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["http://127.0.0.1/callback"],
            "scope": "openid profile email",
        },
        replace=True,
    )
    return APP


def open_sign_in(page: Page, ready: Federation, redirect_uri: str, **extra: str) -> None:  # noqa: F811
    params = authorize_params(
        client_id=APP,
        challenge=pkce_pair()[1],
        redirect_uri=redirect_uri,
        scope="openid profile email",
        **extra,
    )
    page.goto(f"{ready.downstream.issuer}/authorize?{urlencode(params)}")


@SCREENS
def test_signing_in_with_the_upstream_in_chromium(
    chromium: Browser,
    ready: Federation,  # noqa: F811
    downstream_app: str,
    app_callback: tuple[str, list[str]],  # noqa: F811
    output_dir: Path,
    width: int,
    scheme: Scheme,
) -> None:
    upstream_username = f"fed-{width}-{scheme}"
    upstream_user(ready.upstream, upstream_username, f"{upstream_username}@corp.example", True)
    redirect_uri, callbacks = app_callback
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()

    # The downstream's sign-in page offers the provider beside the password.
    open_sign_in(page, ready, redirect_uri)
    button = page.get_by_role("link", name=f"Sign in with {DISPLAY}")
    expect(button).to_be_visible()
    page.screenshot(
        path=str(output_dir / f"federation-sign-in-{width}-{scheme}.png"), full_page=True
    )

    # To the upstream: its own sign-in and consent pages.
    button.click()
    page.wait_for_url(f"{ready.upstream.issuer}/login**")
    page.get_by_label("Username").fill(upstream_username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Downstream sign-in")).to_be_visible()  # the upstream's consent
    page.get_by_role("button", name="Allow").click()

    # Back at the downstream, signed in: its own consent for the app, then the app's code.
    page.wait_for_url(f"{ready.downstream.issuer}/consent**")
    expect(page.get_by_text(f"Signed in as corp.{upstream_username}")).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect_uri}**")
    assert callbacks and "code=" in callbacks[-1]

    # An answer that is not this browser's attempt's: a page, and the way back.
    open_sign_in(page, ready, redirect_uri, prompt="login")
    page.get_by_role("link", name=f"Sign in with {DISPLAY}").click()
    page.wait_for_url(f"{ready.upstream.issuer}/login**")
    page.goto(f"{ready.downstream.issuer}/login/federated/callback?code=x&state=not-this-one")
    expect(page.get_by_role("alert")).to_contain_text("could not be verified")
    expect(page.get_by_role("link", name="Back to the sign-in page")).to_be_visible()
    page.screenshot(
        path=str(output_dir / f"federation-refused-{width}-{scheme}.png"), full_page=True
    )

    # The account of the sign-in: its provider listed, linked for good (it made the account).
    page.goto(f"{ready.downstream.issuer}/account")
    expect(page.get_by_role("heading", name="Sign-in providers")).to_be_visible()
    expect(page.get_by_text("so it stays linked")).to_be_visible()
    made = output_dir / f"federation-account-made-{width}-{scheme}.png"
    page.screenshot(path=str(made), full_page=True)
    context.close()


@SCREENS
def test_the_account_page_offers_to_link_the_provider(
    chromium: Browser,
    ready: Federation,  # noqa: F811
    output_dir: Path,
    width: int,
    scheme: Scheme,
) -> None:
    username = f"linker-{width}-{scheme}"
    made = oauthctl(
        ready.downstream, "users", "create", username, "--password-stdin", stdin="linker pw 12\n"
    )
    assert made.returncode == 0, made.stderr
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{ready.downstream.issuer}/account")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("linker pw 12")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign-in providers")).to_be_visible()
    expect(page.get_by_role("button", name=f"Link {DISPLAY}")).to_be_visible()
    page.screenshot(
        path=str(output_dir / f"federation-account-{width}-{scheme}.png"), full_page=True
    )
    # The button leaves for the upstream's sign-in (a fresh one: prompt=login).
    page.get_by_role("button", name=f"Link {DISPLAY}").click()
    page.wait_for_url(f"{ready.upstream.issuer}/login**")
    expect(page.get_by_label("Username")).to_be_visible()
    context.close()


@SCREENS
def test_u6_the_account_page_asks_for_the_password_to_link_after_ten_minutes(
    chromium: Browser, session_keys: KeySet, output_dir: Path, width: int, scheme: Scheme
) -> None:
    """The providers' section of a sign-in older than ten minutes, rendered by the in-memory
    server on a fixed clock (a live stack's clock cannot be moved) and served to Chromium with
    its own headers (its CSP too)."""
    from tests.unit.test_federation import Browser as MemoryBrowser
    from tests.unit.test_federation import FakeProvider, declare

    clock = FixedClock()
    services = memory_components(Settings(issuer=ISSUER), clock=clock, keys=session_keys)
    fake = FakeProvider(clock)
    services.upstream = UpstreamProviders(fake.fetch, fake.post, clock)
    services.user_directory.create("ivy", "ivy's own password", {})
    declare(services, jit_create=False)
    memory = MemoryBrowser(services)
    fields = form_fields(memory.get("/account").body)
    signed = memory.post(
        "/account/login", {**fields, "username": "ivy", "password": "ivy's own password"}
    )
    assert signed.status_code == 303
    clock.advance(constants.REAUTHENTICATION_WINDOW + 1)
    served = memory.get("/account")
    assert served.status_code == 200
    context = chromium.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    page.route(
        f"{ISSUER}/account",
        lambda route: route.fulfill(status=200, headers=served.headers, body=served.body),
    )
    page.goto(f"{ISSUER}/account")
    providers = page.get_by_role("heading", name="Sign-in providers")
    expect(providers).to_be_visible()
    expect(page.get_by_text("To link a provider, type your password too")).to_be_visible()
    field = page.locator("#link_password_0")
    expect(field).to_be_visible()
    assert field.get_attribute("autocomplete") == "current-password"
    expect(page.get_by_role("button", name="Link Corp SSO")).to_be_visible()
    providers.scroll_into_view_if_needed()
    page.screenshot(
        path=str(output_dir / f"federation-account-password-{width}-{scheme}.png"), full_page=True
    )
    context.close()
