"""Server-rendered HTML: the sign-in, consent, sign-out and error pages, with the browser
hardening of SECURITY G2-G4: cookie flags, security headers, 303 redirects.

No external assets: one inline stylesheet allowed by a per-response CSP nonce. The pages that
offer passkeys load one script of ours (`Script`, oauth_core/http/passkeys.js), which the CSP
names by its URL and the tag by its hash; every page works without it (passwords).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from oauth_core import constants
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.observability import logger

SESSION_COOKIE = "session"
CSRF_COOKIE = "csrf"

STYLE = """
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b6470;--bg:#f4f6f8;--card:#fff;
--line:#d5dbe1;--input-line:#7c8692;--accent:#1f5fd1;--accent-fg:#fff;--error:#b42318;--error-bg:#fef3f2}
@media (prefers-color-scheme:dark){:root{--fg:#e8ecf0;--muted:#9aa4ae;--bg:#0f1318;--card:#171c22;
--line:#2c343d;--input-line:#6b7682;--accent:#5b8def;--accent-fg:#0b0e12;--error:#fda29b;--error-bg:#3a1512}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{width:100%;max-width:24rem;margin:1rem;padding:2rem;background:var(--card);
border:1px solid var(--line);border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.06)}
h1{font-size:1.375rem;margin:0 0 .25rem}
p{margin:.25rem 0 1rem;color:var(--muted)}
label{display:block;font-weight:600;margin:1rem 0 .375rem}
input[type=text],input[type=password]{width:100%;padding:.625rem .75rem;font:inherit;color:inherit;
background:transparent;border:1px solid var(--input-line);border-radius:8px}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
button{width:100%;margin-top:1.5rem;padding:.7rem;font:inherit;font-weight:600;border:0;
border-radius:8px;background:var(--accent);color:var(--accent-fg);cursor:pointer}
button.secondary{background:transparent;color:var(--fg);border:1px solid var(--input-line);margin-top:.75rem}
.error{padding:.75rem;border-radius:8px;background:var(--error-bg);color:var(--error);margin:1rem 0 0}
ul{padding-left:1.25rem;margin:.5rem 0 0}
.app{font-weight:600;color:var(--fg)}
.note{margin:1rem 0 0;padding:.75rem;border-left:3px solid var(--accent);color:var(--fg)}
main.wide{max-width:34rem}
a{color:var(--accent)}
h2{font-size:1.0625rem;margin:1.75rem 0 .25rem;padding-top:1.25rem;border-top:1px solid var(--line)}
.apps{list-style:none;padding:0}
.apps>li{padding:.75rem 0;border-bottom:1px solid var(--line)}
.apps>li:last-child{border-bottom:0}
.apps p{margin:.125rem 0 .5rem;font-size:.9375rem}
.scopes{margin:.25rem 0;font-size:.9375rem}
.apps button{width:auto;margin-top:0;padding:.45rem .9rem}
.notice{padding:.75rem;border-radius:8px;border-left:3px solid var(--accent);color:var(--fg);margin:1rem 0 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:.75rem 0 0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
footer{margin-top:1.5rem;font-size:.8125rem;color:var(--muted);text-align:center}
.reference{font-size:.875rem;margin-bottom:0}
.other{margin:1rem 0 0;text-align:center;font-size:.9375rem}
.reference code{font:.875rem ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--fg);overflow-wrap:anywhere}
.or{display:flex;align-items:center;gap:.75rem;margin:1.5rem 0 0;font-size:.875rem}
.or::before,.or::after{content:"";flex:1;border-top:1px solid var(--line)}
a.button{display:block;margin-top:.75rem;padding:.7rem;border-radius:8px;text-align:center;
font-weight:600;text-decoration:none;color:var(--fg);border:1px solid var(--input-line)}
a.button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.steps{padding-left:1.25rem;color:var(--muted)}
.qr{margin:1rem auto;width:max-content;max-width:100%}
.qr svg{display:block;max-width:100%;height:auto;border-radius:8px}
.secret code,.codes code{font:1rem ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--fg);letter-spacing:.04em}
.secret{overflow-wrap:anywhere}
.codes{columns:2;column-gap:1.5rem;padding-left:1.75rem;margin:1rem 0}
.codes li{margin:.25rem 0}.codes code{white-space:nowrap}
@media (max-width:480px){.codes{columns:1}}
form+p{margin-top:1.5rem}
.passkey-status{margin:.5rem 0 0;font-size:.9375rem}
.passkey-status:empty{display:none}
.warning{color:var(--error)}
"""


@dataclass(frozen=True)
class CookiePolicy:
    """`__Host-` names and `Secure` over HTTPS; plain names only for loopback development."""

    secure: bool

    def name(self, base: str) -> str:
        return f"__Host-{base}" if self.secure else base

    def set(self, base: str, value: str, max_age: int) -> str:
        parts = [
            f"{self.name(base)}={value}",
            "Path=/",
            "HttpOnly",
            "SameSite=Lax",
            f"Max-Age={max_age}",
        ]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def clear(self, base: str) -> str:
        return self.set(base, "", 0)

    def read(self, request: HttpRequest, base: str) -> str | None:
        wanted = self.name(base)
        for raw in request.cookies or tuple(filter(None, [request.header("cookie")])):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(raw)
            except Exception:  # a malformed cookie is no cookie  # noqa: S112
                continue
            if wanted in jar:
                return jar[wanted].value
        return None


@dataclass(frozen=True)
class Script:
    """The pages' one script: where it is served (with its version), its hash for the tag's
    `integrity`, and the URL the CSP allows (that one file, not the whole origin)."""

    path: str
    integrity: str
    source: str


@cache
def passkey_script() -> str:
    """The passkey script's text (oauth_core/http/passkeys.js), read once."""
    return Path(__file__).with_name("passkeys.js").read_text(encoding="utf-8")


