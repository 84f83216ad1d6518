"""The pages of recovery and verification by e-mail: "forgot password", the page a reset link
opens, confirming an address, self sign-up, and the account page's e-mail section. Rendered
as the other pages are (oauth_core.http.pages: its headers, styles and CSRF fields): no script,
labels on every field, autocomplete hints, focus where the user types first.

Every page a link opens asks for a click before anything is used up: mail scanners open links
to look at them, and a GET must not spend the link or change the account.
"""

from __future__ import annotations

from html import escape

from oauth_core import constants
from oauth_core.http.pages import new_password_fields, with_query


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def _alert(error: str | None, element_id: str) -> tuple[str, str]:
    """The error paragraph, and the attribute that ties fields to it."""
    if not error:
        return "", ""
    return (
        f'<p class="error" role="alert" id="{element_id}">{escape(error)}</p>',
        f' aria-describedby="{element_id}"',
    )


def back_to_sign_in(request_id: str | None) -> str:
    """Where "Back to sign in" goes: the sign-in page of the app's request, while it lasts, or
    the account page."""
    return with_query("/login", {"request_id": request_id}) if request_id else "/account"


def _back(request_id: str | None) -> str:
    href = escape(back_to_sign_in(request_id))
    return f'<p class="other"><a href="{href}">Back to sign in</a></p>'


# --- "forgot password" -----------------------------------------------------------------------


def forgot_form(
    *, csrf: str, request_id: str | None, typed: str = "", error: str | None = None
) -> str:
    alert, described = _alert(error, "forgot-error")
    carried = _hidden("request_id", request_id) if request_id else ""
    return (
        "<h1>Forgot your password?</h1>"
        "<p>Type your username or your e-mail address. If your account has a confirmed e-mail "
        "address, we send it a link to choose a new password.</p>"
        f"{alert}"
        f'<form method="post" action="{constants.FORGOT_PASSWORD_PATH}" novalidate>'
        f"{_hidden('csrf_token', csrf)}{carried}"
        '<label for="identifier">Username or e-mail address</label>'
        f'<input type="text" id="identifier" name="identifier" value="{escape(typed)}" '
        'autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus'
        f"{described}>"
        '<button type="submit">Send the link</button>'
        f"</form>{_back(request_id)}"
    )


def forgot_sent(*, request_id: str | None) -> str:
    """The one answer to every request, whoever it names (SECURITY R1)."""
    minutes = constants.RESET_LINK_TTL // 60
    return (
        "<h1>Check your e-mail</h1>"
        '<p role="status">If an account matches what you typed and has a confirmed e-mail '
        "address, we sent it a link to choose a new password. The link works once, within "
        f"{minutes} minutes.</p>"
        "<p>No message after a few minutes? Look in your spam folder, check what you typed and "
        "ask again. If your account has no confirmed address, ask the service's support team "
        "to reset your password.</p>"
        f"{_back(request_id)}"
    )


def reset_form(*, csrf: str, token: str, username: str, error: str | None = None) -> str:
    alert, described = _alert(error, "password-error")
    return (
        "<h1>Choose a new password</h1>"
        f"<p>for your account {escape(username)}. Saving it signs you out everywhere, and apps "
        "will ask you to sign in again.</p>"
        f"{alert}"
        f'<form method="post" action="{constants.RESET_PASSWORD_PATH}" novalidate>'
        f"{_hidden('csrf_token', csrf)}{_hidden('token', token)}"
        # For password managers: whose password this is.
        f'<input type="hidden" name="username" value="{escape(username)}" autocomplete="username">'
        f"{new_password_fields(described)}"
        '<button type="submit">Save the new password</button>'
        "</form>"
    )


# --- a link that does not work ---------------------------------------------------------------

_ASK_AGAIN = {
    constants.RESET_PASSWORD_PATH: (constants.FORGOT_PASSWORD_PATH, "Ask for a new link"),
    constants.VERIFY_EMAIL_PATH: ("/account", "Go to your account to send a new one"),
    constants.SIGN_UP_CONFIRM_PATH: (constants.SIGN_UP_PATH, "Sign up again"),
}


def link_refused(path: str) -> str:
    href, words = _ASK_AGAIN[path]
    return (
        "<h1>This link does not work</h1>"
        '<p role="alert">It has expired or was used already, or the account changed since it '
        "was sent. Links from our e-mails work once, for a limited time.</p>"
        f'<p><a href="{escape(href)}">{escape(words)}</a></p>'
    )


# --- an address confirmed ----------------------------------------------------------------------


