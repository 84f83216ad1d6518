"""A minimal web app that signs its user in with the Authorization Code flow and PKCE
(Flask + Authlib's Flask client), calls the protected API with the user's token, and signs out
with OpenID Connect RP-Initiated and Back-Channel Logout.

- "Log in" starts the flow with PKCE (S256), `state` and `nonce`.
- The callback checks `iss` (RFC 9207) and, through Authlib, `state` and the ID token; it keeps
  the ID token's `sub` and `sid` (the server's session) beside the tokens.
- Tokens stay on the server (the browser holds only a session cookie); the access token is
  refreshed when it is about to expire.
- "Log out" revokes the refresh token, ends this app's session, and sends the browser to the
  server's end_session_endpoint with the ID token as `id_token_hint`, a registered
  `post_logout_redirect_uri` and a `state` it checks when the browser comes back: the user is
  signed out of the server too, without being asked.
- POST /backchannel-logout receives the server's logout tokens (a user signed out elsewhere: on
  the server's own page, in another app, or everywhere): it verifies the token (signature by
  the server's JWKS, `iss`, `aud`, `typ`, the event, `iat`, `exp`, no `nonce`, a `jti` not seen
  before) and ends every session of this app for that `sid` (or `sub`).

Run: python -m examples.webapp.app (it reads OAUTH_ISSUER, WEBAPP_CLIENT_ID/SECRET, PORT).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from html import escape
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, abort, redirect, request, session, url_for

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
# Back-channel logout (OpenID Connect Back-Channel Logout 1.0 2.6): what a logout token must be.
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_MAX_AGE = 300  # seconds: an older logout token is refused
SEEN_LOGOUT_TOKENS: dict[str, float] = {}  # jti -> when it may be forgotten


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
        refreshed = oauth.server.fetch_access_token(
            grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        # A refresh brings no ID token: keep the sign-in's (the logout hint), `sub` and `sid`.
        tokens = TOKENS[str(key)] = {**tokens, **refreshed}
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
    tokens = dict(oauth.server.authorize_access_token())
    claims = tokens.get("userinfo") or {}
    # Who, and in which of the server's sessions: what a logout token names.
    tokens["sub"], tokens["sid"] = claims.get("sub"), claims.get("sid")
    key = secrets.token_urlsafe(16)
    TOKENS[key] = tokens
    session.clear()
    session["key"] = key
    return redirect("/")


@app.post("/logout")
def logout() -> Any:
    """Ends this app's session (forgets the tokens, revokes the refresh token), then sends the
    browser to the server's end_session_endpoint, which signs the user out there too and sends
    them back to /signed-out with the `state` kept here."""
    tokens = TOKENS.pop(session.get("key", ""), None)
    session.clear()
    if not tokens:
        return redirect("/signed-out", code=303)
    metadata = oauth.server.load_server_metadata()
    requests.post(
        metadata["revocation_endpoint"],
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(oauth.server.client_id, oauth.server.client_secret),
        timeout=10,
    )
    state = secrets.token_urlsafe(16)
    session["logout_state"] = state
    params = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": url_for("signed_out", _external=True),
        "state": state,
    }
    return redirect(f"{metadata['end_session_endpoint']}?{urlencode(params)}", code=303)


@app.get("/signed-out")
def signed_out() -> str:
    expected = session.pop("logout_state", None)
    returned = request.args.get("state")
    if expected and returned and secrets.compare_digest(expected, returned):
        said = (
            "<p>You are signed out of this app and of the authorization server: "
            "<b>Log in</b> will ask for your password again.</p>"
        )
    else:
        said = "<p>You are signed out of this app.</p>"
    return page(f'<h2 id="signed-out">Signed out</h2>{said}<p><a href="/">Back to the app</a></p>')


@app.post("/backchannel-logout")
def backchannel_logout() -> Response:
    """OpenID Connect Back-Channel Logout 1.0 2.5-2.8: the server says a session ended."""
    headers = {"Cache-Control": "no-store"}
    try:
        claims = verified_logout_token(request.form.get("logout_token", ""))
    except (jwt.PyJWTError, ValueError) as exc:
        body = json.dumps({"error": "invalid_request", "error_description": str(exc)})
        return Response(body, 400, headers, content_type="application/json")
    sid, sub = claims.get("sid"), claims.get("sub")
    for key, tokens in list(TOKENS.items()):
        if (sid and tokens.get("sid") == sid) or (not sid and tokens.get("sub") == sub):
            TOKENS.pop(key, None)  # that browser's next page shows "not signed in"
    return Response("", 200, headers)


def verified_logout_token(token: str) -> dict[str, Any]:
    metadata = oauth.server.load_server_metadata()
    if jwt.get_unverified_header(token).get("typ") != "logout+jwt":
        raise ValueError("not a logout token")
    key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256", "ES256"],
        audience=oauth.server.client_id,
        issuer=metadata["issuer"],
        options={"require": ["iss", "aud", "iat", "exp", "jti", "events"]},
    )
    if not isinstance(claims["events"], dict) or not isinstance(
        claims["events"].get(LOGOUT_EVENT), dict
    ):
        raise ValueError("not a back-channel logout event")
    if "nonce" in claims:
        raise ValueError("a logout token carries no nonce")
    if not claims.get("sid") and not claims.get("sub"):
        raise ValueError("the logout token names no session and no user")
    now = time.time()
    if claims["iat"] < now - LOGOUT_TOKEN_MAX_AGE:
        raise ValueError("the logout token is too old")
    for jti, forget_at in list(SEEN_LOGOUT_TOKENS.items()):
        if forget_at < now:
            del SEEN_LOGOUT_TOKENS[jti]
    if claims["jti"] in SEEN_LOGOUT_TOKENS:
        raise ValueError("the logout token was used before")
    SEEN_LOGOUT_TOKENS[claims["jti"]] = now + 2 * LOGOUT_TOKEN_MAX_AGE
    return claims


if __name__ == "__main__":
    print(f"Demo web app on http://127.0.0.1:{PORT} (issuer {ISSUER})", flush=True)
    app.run(host="127.0.0.1", port=PORT)