def passkey_script_ref(origin: str) -> Script:
    digest = hashlib.sha256(passkey_script().encode()).digest()
    version = digest.hex()[:16]
    return Script(
        path=f"{constants.PASSKEY_SCRIPT_PATH}?v={version}",
        integrity="sha256-" + base64.b64encode(digest).decode(),
        source=f"{origin}{constants.PASSKEY_SCRIPT_PATH}",
    )


def security_headers(
    nonce: str, form_targets: tuple[str, ...] = (), script: Script | None = None
) -> dict[str, str]:
    # Chrome applies form-action to the redirect after a POST, so the client's origin must be
    # allowed where a form ends in a redirect to it.
    targets = " ".join(("'self'", *form_targets))
    scripts = f"script-src {script.source}; " if script else ""
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": (
            f"default-src 'none'; {scripts}style-src 'nonce-{nonce}'; img-src 'self' data:; "
            f"form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }


def origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


def short_date(epoch: int) -> str:
    """A day as the pages say it: "30 Nov 2026" (UTC)."""
    return time.strftime("%-d %b %Y", time.gmtime(epoch))


def request_page(
    title: str,
    body_html: str,
    redirect_uri: str | None,
    *,
    cookies: list[str] | None = None,
    script: Script | None = None,
) -> HttpResponse:
    """A page of an app's authorization request (sign-in, second factor, the passkey offer):
    its form's answer may redirect to the app's `redirect_uri`, and Chrome applies form-action
    to the redirect after a POST (G4), so the app's origin is a form target too. None: the
    account page's own request, which redirects nowhere else."""
    targets = (origin_of(redirect_uri),) if redirect_uri else ()
    return page(title, body_html, cookies=cookies, form_targets=targets, script=script)


def page(
    title: str,
    body_html: str,
    *,
    status: int = 200,
    cookies: list[str] | None = None,
    form_targets: tuple[str, ...] = (),
    wide: bool = False,
    script: Script | None = None,
) -> HttpResponse:
    nonce = secrets.token_urlsafe(16)
    main = '<main class="wide">' if wide else "<main>"
    tag = (
        f'<script src="{escape(script.path)}" integrity="{script.integrity}" defer></script>'
        if script
        else ""
    )
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f'<title>{escape(title)}</title><style nonce="{nonce}">{STYLE}</style>{tag}</head>'
        f"<body>{main}{body_html}</main></body></html>"
    )
    return HttpResponse(
        status, document, security_headers(nonce, form_targets, script), list(cookies or [])
    )


