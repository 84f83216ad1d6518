"""A minimal web app that signs its user in with the Authorization Code flow and PKCE
(Flask + Authlib's Flask client), then calls the protected API with the user's token.

- "Log in" starts the flow with PKCE (S256), `state` and `nonce`.
- The callback checks `iss` (RFC 9207) and, through Authlib, `state` and the ID token.
- Tokens stay on the server (the browser holds only a session cookie); the access token is
  refreshed when it is about to expire, and "Log out" revokes the refresh token and ends the
  app's session. The sign-in at the authorization server stays (it has no RP-initiated logout
  yet): the page after "Log out" says so, with a link to the server's own sign-out page.

Run: python -m examples.webapp.app (it reads OAUTH_ISSUER, WEBAPP_CLIENT_ID/SECRET, PORT).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from html import escape
from typing import Any

import requests
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, redirect, request, session, url_for

# Refresh this long before expiry (the tests set it high to refresh on every page).
REFRESH_MARGIN = int(os.environ.get("WEBAPP_REFRESH_MARGIN", "30"))
ISSUER = os.environ.get("OAUTH_ISSUER", "http://127.0.0.1:8000")
PORT = int(os.environ.get("PORT", "8400"))

app = Flask(__name__)
app.secret_key = os.environ.get("WEBAPP_SESSION_KEY") or secrets.token_urlsafe(32)
# Cookies ignore ports: on 127.0.0.1 this app and the local authorization server share a
# cookie jar, so the app's session cookie needs a name of its own.
app.config.update(
    SESSION_COOKIE_NAME="demo_app_session",
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
)
oauth = OAuth(app)
oauth.register(
    "server",
    client_id=os.environ.get("WEBAPP_CLIENT_ID", "demo-web"),
    client_secret=os.environ.get(
        "WEBAPP_CLIENT_SECRET", "demo-web-secret-change-me-0123456789abcdef"
    ),
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_kwargs={"scope": "openid profile email read:data", "code_challenge_method": "S256"},
)
# Tokens by session: server-side, so they never reach the browser.
TOKENS: dict[str, dict[str, Any]] = {}


STYLE = (
    ":root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--code:#f4f6f8;--link:#1f5fd1}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e8ecf0;--bg:#0f1318;--code:#1d232b;"
    "--link:#8fb3ff}}"
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;"
    "color:var(--fg);background:var(--bg)}"
    "a{color:var(--link)}"
    "pre{background:var(--code);padding:1rem;white-space:pre-wrap;overflow-wrap:anywhere}"
    "button{font:inherit;padding:.4rem 1rem}"
)


def page(body: str) -> str:
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Demo app</title><style>{STYLE}</style>"
        f"<h1>Demo app</h1>{body}</html>"
    )


def current_tokens() -> dict[str, Any] | None:
    key: str | None = session.get("key")
    tokens = TOKENS.get(key) if key else None
    if tokens and tokens["expires_at"] - REFRESH_MARGIN < time.time():
        # Refresh rotation: store the new refresh token at once; the old one is now spent.
        tokens = oauth.server.fetch_access_token(
            grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        TOKENS[str(key)] = tokens
    return tokens


@app.get("/")
def home() -> str:
    tokens = current_tokens()
    if not tokens:
        return page('<p>You are not signed in.</p><p><a id="login" href="/login">Log in</a></p>')
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    metadata = oauth.server.load_server_metadata()
    user = requests.get(metadata["userinfo_endpoint"], headers=bearer, timeout=10).json()
    api = requests.get(f"{ISSUER}/resource", headers=bearer, timeout=10)
    try:
        answer = json.dumps(api.json(), indent=2)
    except ValueError:
        answer = api.text
    return page(
        f'<p id="user">Signed in as <b>{escape(str(user.get("name", user["sub"])))}</b> '
        f"({escape(str(user.get('email', '')))})</p>"
        f"<h2>The protected API answered {api.status_code}</h2>"
        f'<pre id="api">{escape(answer)}</pre>'
        '<form method="post" action="/logout"><button id="logout">Log out</button></form>'
    )


@app.get("/login")
def login() -> Any:
    return oauth.server.authorize_redirect(
        url_for("callback", _external=True), nonce=secrets.token_urlsafe(16)
    )


@app.get("/callback")
def callback() -> Any:
    metadata = oauth.server.load_server_metadata()
    if request.args.get("iss") != metadata["issuer"]:
        abort(400, "the authorization response is not from our issuer")  # mix-up defence
    if "error" in request.args:
        return page(f"<p>Sign-in failed: {escape(request.args['error'])}</p><a href='/'>Home</a>")
    # Checks state, exchanges the code with the PKCE verifier, validates the ID token (nonce).
    tokens = oauth.server.authorize_access_token()
    key = secrets.token_urlsafe(16)
    TOKENS[key] = dict(tokens)
    session.clear()
    session["key"] = key
    return redirect("/")


@app.post("/logout")
def logout() -> Any:
    """Ends this app's session: forgets the tokens and revokes the refresh token. The sign-in
    at the authorization server is another session, which this app cannot end: the server has
    no RP-initiated logout yet, so the page after this one says so."""
    tokens = TOKENS.pop(session.get("key", ""), None)
    session.clear()
    if tokens:
        metadata = oauth.server.load_server_metadata()
        requests.post(
            metadata["revocation_endpoint"],
            data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
            auth=(oauth.server.client_id, oauth.server.client_secret),
            timeout=10,
        )
    return redirect("/signed-out", code=303)


@app.get("/signed-out")
def signed_out() -> str:
    return page(
        '<h2 id="signed-out">Signed out of this app</h2>'
        "<p>This app has forgotten your tokens and revoked its refresh token.</p>"
        "<p>Your sign-in at the authorization server stays until it expires or you sign out "
        "there, so <b>Log in</b> may take you straight back in without asking for your "
        "password. This app cannot end that sign-in for you: the server does not support "
        "RP-initiated logout yet.</p>"
        f'<p><a id="server-logout" href="{escape(ISSUER)}/logout">Sign out at the authorization '
        'server</a></p><p><a href="/">Back to the app</a></p>'
    )


if __name__ == "__main__":
    print(f"Demo web app on http://127.0.0.1:{PORT} (issuer {ISSUER})", flush=True)
    app.run(host="127.0.0.1", port=PORT)