def verify_confirm(*, csrf: str, token: str, username: str, email: str) -> str:
    return (
        "<h1>Confirm your e-mail address</h1>"
        f"<p>Confirm that <strong>{escape(email)}</strong> is the e-mail address of your "
        f"account {escape(username)}.</p>"
        f'<form method="post" action="{constants.VERIFY_EMAIL_PATH}">'
        f"{_hidden('csrf_token', csrf)}{_hidden('token', token)}"
        '<button type="submit">Confirm</button></form>'
    )


def email_section(
    *,
    csrf: str,
    email: str | None,
    verified: bool,
    error: str | None = None,
    notice: str | None = None,
) -> str:
    """The account page's e-mail address: what it is, whether it is confirmed, changing it
    (with the current password: it is how the account is recovered)."""
    alert, described = _alert(error, "email-error")
    said = f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""
    if email is None:
        state = "<p>Your account has no e-mail address. Add one to be able to recover it.</p>"
    elif verified:
        state = f"<p><strong>{escape(email)}</strong>, confirmed.</p>"
    else:
        state = (
            f"<p><strong>{escape(email)}</strong>, not confirmed yet: follow the link we sent "
            "to it. Until then it cannot be used to recover your account.</p>"
            f'<form method="post" action="{constants.ACCOUNT_EMAIL_PATH}">'
            f"{_hidden('csrf_token', csrf)}{_hidden('action', 'resend')}"
            '<button type="submit" class="secondary">Send the link again</button></form>'
        )
    change = (
        f'<form method="post" action="{constants.ACCOUNT_EMAIL_PATH}" novalidate>'
        f"{_hidden('csrf_token', csrf)}{_hidden('action', 'change')}"
        '<label for="new_email">New e-mail address</label>'
        '<input type="text" inputmode="email" id="new_email" name="email" autocomplete="email" '
        f'autocapitalize="none" spellcheck="false" required{described}>'
        # Not "Current password": the password section below has that label.
        '<label for="email_current_password">Your password, to confirm it is you</label>'
        '<input type="password" id="email_current_password" name="current_password" '
        f'autocomplete="current-password" required{described}>'
        '<button type="submit">Change e-mail address</button></form>'
    )
    return f'<h2 id="email">E-mail address</h2>{said}{state}{alert}{change}'


# --- self sign-up -----------------------------------------------------------------------------


def sign_up_form(
    *,
    csrf: str,
    request_id: str | None,
    username: str = "",
    email: str = "",
    error: str | None = None,
) -> str:
    alert, described = _alert(error, "sign-up-error")
    carried = _hidden("request_id", request_id) if request_id else ""
    return (
        "<h1>Create an account</h1>"
        "<p>We send a link to your e-mail address: the account is created when you follow "
        "it.</p>"
        f"{alert}"
        f'<form method="post" action="{constants.SIGN_UP_PATH}" novalidate>'
        f"{_hidden('csrf_token', csrf)}{carried}"
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="128" '
        f"required autofocus{described}>"
        '<label for="email">E-mail address</label>'
        f'<input type="text" inputmode="email" id="email" name="email" value="{escape(email)}" '
        f'autocomplete="email" autocapitalize="none" spellcheck="false" required{described}>'
        f"{new_password_fields(described, autofocus=False)}"
        '<button type="submit">Create account</button>'
        f"</form>{_back(request_id)}"
    )


def sign_up_sent(*, request_id: str | None) -> str:
    """The one answer to every sign-up, whatever exists already (SECURITY R6)."""
    return (
        "<h1>Check your e-mail</h1>"
        '<p role="status">We sent a message to the address you gave. Follow its link within 24 '
        "hours to finish: the account is created then, and you sign in with the password you "
        "chose.</p>"
        "<p>No message after a few minutes? Look in your spam folder, or sign up again.</p>"
        f"{_back(request_id)}"
    )


def sign_up_confirm(
    *, csrf: str, token: str, username: str, email: str, error: str | None = None
) -> str:
    """The link proves the address; the password chosen at sign-up proves who signed up
    (SECURITY R6): someone who typed another person's address cannot have that person make
    the account for them."""
    alert, described = _alert(error, "sign-up-password-error")
    return (
        "<h1>Finish creating your account</h1>"
        f"<p>To create the account <strong>{escape(username)}</strong> for {escape(email)}, "
        "type the password chosen when signing up.</p>"
        f"{alert}"
        f'<form method="post" action="{constants.SIGN_UP_CONFIRM_PATH}" novalidate>'
        f"{_hidden('csrf_token', csrf)}{_hidden('token', token)}"
        # For password managers: whose password this is.
        f'<input type="hidden" name="username" value="{escape(username)}" autocomplete="username">'
        '<label for="password">Password chosen at sign-up</label>'
        '<input type="password" id="password" name="password" autocomplete="current-password" '
        f"required autofocus{described}>"
        '<button type="submit">Create account</button></form>'
        "<p>Did not sign up yourself? Then someone else typed your address: leave this page, "
        "and no account is made.</p>"
    )