def error_page(
    message: str,
    *,
    status: int = 400,
    title: str = "Something went wrong",
    reference: str | None = None,
) -> HttpResponse:
    """An error the browser must not be redirected from: never a Location header. A reference,
    when given, is shown for the user to quote; the log line about the error carries it too."""
    quoted = (
        '<p class="reference">If it keeps happening, tell the application\'s support team and '
        f'quote this reference: <code id="reference">{escape(reference)}</code></p>'
        if reference
        else ""
    )
    return page(
        title,
        f'<h1>{escape(title)}</h1><p role="alert">{escape(message)}</p>'
        f"<p>Return to the application you came from and try again.</p>{quoted}",
        status=status,
    )


REFUSED_TITLE = "This sign-in link does not work"
REFUSED_MESSAGE = (
    "The application that sent you here made a sign-in request this service cannot accept. "
    "Nothing is wrong with your account."
)


def refused_request_page(detail: str, request: HttpRequest | None = None) -> HttpResponse:
    """An authorization request that cannot be answered with a redirect, because its client or
    redirect URI is not verified (RFC 9700 4.1). The user reads a plain sentence and a reference;
    the technical `detail` (e.g. "The redirect_uri is not registered for this application.")
    is for the app's developer, in the log line with the same reference. The reference is API
    Gateway's request id (every log line of the request carries it as `correlation_id`), or a
    random one where there is none."""
    reference = (request.request_id if request else "") or secrets.token_hex(8)
    logger.info("authorization request refused", extra={"reference": reference, "detail": detail})
    return error_page(REFUSED_MESSAGE, title=REFUSED_TITLE, reference=reference)


def see_other(location: str, cookies: list[str] | None = None) -> HttpResponse:
    """303: after a POST the browser follows with GET and never re-sends the form (G4)."""
    headers = {
        "Location": location,
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "no-referrer",
        "Content-Type": "text/html; charset=utf-8",
    }
    return HttpResponse(303, "", headers, list(cookies or []))


def with_query(base: str, params: dict[str, str]) -> str:
    """Append parameters to a URI that may already have a query (RFC 6749 3.1.2)."""
    query = urlencode(params)
    if not query:
        return base
    separator = "&" if urlsplit(base).query else ("" if base.endswith("?") else "?")
    return f"{base}{separator}{query}"


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def _sign_in_fields(
    action: str, hidden: str, username: str, error: str | None, passkey: str = ""
) -> str:
    """The error (if any) and the username-and-password form both sign-in pages show; with a
    `passkey` offer (passkey_offer), the username field also offers the browser's passkeys
    (conditional UI), and the form the button."""
    alert = f'<p class="error" role="alert" id="login-error">{escape(error)}</p>' if error else ""
    described = ' aria-describedby="login-error"' if error else ""
    # Focus where the user types next: the password once the username is known.
    user_focus, password_focus = ("", " autofocus") if username else (" autofocus", "")
    return (
        f"{alert}"
        f'<form method="post" action="{escape(action)}" novalidate>{hidden}'
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        f'autocomplete="{"username webauthn" if passkey else "username"}" '
        'autocapitalize="none" spellcheck="false" '
        f"required{user_focus}{described}>"
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" autocomplete="current-password" '
        f"required{password_focus}{described}>"
        '<button type="submit">Sign in</button>'
        f"{passkey}</form>"
    )


