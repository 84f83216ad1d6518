"""The pages of second factors: the second-factor step after a password (or to step a session
up), setting up an authenticator app (a QR code and the key in text), the recovery codes shown
once, and the account page's section. Same hardening as every page (oauth_core.http.pages):
the CSRF token in every form, no script but the passkey script where a passkey is offered; the
QR code is an inline SVG element, so the page loads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from oauth_core import constants
from oauth_core.http.pages import _hidden, passkey_offer

CODE_LABEL = "Code from your authenticator app, or a recovery code"
ERROR_ID = "code-error"


def _alert(error: str | None, error_id: str) -> tuple[str, str]:
    """The error paragraph (announced), and the attribute that ties a field to it."""
    if not error:
        return "", ""
    return (
        f'<p class="error" role="alert" id="{error_id}">{escape(error)}</p>',
        f' aria-describedby="{error_id}"',
    )


def otp_fields(error: bool) -> str:
    """The one-time code field (TOTP or a recovery code) and its button: the `otp` second
    factor's part."""
    described = f' aria-describedby="{ERROR_ID}"' if error else ""
    return (
        "<p>Open your authenticator app and enter the 6-digit code it shows, or use one of your "
        "recovery codes.</p>"
        f'<label for="code">{CODE_LABEL}</label>'
        '<input type="text" id="code" name="code" autocomplete="one-time-code" '
        'autocapitalize="none" spellcheck="false" maxlength="32" required autofocus'
        f"{described}>"
        '<button type="submit">Verify</button>'
    )


def passkey_fields(options: str) -> str:
    """The `passkey` second factor's part: its button, shown by the passkey script where the
    browser can use a passkey (it posts the browser's answer in the form's `credential`), and
    else a sentence saying what it needs. `options`: the WebAuthn request options (JSON)."""
    offer = passkey_offer(
        constants.SECOND_FACTOR_PATH, options, label="Use your passkey", first=True
    )
    return (
        "<p>Confirm it is you with your passkey: your fingerprint, face or screen lock, or your "
        "security key.</p>"
        f"{offer}"
        '<p id="passkey-unsupported">Using your passkey needs a browser that supports '
        "passkeys, with JavaScript on.</p>"
    )


def second_factor_form(
    *,
    request_id: str,
    csrf: str,
    username: str,
    methods: list[tuple[str, str]],
    error: str | None = None,
) -> str:
    """The second-factor step: for each method offered (its name, and its fields and button as
    `SecondFactor.fields` renders them), a form, one after the other. Errors are announced as
    `code-error`."""
    alert = _alert(error, ERROR_ID)[0]
    forms = '<p class="or">or</p>'.join(
        f'<form method="post" action="{constants.SECOND_FACTOR_PATH}" novalidate>'
        f"{_hidden('request_id', request_id)}{_hidden('csrf_token', csrf)}"
        f"{_hidden('method', method)}"
        f"{fields}</form>"
        for method, fields in methods
    )
    return f"<h1>Two-step verification</h1><p>Signing in as {escape(username)}.</p>{alert}{forms}"


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enrol_form(
    *,
    request_id: str,
    csrf: str,
    username: str,
    qr_svg: str,
    secret: str,
    required: bool,
    error: str | None = None,
) -> str:
    """Set up an authenticator app: scan the QR code (or type the key), then prove it with a
    first code. `required`: asked at sign-in, where the app asks for a second factor."""
    alert, described = _alert(error, "code-error")
    why = (
        "This sign-in needs a second step. Set up an authenticator app to go on."
        if required
        else "Each time you sign in, you will also enter a code from the app."
    )
    return (
        "<h1>Set up an authenticator app</h1>"
        f"<p>{why}</p>"
        '<ol class="steps"><li>Open an authenticator app on your phone (Google Authenticator, '
        "Microsoft Authenticator, 1Password, Bitwarden and others).</li>"
        "<li>Scan this QR code with it.</li><li>Enter the 6-digit code the app shows.</li></ol>"
        f'<figure class="qr">{qr_svg}</figure>'
        '<p class="manual">Cannot scan it? Enter this key in the app instead '
        f'(for {escape(username)}):</p><p class="secret"><code id="secret">'
        f"{escape(_grouped(secret))}</code></p>"
        f"{alert}"
        '<form method="post" action="/login/second-factor" novalidate>'
        f"{_hidden('request_id', request_id)}{_hidden('csrf_token', csrf)}"
        f"{_hidden('method', 'otp')}"
        '<label for="code">Code from the app</label>'
        '<input type="text" id="code" name="code" autocomplete="one-time-code" '
        'inputmode="numeric" maxlength="7" required'
        # After a wrong code, the field again (the QR code was read already).
        f"{described}{' autofocus' if error else ''}>"
        '<button type="submit">Turn on two-step verification</button></form>'
    )


def recovery_codes_page(*, codes: list[str], next_step: str) -> str:
    """The recovery codes, shown this once; `next_step`: the form or link that goes on."""
    listed = "".join(f"<li><code>{escape(code)}</code></li>" for code in codes)
    return (
        "<h1>Save your recovery codes</h1>"
        "<p>If you lose your phone, each of these codes signs you in once instead of a code "
        "from the app. Keep them somewhere safe, such as a password manager. They are shown "
        "only now.</p>"
        f'<ol class="codes" id="recovery-codes">{listed}</ol>'
        f"{next_step}"
    )


