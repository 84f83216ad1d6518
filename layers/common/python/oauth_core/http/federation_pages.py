"""The pages of federation (docs/federation.md), with the hardening of every page here
(oauth_core.http.pages: SECURITY G1-G4): what a user reads when a sign-in with another provider
cannot go on, the account page's section of linked providers, and the step to a provider whose
sign-in page is on another origin than its issuer.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from oauth_core.http.pages import page, password_again
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.observability import logger

ACCOUNT_FEDERATED_PATH = "/account/federated"


def federation_problem(
    request: HttpRequest,
    title: str,
    message: str,
    *,
    back: tuple[str, str] | None = None,
    status: int = 400,
    cookies: Sequence[str] = (),
    detail: str = "",
) -> HttpResponse:
    """A sign-in with a provider that cannot go on: a plain sentence, where to go back to (a
    link of ours: `back` is (href, words)), and a reference the log line carries too."""
    reference = request.request_id or secrets.token_hex(8)
    logger.info("federated sign-in refused", extra={"reference": reference, "detail": detail})
    link = f'<p><a href="{escape(back[0])}">{escape(back[1])}</a></p>' if back else ""
    return page(
        title,
        f'<h1>{escape(title)}</h1><p role="alert">{escape(message)}</p>{link}'
        '<p class="reference">If it keeps happening, tell your administrator and quote this '
        f'reference: <code id="reference">{escape(reference)}</code></p>',
        status=status,
        cookies=list(cookies),
    )


def continue_to_provider(display_name: str, url: str, cookies: Sequence[str]) -> HttpResponse:
    """A link to the provider's sign-in page, where a redirect after our form would be one the
    page's form-action does not allow (the provider signs in on another origin than its
    issuer's)."""
    return page(
        f"Continue to {display_name}",
        f"<h1>Continue to {escape(display_name)}</h1>"
        f"<p>Sign in there with the account you want to link.</p>"
        f'<p><a class="button" href="{escape(url)}">Continue to {escape(display_name)}</a></p>',
        cookies=list(cookies),
    )


@dataclass(frozen=True)
class ProviderRow:
    """A provider as the account page lists it, for the signed-in user."""

    name: str
    display_name: str
    linked_on: str | None  # a date: linked; None: not linked
    subject: str = ""  # the linked identity's `sub` at the provider
    removable: bool = True  # False: the link made the account (just in time)


def _form(csrf: str, fields: dict[str, str], button: str, extra: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in {"csrf_token": csrf, **fields}.items()
    )
    return (
        f'<form method="post" action="{ACCOUNT_FEDERATED_PATH}">{hidden}{extra}'
        f'<button type="submit" class="secondary">{escape(button)}</button></form>'
    )


def providers_section(
    csrf: str, rows: Sequence[ProviderRow], *, needs_password: bool = False
) -> str:
    """The account page's "Sign-in providers": link one, or unlink one linked. Linking needs a
    recent sign-in, or the password (`needs_password`)."""
    if not rows:
        return ""
    items = []
    for index, row in enumerate(rows):
        name = escape(row.display_name)
        if row.linked_on is None:
            said = "<p>Not linked.</p>"
            fields = {"action": "link", "provider": row.name}
            password = password_again(f"link_password_{index}") if needs_password else ""
            action = _form(csrf, fields, f"Link {row.display_name}", password)
        elif row.removable:
            said = f"<p>Linked on {escape(row.linked_on)}: you can sign in with it.</p>"
            fields = {"action": "unlink", "provider": row.name, "subject": row.subject}
            action = _form(csrf, fields, f"Unlink {row.display_name}")
        else:
            said = (
                f"<p>Linked on {escape(row.linked_on)}. Your account was made when you first "
                "signed in with it, so it stays linked.</p>"
            )
            action = ""
        items.append(f'<li><span class="app">{name}</span>{said}{action}</li>')
    linkable = any(row.linked_on is None for row in rows)
    confirm = (
        "<p>To link a provider, type your password too (or sign out and sign in again).</p>"
        if needs_password and linkable
        else ""
    )
    return (
        '<h2 id="providers">Sign-in providers</h2>'
        "<p>Sign in with an account you have elsewhere instead of your password. Linking "
        f"asks you to sign in there.</p>{confirm}"
        f'<ul class="apps">{"".join(items)}</ul>'
    )