def login_form(
    *,
    request_id: str,
    csrf: str,
    client_name: str,
    username: str = "",
    error: str | None = None,
    providers: Sequence[tuple[str, str]] = (),
    passkey_options: str | None = None,
    forgot_href: str | None = None,
    sign_up_href: str | None = None,
) -> str:
    """`providers`: (name, display name) of the upstream providers offered beside the password
    (docs/federation.md): a link each, so it works without JavaScript and without a form.
    `passkey_options`: the WebAuthn request options (JSON) of a passkey sign-in, offered beside
    the password; with them, `offer_passkey`, which the script sets where this device could keep
    a passkey (oauth_core.endpoints.passkey_offer). `forgot_href`, `sign_up_href`: where "Forgot
    your password?" and "Create an account" go, when the stack offers them
    (oauth_core.http.email_pages)."""
    hidden = f"{_hidden('request_id', request_id)}{_hidden('csrf_token', csrf)}"
    passkey = (
        passkey_offer("/login/passkey", passkey_options) + _hidden("offer_passkey", "")
        if passkey_options
        else ""
    )
    fields = _sign_in_fields("/login", hidden, username, error, passkey)
    return (
        "<h1>Sign in</h1>"
        f'<p>to continue to <span class="app">{escape(client_name)}</span></p>'
        f"{fields}{other_ways(forgot_href, sign_up_href)}{provider_links(request_id, providers)}"
        f"{ACCOUNT_LINK}"
    )


def passkey_offer(
    action: str, options: str, *, label: str = "Sign in with a passkey", first: bool = False
) -> str:
    """ "Sign in with a passkey", inside the sign-in form (its request id and CSRF token, once
    on the page): hidden until the script finds the browser able (a page without JavaScript
    shows the password alone). The script fills `credential` with the browser's answer and
    posts the form to `action`; it also offers the passkeys in the username field's autofill
    (conditional mediation), where the form has one. A password sign-in posts `credential`
    empty, which /login ignores. `first`: the form's only way (a second-factor step's passkey):
    a primary button, no "or" before it."""
    style, before = ("", "") if first else (' class="secondary"', '<p class="or">or</p>')
    return (
        '<input type="hidden" name="credential" value="">'
        f'<div id="passkey-sign-in" data-passkey-action="{escape(action)}" '
        f'data-passkey-get="{escape(options)}" hidden>'
        f"{before}"
        f'<button type="button"{style} id="passkey-button">{escape(label)}'
        "</button>"
        '<p class="passkey-status" id="passkey-status" role="status" aria-live="polite"></p>'
        "</div>"
    )


FEDERATED_START_PATH = "/login/federated"


def provider_links(request_id: str, providers: Sequence[tuple[str, str]]) -> str:
    if not providers:
        return ""
    links = []
    for name, display in providers:
        href = with_query(FEDERATED_START_PATH, {"request_id": request_id, "provider": name})
        links.append(f'<a class="button" href="{escape(href)}">Sign in with {escape(display)}</a>')
    return f'<p class="or">or</p><nav aria-label="Other ways to sign in">{"".join(links)}</nav>'


def other_ways(forgot_href: str | None, sign_up_href: str | None = None) -> str:
    """The links under a sign-in form: a forgotten password, a new account."""
    forgot = (
        f'<p class="other"><a href="{escape(forgot_href)}">Forgot your password?</a></p>'
        if forgot_href
        else ""
    )
    sign_up = (
        f'<p class="other">New here? <a href="{escape(sign_up_href)}">Create an account</a></p>'
        if sign_up_href
        else ""
    )
    return forgot + sign_up


def password_change_form(
    *, action: str, request_id: str, csrf: str, username: str, error: str | None = None
) -> str:
    """After a sign-in with a temporary password: choose the one to use from now on."""
    alert = (
        f'<p class="error" role="alert" id="password-error">{escape(error)}</p>' if error else ""
    )
    described = ' aria-describedby="password-error"' if error else ""
    return (
        "<h1>Choose a new password</h1>"
        f"<p>The password you signed in with was temporary. Choose one of your own to go on, "
        f"{escape(username)}.</p>"
        f"{alert}"
        f'<form method="post" action="{escape(action)}" novalidate>'
        f"{_hidden('request_id', request_id)}{_hidden('csrf_token', csrf)}"
        # For password managers: whose password this is.
        f'<input type="hidden" name="username" value="{escape(username)}" autocomplete="username">'
        f"{new_password_fields(described)}"
        '<button type="submit">Save and continue</button>'
        "</form>"
    )


def new_password_fields(described: str = "", autofocus: bool = True) -> str:
    """The two fields that choose a password (the same on every page that does)."""
    focus = " autofocus" if autofocus else ""
    return (
        '<label for="new_password">New password</label>'
        '<input type="password" id="new_password" name="new_password" autocomplete="new-password" '
        f'minlength="{constants.MIN_PASSWORD_LENGTH}" required{focus}{described}>'
        '<label for="confirm_password">New password, again</label>'
        '<input type="password" id="confirm_password" name="confirm_password" '
        f'autocomplete="new-password" required{described}>'
    )