def continue_form(*, request_id: str, csrf: str) -> str:
    return (
        '<form method="post" action="/login/continue">'
        f"{_hidden('request_id', request_id)}{_hidden('csrf_token', csrf)}"
        '<button type="submit">I saved them, continue</button></form>'
    )


def account_return(done: str) -> str:
    """Back to the account page, which says what was done (a word it knows)."""
    return f'<p><a href="/account?done={escape(done)}">I saved them, back to my account</a></p>'


@dataclass(frozen=True)
class FactorStatus:
    """What the account page says of a user's second factors."""

    enrolled: bool
    since: str = ""  # a date
    codes_left: int = 0
    password_accepted: bool = False  # the session itself gave a second factor
    passkeys: bool = False  # without an app: a passkey is the second step where one is asked for


def account_section(*, csrf: str, status: FactorStatus, error: str | None = None) -> str:
    """The account page's "Two-step verification" section."""
    alert, described = _alert(error, "factor-error")

    def form(action: str, fields: str, button: str, secondary: bool = True) -> str:
        style = ' class="secondary"' if secondary else ""
        return (
            '<form method="post" action="/account" novalidate>'
            f"{_hidden('csrf_token', csrf)}{_hidden('action', action)}{fields}"
            f'<button type="submit"{style}>{escape(button)}</button></form>'
        )

    heading = '<h2 id="two-step">Two-step verification</h2>'
    if not status.enrolled and status.passkeys:
        return (
            f"{heading}<p>Off. Where an app asks for more than your password, you confirm with "
            "one of your passkeys. Add a code from an authenticator app to every sign-in, so "
            "your password alone is never enough.</p>"
            f"{alert}{form('totp_start', '', 'Set up an authenticator app', secondary=False)}"
        )
    if not status.enrolled:
        return (
            f"{heading}<p>Off. Add a code from an authenticator app to every sign-in, so your "
            "password alone is not enough.</p>"
            f"{alert}{form('totp_start', '', 'Set up an authenticator app', secondary=False)}"
        )

    def code_field(field_id: str, label: str) -> str:
        return (
            f'<label for="{field_id}">{escape(label)}</label>'
            f'<input type="text" id="{field_id}" name="code" autocomplete="one-time-code" '
            f'autocapitalize="none" spellcheck="false" maxlength="32"{described}>'
        )

    password_field = (
        '<label for="factor_password">Or your password</label>'
        '<input type="password" id="factor_password" name="password" '
        f'autocomplete="current-password"{described}>'
        if status.password_accepted
        else ""
    )
    left = (
        f"{status.codes_left} recovery codes left."
        if status.codes_left != 1
        else "1 recovery code left."
    )
    off_field = code_field("factor_code", "Code from your app, or a recovery code")
    renewal_field = code_field("renewal_code", "Code from your app, for new recovery codes")
    how = (
        "a code from your app, a recovery code or your password"
        if status.password_accepted
        else "a code from your app or a recovery code"
    )
    return (
        f"{heading}<p>On since {escape(status.since)}, with an authenticator app. "
        f"{escape(left)}</p>{alert}"
        f"<p>To turn it off, give {how}.</p>"
        f"{form('totp_remove', off_field + password_field, 'Turn off two-step verification')}"
        "<p>Used some recovery codes, or lost them? New ones replace them all.</p>"
        f"{form('recovery_new', renewal_field, 'Get new recovery codes')}"
    )


# --- "Add a passkey?" after a password sign-in (oauth_core.endpoints.passkey_offer) -----------


def passkey_offer_page(
    *,
    action: str,
    request_id: str,
    csrf: str,
    username: str,
    creation_options: str | None,
    user_handle: str,
    error: str | None = None,
) -> str:
    """Add a passkey, or not now. The first form (the WebAuthn `creation_options`; None: it can
    no longer be added here) is shown by the passkey script, which makes the passkey and posts
    it; "Not now" is a plain form and goes on with the sign-in in any browser."""
    hidden = f"{_hidden('request_id', request_id)}{_hidden('csrf_token', csrf)}"
    alert = _alert(error, "offer-error")[0]
    add = ""
    if creation_options is not None:
        add = (
            f'<form method="post" action="{action}" id="passkey-create" '
            f'data-passkey-create="{escape(creation_options)}" hidden novalidate>'
            f"{hidden}{_hidden('action', 'add')}{_hidden('user_handle', user_handle)}"
            '<input type="hidden" name="credential" value="">'
            f'<input type="hidden" name="username" value="{escape(username)}" '
            'autocomplete="username">'
            '<button type="submit">Add a passkey</button>'
            '<p class="passkey-status" id="passkey-status" role="status" aria-live="polite"></p>'
            "</form>"
        )
    return (
        "<h1>Sign in faster next time?</h1>"
        f"<p>Add a passkey for {escape(username)}: your fingerprint, face or screen lock signs "
        "you in, with no password to type and nothing a fake site could use.</p>"
        f"{alert}{add}"
        f'<form method="post" action="{action}">{hidden}{_hidden("action", "later")}'
        '<button type="submit" class="secondary">Not now</button></form>'
        "<p>You can add or remove passkeys on your account page at any time.</p>"
    )