def consent_form(
    *,
    request_id: str,
    csrf: str,
    client_name: str,
    username: str,
    asked: list[str],
    offline: bool,
) -> str:
    """`asked`: what each scope the user is asked for means, in words (the scope registry's
    descriptions); `offline`: the app would keep access while the user is away."""
    items = (
        "".join(f"<li>{escape(text)}</li>" for text in asked) or "<li>Know that you signed in</li>"
    )
    # A refresh token outlives the visit: say so in plain words (SECURITY D10).
    note = (
        f'<p class="note" id="offline">{escape(client_name)} can keep using this access while '
        "you are away, until the app gives it up or it expires.</p>"
        if offline
        else ""
    )
    return (
        f'<h1>Allow access?</h1><p><span class="app">{escape(client_name)}</span> wants to:</p>'
        f"<ul>{items}</ul>{note}"
        '<form method="post" action="/consent">'
        f"{_hidden('request_id', request_id)}{_hidden('csrf_token', csrf)}"
        '<button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny" class="secondary">Deny</button>'
        "</form>"
        f"<footer>Signed in as {escape(username)}</footer>"
    )


ACCOUNT_LINK = '<footer><a href="/account">Manage your account</a></footer>'


def logout_form(
    *,
    csrf: str,
    username: str | None,
    client_name: str | None = None,
    fields: dict[str, str] | None = None,
) -> str:
    """Sign out? Asked when nothing shows that the user wants it (an app that gave no valid
    ID token of this sign-in, or no app at all); `fields`: where to go after, carried."""
    who = f" You are signed in as {escape(username)}." if username else ""
    question = (
        f'<p><span class="app">{escape(client_name)}</span> asks you to sign out of this '
        f"authorization server.{who}</p>"
        if client_name
        else f"<p>Sign out of this authorization server?{who}</p>"
    )
    carried = "".join(_hidden(name, value) for name, value in (fields or {}).items())
    return (
        f"<h1>Sign out</h1>{question}"
        '<form method="post" action="/logout">'
        f"{_hidden('csrf_token', csrf)}{carried}"
        f'<button type="submit">Sign out</button></form>{ACCOUNT_LINK}'
    )


def signed_out(*, client_name: str | None = None, was_signed_in: bool = True) -> str:
    said = "You have been signed out." if was_signed_in else "You are not signed in to this server."
    back = (
        f' You can return to <span class="app">{escape(client_name)}</span> or close this window.'
        if client_name
        else " You can close this window."
    )
    return f"<h1>Signed out</h1><p>{said}{back}</p>{ACCOUNT_LINK}"


LOGOUT_REFUSED_TITLE = "This sign-out link does not work"
LOGOUT_REFUSED_MESSAGE = (
    "The application that sent you here made a sign-out request this service cannot accept, "
    "so nothing was changed. You can still sign out of this server yourself."
)


def refused_logout_page(detail: str, request: HttpRequest) -> HttpResponse:
    """A logout request that names an app or a return address this server cannot verify (an
    ID token not of this server's, a post_logout_redirect_uri the app did not register): never
    a redirect. The user may still sign out here; the detail is for the app's developer, in the
    log line carrying the same reference."""
    reference = request.request_id or secrets.token_hex(8)
    logger.info("logout request refused", extra={"reference": reference, "detail": detail})
    return page(
        LOGOUT_REFUSED_TITLE,
        f"<h1>{escape(LOGOUT_REFUSED_TITLE)}</h1>"
        f'<p role="alert">{escape(LOGOUT_REFUSED_MESSAGE)}</p>'
        '<p><a href="/logout">Sign out of this server</a></p>'
        '<p class="reference">If it keeps happening, tell the application\'s support team and '
        f'quote this reference: <code id="reference">{escape(reference)}</code></p>',
        status=400,
    )


# --- the account page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowedApp:
    """An app as the account page lists it."""

    client_id: str
    name: str
    allowed: list[str]  # what it may do, in words
    last_used: str | None  # a date, or None: not used since it was allowed
    keeps_access: bool  # it holds a live grant (a refresh token)


def account_sign_in_form(
    *,
    csrf: str,
    username: str = "",
    error: str | None = None,
    notice: str | None = None,
    passkey_options: str | None = None,
    forgot_href: str | None = None,
) -> str:
    said = f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""
    passkey = passkey_offer("/account/passkey-login", passkey_options) if passkey_options else ""
    fields = _sign_in_fields(
        "/account/login", _hidden("csrf_token", csrf), username, error, passkey
    )
    return (
        f"<h1>Your account</h1><p>Sign in to see and manage your account.</p>{said}{fields}"
        f"{other_ways(forgot_href)}"
    )


def _action_form(csrf: str, action: str, fields: str, button: str, secondary: bool) -> str:
    style = ' class="secondary"' if secondary else ""
    return (
        '<form method="post" action="/account">'
        f"{_hidden('csrf_token', csrf)}{_hidden('action', action)}{fields}"
        f'<button type="submit"{style}>{escape(button)}</button></form>'
    )


def account_overview(
    *,
    csrf: str,
    username: str,
    profile: list[tuple[str, str]],
    apps: list[AllowedApp],
    notice: str | None = None,
    error: str | None = None,
    sections: str = "",
    second_factor: str = "",
    passkeys_html: str = "",
    email_section: str = "",
) -> str:
    """Who I am, the apps I allowed (each with "Remove access"), my e-mail address
    (`email_section`, when the stack sends e-mail: oauth_core.http.email_pages), my passkeys
    (`passkeys_html`, passkeys_section), my password, my second factor (`second_factor`: its
    section, oauth_core.http.factor_pages), sign-out; `sections`: more of the page's sections
    (HTML), before the sign-ins."""
    said = f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""
    alert = (
        f'<p class="error" role="alert" id="password-error">{escape(error)}</p>' if error else ""
    )
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in profile)
    listed = []
    for app in apps:
        allowed = "".join(
            f"<li>{escape(text)}</li>" for text in app.allowed or ["Confirm who you are"]
        )
        used = f"Last used {app.last_used}." if app.last_used else "Not used since you allowed it."
        keeps = " It can use this access while you are away." if app.keeps_access else ""
        remove = _action_form(
            csrf,
            "remove",
            _hidden("client_id", app.client_id),
            f"Remove access for {app.name}",
            secondary=True,
        )
        listed.append(
            f'<li><span class="app">{escape(app.name)}</span>'
            f'<ul class="scopes">{allowed}</ul><p>{escape(used)}{escape(keeps)}</p>{remove}</li>'
        )
    apps_html = (
        f'<ul class="apps">{"".join(listed)}</ul>'
        if listed
        else "<p>You have not allowed any app to use your account.</p>"
    )
    described = ' aria-describedby="password-error"' if error else ""
    password = (
        '<form method="post" action="/account" novalidate>'
        f"{_hidden('csrf_token', csrf)}{_hidden('action', 'password')}"
        f'<input type="hidden" name="username" value="{escape(username)}" autocomplete="username">'
        '<label for="current_password">Current password</label>'
        '<input type="password" id="current_password" name="current_password" '
        f'autocomplete="current-password" required{described}>'
        '<label for="new_password">New password</label>'
        '<input type="password" id="new_password" name="new_password" autocomplete="new-password" '
        f'minlength="{constants.MIN_PASSWORD_LENGTH}" required{described}>'
        '<label for="confirm_password">New password, again</label>'
        '<input type="password" id="confirm_password" name="confirm_password" '
        f'autocomplete="new-password" required{described}>'
        '<button type="submit">Change password</button></form>'
    )
    everywhere = _action_form(csrf, "sign_out_everywhere", "", "Sign out everywhere", True)
    return (
        f"<h1>Your account</h1><p>Signed in as {escape(username)}</p>{said}"
        f"<dl>{rows}</dl>"
        f'<h2 id="apps">Apps you allowed</h2>{apps_html}'
        f"{email_section}{passkeys_html}"
        f'<h2 id="password">Password</h2>{alert}{password}{second_factor}{sections}'
        '<h2 id="sessions">Sign-ins</h2><p>Sign out of this server in every browser and on every '
        "device. Apps you allowed keep their access until you remove it.</p>"
        f"{everywhere}"
        '<footer><a href="/logout">Sign out</a></footer>'
    )


# --- passkeys on the account page ---------------------------------------------------------------


@dataclass(frozen=True)
class ListedPasskey:
    """A passkey as the account page lists it."""

    credential_id: str
    name: str
    created: str  # a date
    last_used: str | None  # a date, or None: never used to sign in
    synced: bool  # backup eligible: kept in a password manager or platform account
    suspended: bool  # refused since its counter went backwards


def password_again(field_id: str) -> str:
    """The current password, asked when the sign-in is not recent (re-authentication)."""
    return (
        f'<label for="{field_id}">Your password</label>'
        f'<input type="password" id="{field_id}" name="current_password" '
        'autocomplete="current-password" required>'
    )


def passkeys_section(
    *,
    csrf: str,
    username: str,
    passkeys: list[ListedPasskey],
    creation_options: str | None,
    user_handle: str,
    needs_password: bool,
) -> str:
    """My passkeys (each with "Remove"), and "Add a passkey" (with `creation_options`, the
    WebAuthn creation options; None: at the most a user keeps). Adding and removing need a
    recent sign-in, or the password (`needs_password`)."""
    confirm = (
        "<p>To add or remove a passkey, type your password too (or sign out and sign in again).</p>"
        if needs_password
        else ""
    )
    listed = []
    for index, passkey in enumerate(passkeys):
        used = f"Last used {passkey.last_used}." if passkey.last_used else "Not used yet."
        kind = " Synced to your other devices." if passkey.synced else " On one device."
        warning = (
            '<p class="warning" role="note">Refused since its use counter went backwards, which '
            "can mean it was copied. Remove it and add a new one.</p>"
            if passkey.suspended
            else ""
        )
        password = password_again(f"remove_password_{index}") if needs_password else ""
        remove = (
            '<form method="post" action="/account/passkeys">'
            f"{_hidden('csrf_token', csrf)}{_hidden('action', 'remove')}"
            f"{_hidden('credential_id', passkey.credential_id)}"
            f"{password}"
            f'<button type="submit" class="secondary">Remove {escape(passkey.name)}</button></form>'
        )
        listed.append(
            f'<li><span class="app">{escape(passkey.name)}</span>'
            f"<p>Added {escape(passkey.created)}. {escape(used)}{escape(kind)}</p>"
            f"{warning}{remove}</li>"
        )
    passkeys_html = (
        f'<ul class="apps" id="passkey-list">{"".join(listed)}</ul>'
        if listed
        else "<p>You have no passkeys yet. A passkey signs you in with your fingerprint, face or "
        "screen lock instead of your password.</p>"
    )
    if creation_options is None:
        add = f"<p>You have as many passkeys as an account can keep ({len(passkeys)}).</p>"
    else:
        password = password_again("add_password") if needs_password else ""
        add = (
            '<form method="post" action="/account/passkeys" id="passkey-create" '
            f'data-passkey-create="{escape(creation_options)}" hidden novalidate>'
            f"{_hidden('csrf_token', csrf)}{_hidden('action', 'add')}"
            f"{_hidden('user_handle', user_handle)}"
            '<input type="hidden" name="credential" value="">'
            f'<input type="hidden" name="username" value="{escape(username)}" autocomplete="username">'
            '<label for="passkey_name">Name of the new passkey</label>'
            '<input type="text" id="passkey_name" name="name" maxlength="64" autocomplete="off" '
            'value="" placeholder="e.g. My phone">'
            f"{password}"
            '<button type="submit">Add a passkey</button>'
            '<p class="passkey-status" id="passkey-status" role="status" aria-live="polite"></p>'
            "</form>"
            '<p id="passkey-unsupported">Adding a passkey needs a browser that supports them, '
            "with JavaScript on.</p>"
        )
    return f'<h2 id="passkeys">Passkeys</h2>{confirm}{passkeys_html}{add}'
