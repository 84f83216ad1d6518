"""The flows, driven through the deployed API: clients and a user made as oauthctl makes them
(its admin services, on the stack's outputs), then API Gateway events on the template's routes.

Each flow runs once per session (`World.run`), whichever test asks first; the permissions test
asks for all of them, so what the functions used is judged after every flow ran."""

from __future__ import annotations

import base64
import gzip
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt

from oauth_core import constants
from tests import support
from tests.deployed.api import ApiResponse, Browser, HttpApi
from tests.deployed.deployment import Deployment
from tests.deployed.stack import Subscription
from tests.dpop_keys import DpopKey
from tests.passkey_authenticator import SoftPasskey
from tests.support import form_fields, pkce_pair, query_of

SERVICE = "deployed-service"
WEB = "deployed-web"
WEB_REDIRECT = "https://app.example.com/callback"
USER, PASSWORD = "dana", "dana-password-0123456789"
TEMPORARY_USER = "tomas"
ACCOUNT_USER = "ari"
FACTOR_USER = "fumi"
PASSKEY_USER = "pia"
USER_CLAIMS = {"name": "Dana Deployed", "email": "dana@example.com", "email_verified": True}
CODE_FLOW_SCOPE = "openid profile email offline_access read:data"


def expect(response: ApiResponse, status: int, deployment: Deployment, what: str) -> ApiResponse:
    """The response, or a failure that says which function answered what, with its log."""
    if response.status != status:
        raise AssertionError(
            f"{what}: {response.function or 'API Gateway'} answered {response.status}, not "
            f"{status}: {response.body[:500]} {response.location}"
            + deployment.log_of(response.function)
        )
    return response


def basic(client_id: str, secret: str) -> dict[str, str]:
    """A form request's headers with client_secret_basic authentication."""
    return {
        "authorization": support.basic(client_id, secret),
        "content-type": "application/x-www-form-urlencoded",
    }


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    id_token: str
    nonce: str


@dataclass
class World:
    """The deployed stack with its clients and user, and the flows run on it so far."""

    deployment: Deployment
    secrets: dict[str, str]  # client id -> its secret
    done: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, BaseException] = field(default_factory=dict)

    @classmethod
    def set_up(cls, deployment: Deployment) -> World:
        admin = deployment.admin()
        clients = admin.clients()
        service = clients.create(
            {
                "client_id": SERVICE,
                "grant_types": ["client_credentials"],
                "scope": "read:data write:data",
            }
        )
        web = clients.create(
            {
                "client_id": WEB,
                "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": [WEB_REDIRECT],
                "scope": CODE_FLOW_SCOPE,
            }
        )
        admin.users().create(USER, PASSWORD, USER_CLAIMS)
        assert service.client_secret and web.client_secret
        return cls(deployment, {SERVICE: service.client_secret, WEB: web.client_secret})

    @property
    def api(self) -> HttpApi:
        return self.deployment.api

    def run(self, flow: str) -> Any:
        """A flow's result, running it the first time it is asked for (a failure is kept and
        raised again, so a broken flow fails every test that needs it with its own message)."""
        if flow in self.failed:
            raise AssertionError(f"the {flow} flow failed earlier") from self.failed[flow]
        if flow not in self.done:
            try:
                self.done[flow] = FLOWS[flow](self)
            except BaseException as exc:
                self.failed[flow] = exc
                raise
        return self.done[flow]

    def run_all(self) -> None:
        for flow in FLOWS:
            self.run(flow)

    def expect(self, response: ApiResponse, status: int, what: str) -> ApiResponse:
        return expect(response, status, self.deployment, what)

    def token_request(self, client_id: str, fields: dict[str, str]) -> ApiResponse:
        return self.api.request(
            "POST",
            "/token",
            headers=basic(client_id, self.secrets[client_id]),
            body=urlencode(fields),
        )

    def jwks(self) -> jwt.PyJWKSet:
        response = self.expect(self.api.request("GET", "/.well-known/jwks.json"), 200, "JWKS")
        return jwt.PyJWKSet.from_dict(response.json())

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        """Claims of a token the published JWKS verifies, for this issuer and audience."""
        kid = jwt.get_unverified_header(token)["kid"]
        key = self.jwks()[kid]
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[key.algorithm_name], audience=audience, issuer=self.api.url
        )
        return claims

    def passkey_origin(self, options: dict[str, Any]) -> str:
        """The origin a browser's passkey ceremony reports: the page's, which is the issuer's
        (this suite's stack has no custom domain). WebAuthn lets a page use only an RP ID its
        host is or ends with; the options name the host itself (Settings.passkey_relying_party:
        no PASSKEY_RP_ID set), so the authenticator is asked for the issuer's host."""
        rp_id = options["rp"]["id"] if "rp" in options else options["rpId"]
        assert rp_id == urlsplit(self.api.url).hostname, (rp_id, self.api.url)
        return self.api.url

    # --- steps the flows share ------------------------------------------------------------

    def service_token(self, scope: str = "read:data") -> str:
        response = self.token_request(SERVICE, {"grant_type": "client_credentials", "scope": scope})
        token: str = self.expect(response, 200, "client credentials").json()["access_token"]
        return token

    def sign_in_and_consent(
        self,
        browser: Browser,
        username: str = USER,
        password: str = PASSWORD,
        new_password: str | None = None,
        pushed: bool = False,
        passkey: SoftPasskey | None = None,
        **extra: str,
    ) -> tuple[dict[str, str], str, str]:
        """The code flow in a browser up to the client's callback: its query, the PKCE
        verifier and the nonce. Signs in (choosing `new_password` if the server asks for one;
        with `passkey` alone instead of the password, as the page's script would) and consents
        where the server asks. With `pushed`, the client pushes the request to /par (RFC 9126)
        and sends the browser with only its client_id and the request_uri."""
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        query = {
            "client_id": WEB,
            "redirect_uri": WEB_REDIRECT,
            "response_type": "code",
            "scope": CODE_FLOW_SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        if pushed:
            answer = self.api.request(
                "POST", "/par", headers=basic(WEB, self.secrets[WEB]), body=urlencode(query)
            )
            request_uri = self.expect(answer, 201, "pushed request").json()["request_uri"]
            query = {"client_id": WEB, "request_uri": request_uri}
        response = self.expect(browser.get(f"/authorize?{urlencode(query)}"), 303, "authorize")
        for _ in range(4):  # sign-in, then consent, then the client
            location = response.location
            if location.startswith(WEB_REDIRECT):
                break
            page = self.expect(browser.get(location), 200, f"GET {urlsplit(location).path}")
            fields = form_fields(page.body)
            if location.startswith("/login") and new_password is not None:
                fields.update(username=username, password=password)
                asked = self.expect(browser.post_form("/login", fields), 200, "temporary sign-in")
                fields = form_fields(asked.body)
                fields.update(new_password=new_password, confirm_password=new_password)
                answer = browser.post_form("/login/password", fields)
                response = self.expect(answer, 303, "new password")
            elif location.startswith("/login") and passkey is not None:
                options = passkey_options(page.body, "data-passkey-get")
                fields["credential"] = passkey.get(options, origin=self.passkey_origin(options))
                answer = browser.post_form("/login/passkey", fields)
                response = self.expect(answer, 303, "passkey sign-in")
            elif location.startswith("/login"):
                fields.update(username=username, password=password)
                response = self.expect(browser.post_form("/login", fields), 303, "sign-in")
            elif location.startswith("/consent"):
                fields["decision"] = "allow"
                response = self.expect(browser.post_form("/consent", fields), 303, "consent")
            else:
                raise AssertionError(f"unexpected redirect to {location}")
        callback = query_of(response.location)
        assert response.location.startswith(WEB_REDIRECT), response.location
        assert callback.get("state") == state and callback.get("iss") == self.api.url, callback
        return callback, verifier, nonce

    def code_tokens(
        self,
        browser: Browser | None = None,
        username: str = USER,
        password: str = PASSWORD,
        passkey: SoftPasskey | None = None,
    ) -> Tokens:
        callback, verifier, nonce = self.sign_in_and_consent(
            browser or Browser(self.api), username, password, passkey=passkey
        )
        fields = {
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": WEB_REDIRECT,
            "code_verifier": verifier,
        }
        body = self.expect(self.token_request(WEB, fields), 200, "code exchange").json()
        return Tokens(body["access_token"], body["refresh_token"], body["id_token"], nonce)


# --- the flows ---------------------------------------------------------------------------------


def client_credentials(world: World) -> str:
    wrong = world.api.request(
        "POST",
        "/token",
        headers=basic(SERVICE, "not-the-secret-0123456789abcdef"),
        body="grant_type=client_credentials",
    )
    world.expect(wrong, 401, "client credentials with a wrong secret")
    assert wrong.json()["error"] == "invalid_client"
    token = world.service_token("read:data write:data")
    claims = world.verify(token, f"{world.api.url}/resource")
    assert claims["client_id"] == SERVICE and set(claims["scope"].split()) == {
        "read:data",
        "write:data",
    }
    return token


def resource_call(world: World) -> None:
    token = world.run("client_credentials")
    bearer = {"authorization": f"Bearer {token}"}
    read = world.expect(world.api.request("GET", "/resource", headers=bearer), 200, "GET /resource")
    assert read.json()["client_id"] == SERVICE and read.json()["action"] == "read"
    write = world.api.request("POST", "/resource", headers=bearer, body="{}")
    assert world.expect(write, 200, "POST /resource").json()["action"] == "write"
    anonymous = world.expect(world.api.request("GET", "/resource"), 401, "GET /resource, no token")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


def dpop_resource_call(world: World) -> None:
    """A DPoP-bound token (RFC 9449) used at the resource: its proof's single-use record is the
    one write the resource function may make (the grants table, `once#dpop#` items only)."""
    key = DpopKey()
    token_url, resource_url = f"{world.api.url}/token", f"{world.api.url}/resource"
    headers = {**basic(SERVICE, world.secrets[SERVICE]), "dpop": key.proof("POST", token_url)}
    body = "grant_type=client_credentials&scope=read%3Adata"
    issued = world.expect(
        world.api.request("POST", "/token", headers=headers, body=body), 200, "DPoP token"
    ).json()
    assert issued["token_type"] == "DPoP", issued
    token = issued["access_token"]
    proof = key.proof("GET", resource_url, access_token=token)
    bound = {"authorization": f"DPoP {token}", "dpop": proof}
    read = world.expect(world.api.request("GET", "/resource", headers=bound), 200, "DPoP call")
    assert read.json()["client_id"] == SERVICE
    replayed = world.api.request("GET", "/resource", headers=bound)
    world.expect(replayed, 401, "a DPoP proof replayed")
    assert replayed.headers["www-authenticate"].startswith("DPoP ")


def discovery(world: World) -> None:
    issuer = world.deployment.stack.outputs["IssuerUrl"]
    assert issuer == world.api.url
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        document = world.expect(world.api.request("GET", path), 200, path).json()
        assert document["issuer"] == issuer, document
        assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json", document
        assert document["token_endpoint"] == f"{issuer}/token", document
    keys = world.jwks()
    assert len(keys.keys) >= 2, "the current key and the next one are published"


def code_flow(world: World) -> Tokens:
    browser = Browser(world.api)
    tokens = world.code_tokens(browser)
    id_claims = world.verify(tokens.id_token, WEB)
    assert id_claims["nonce"] == tokens.nonce and id_claims["email"] == USER_CLAIMS["email"]
    access = world.verify(tokens.access_token, f"{world.api.url}/resource")
    assert access["sub"] == id_claims["sub"] and access["client_id"] == WEB
    bearer = {"authorization": f"Bearer {tokens.access_token}"}
    userinfo = world.expect(world.api.request("GET", "/userinfo", headers=bearer), 200, "userinfo")
    assert userinfo.json()["sub"] == id_claims["sub"]
    assert userinfo.json()["name"] == USER_CLAIMS["name"]
    # Signed in and consented: the authorization endpoint issues the next code itself.
    callback, _, _ = world.sign_in_and_consent(browser)
    assert callback["code"]
    return tokens


def pushed_authorization_request(world: World) -> None:
    """RFC 9126: the request pushed to /par (the token function stores it), taken once by the
    authorize function (a conditional delete), then the code and its tokens."""
    browser = Browser(world.api)
    callback, verifier, nonce = world.sign_in_and_consent(browser, pushed=True)
    fields = {
        "grant_type": "authorization_code",
        "code": callback["code"],
        "redirect_uri": WEB_REDIRECT,
        "code_verifier": verifier,
    }
    body = world.expect(world.token_request(WEB, fields), 200, "pushed code exchange").json()
    assert world.verify(body["id_token"], WEB)["nonce"] == nonce


def refresh_rotation_and_reuse(world: World) -> None:
    first = world.code_tokens()
    grant = {"grant_type": "refresh_token", "refresh_token": first.refresh_token}
    rotated = world.expect(world.token_request(WEB, grant), 200, "refresh").json()
    assert rotated["refresh_token"] != first.refresh_token
    world.verify(rotated["access_token"], f"{world.api.url}/resource")
    reused = world.expect(world.token_request(WEB, grant), 400, "a used refresh token again")
    assert reused.json()["error"] == "invalid_grant"
    # Reuse revoked the whole family: the token the rotation issued is dead too.
    after = {"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]}
    world.expect(world.token_request(WEB, after), 400, "the rotated token after reuse")


def introspection(world: World) -> None:
    tokens = world.code_tokens()

    def introspect(token: str) -> dict[str, Any]:
        response = world.api.request(
            "POST",
            "/introspect",
            headers=basic(WEB, world.secrets[WEB]),
            body=urlencode({"token": token}),
        )
        answer: dict[str, Any] = world.expect(response, 200, "introspect").json()
        return answer

    active = introspect(tokens.access_token)
    assert active["active"] is True and active["client_id"] == WEB, active
    assert introspect(tokens.refresh_token)["active"] is True
    assert introspect("not-a-token")["active"] is False


def revocation(world: World) -> None:
    tokens = world.code_tokens()
    for token in (tokens.refresh_token, tokens.access_token):
        response = world.api.request(
            "POST",
            "/revoke",
            headers=basic(WEB, world.secrets[WEB]),
            body=urlencode({"token": token}),
        )
        world.expect(response, 200, "revoke")
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    world.expect(world.token_request(WEB, refresh), 400, "refresh with a revoked token")
    response = world.api.request(
        "POST",
        "/introspect",
        headers=basic(WEB, world.secrets[WEB]),
        body=urlencode({"token": tokens.access_token}),
    )
    assert world.expect(response, 200, "introspect a revoked token").json()["active"] is False


def logout(world: World) -> None:
    browser = Browser(world.api)
    world.sign_in_and_consent(browser)
    page = world.expect(browser.get("/logout"), 200, "GET /logout")
    world.expect(browser.post_form("/logout", form_fields(page.body)), 200, "POST /logout")
    assert not any("session" in name for name in browser.cookies), browser.cookies
    # Signed out: the next authorization request goes to sign-in again.
    query = urlencode(
        {
            "client_id": WEB,
            "redirect_uri": WEB_REDIRECT,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": pkce_pair()[1],
            "code_challenge_method": "S256",
        }
    )
    again = world.expect(browser.get(f"/authorize?{query}"), 303, "authorize after sign-out")
    assert again.location.startswith("/login"), again.location


BACKCHANNEL = "deployed-backchannel"
BACKCHANNEL_APP = "https://backchannel.example.com"
# A private address: what the deployed notifier must refuse to call (the suite has no network).
BACKCHANNEL_URI = "https://10.0.0.9/backchannel-logout"


def backchannel_logout(world: World) -> None:
    """RP-initiated and back-channel logout: a session signed into WEB through the sign-in
    pages, then into a first-party app by the authorization endpoint itself (which records the
    app in the code's write); /logout with that app's ID token signs out at once (the login
    function checks it against the published JWKS) and hands the session to the logout notifier
    in one asynchronous invocation, which the suite runs as Lambda would: the notifier reads the
    app and the signing keys, and refuses the app's private address."""
    deployment = world.deployment
    deployment.admin().clients().create(
        {
            "client_id": BACKCHANNEL,
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": [f"{BACKCHANNEL_APP}/callback"],
            "post_logout_redirect_uris": [f"{BACKCHANNEL_APP}/bye"],
            "backchannel_logout_uri": BACKCHANNEL_URI,
            "scope": "openid",
            "first_party": True,
        }
    )
    browser = Browser(world.api)
    world.sign_in_and_consent(browser)
    verifier, challenge = pkce_pair()
    query = {
        "client_id": BACKCHANNEL,
        "redirect_uri": f"{BACKCHANNEL_APP}/callback",
        "response_type": "code",
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = world.expect(browser.get(f"/authorize?{urlencode(query)}"), 303, "authorize, SSO")
    assert answer.location.startswith(f"{BACKCHANNEL_APP}/callback"), answer.location
    fields = {
        "grant_type": "authorization_code",
        "code": query_of(answer.location)["code"],
        "redirect_uri": f"{BACKCHANNEL_APP}/callback",
        "code_verifier": verifier,
        "client_id": BACKCHANNEL,
    }
    headers = {"content-type": "application/x-www-form-urlencoded"}
    tokens = world.api.request("POST", "/token", headers=headers, body=urlencode(fields))
    id_token = world.expect(tokens, 200, "code exchange").json()["id_token"]
    sid = world.verify(id_token, BACKCHANNEL)["sid"]
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": f"{BACKCHANNEL_APP}/bye",
        "state": "bye-state",
    }
    out = world.expect(browser.get(f"/logout?{urlencode(params)}"), 303, "RP-initiated logout")
    assert out.location == f"{BACKCHANNEL_APP}/bye?state=bye-state", out.location
    assert not any("session" in name for name in browser.cookies), browser.cookies
    assert deployment.async_results.get("logout_notifier") == [{"delivered": 0, "failed": 1}]
    notifier = deployment.function("logout_notifier")
    lines = [json.loads(line) for line in deployment.log_lines_of_group(notifier.log_group)]
    not_delivered = "back-channel logout not delivered"
    (refused,) = [line for line in lines if line.get("message") == not_delivered]
    assert refused["client_id"] == BACKCHANNEL and "non-public address" in refused["reason"]
    assert sid not in json.dumps(lines)  # the session is named to the app only


def key_rotation(world: World) -> None:
    """A scheduled rotation by the packaged rotation function; a container started afterwards
    signs with the new key, which was published before it signed, and every token verifies."""
    deployment = world.deployment
    ((secret, rotation_function),) = deployment.stack.rotations
    before = world.service_token()
    published_before = {key.key_id for key in world.jwks().keys}
    deployment.rotate_secret(secret, deployment.stack.functions[rotation_function].name)
    deployment.new_container("token")
    after = world.service_token()
    old_kid, new_kid = (jwt.get_unverified_header(t)["kid"] for t in (before, after))
    assert new_kid != old_kid, "a token function started after the rotation signs as before"
    assert new_kid in published_before, "the new signing key was not published before it signed"
    for token in (before, after):
        world.verify(token, f"{world.api.url}/resource")
        bearer = {"authorization": f"Bearer {token}"}
        world.expect(world.api.request("GET", "/resource", headers=bearer), 200, "resource call")


def temporary_password(world: World) -> None:
    """An operator sets a temporary password; at sign-in the user chooses their own, which the
    login function stores (and the grants of the old one end), then the flow goes on."""
    users = world.deployment.admin().users()
    users.create(TEMPORARY_USER, "first-password-0123456789", {})
    users.set_password(TEMPORARY_USER, "temporary-password-0123456789", temporary=True)
    chosen = "chosen-password-0123456789"
    world.sign_in_and_consent(
        Browser(world.api), TEMPORARY_USER, "temporary-password-0123456789", new_password=chosen
    )
    # The next sign-in takes the chosen password, and asks for no other.
    world.sign_in_and_consent(Browser(world.api), TEMPORARY_USER, chosen)


def account_page(world: World) -> None:
    """The account page as a user uses it: sign in there, the app they allowed listed, access
    removed (its refresh token refused), the password changed, signed out everywhere."""
    users = world.deployment.admin().users()
    first, second = "account-password-0123456789", "account-password-9876543210"
    users.create(ACCOUNT_USER, first, {"name": "Ari Account"})
    tokens = world.code_tokens(username=ACCOUNT_USER, password=first)
    browser = Browser(world.api)
    sign_in = world.expect(browser.get("/account"), 200, "GET /account")
    fields = _account_form(sign_in.body, "/account/login")
    fields.update(username=ACCOUNT_USER, password=first)
    world.expect(browser.post_form("/account/login", fields), 303, "account sign-in")
    page = world.expect(browser.get("/account"), 200, "GET /account signed in").body
    assert "Ari Account" in page and f"Remove access for {WEB}" in page, page
    remove = _account_form(page, "/account", action="remove")
    world.expect(browser.post_form("/account", remove), 303, "remove access")
    reuse = world.token_request(
        WEB, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    )
    assert world.expect(reuse, 400, "refresh after remove").json()["error"] == "invalid_grant"
    page = world.expect(browser.get("/account"), 200, "GET /account after remove").body
    change = _account_form(page, "/account", action="password")
    change.update(current_password=first, new_password=second, confirm_password=second)
    world.expect(browser.post_form("/account", change), 303, "change password")
    page = world.expect(browser.get("/account"), 200, "GET /account after the change").body
    everywhere = _account_form(page, "/account", action="sign_out_everywhere")
    world.expect(browser.post_form("/account", everywhere), 303, "sign out everywhere")
    after = world.expect(browser.get("/account"), 200, "GET /account signed out").body
    assert "Sign in to see and manage your account" in after


def second_factor(world: World) -> None:
    """Two-step verification through the login function: set up on the account page (a code of
    the app the QR code's key sets up; the factors table's conditional put), then a sign-in
    with a recovery code (a conditional update), then turned off with the password (a delete)."""
    import pyotp

    users = world.deployment.admin().users()
    password = "factor-password-0123456789"
    users.create(FACTOR_USER, password, {})
    browser = Browser(world.api)
    sign_in = world.expect(browser.get("/account"), 200, "GET /account")
    fields = _account_form(sign_in.body, "/account/login")
    fields.update(username=FACTOR_USER, password=password)
    world.expect(browser.post_form("/account/login", fields), 303, "account sign-in")
    page = world.expect(browser.get("/account"), 200, "GET /account signed in").body
    start = _account_form(page, "/account", action="totp_start")
    enrol = world.expect(browser.post_form("/account", start), 200, "set up an app").body
    key = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', enrol)
    assert key and "<svg" in enrol, enrol
    confirm = _account_form(enrol, "/login/second-factor")
    confirm["code"] = pyotp.TOTP(key.group(1).replace(" ", "")).now()
    saved = world.expect(browser.post_form("/login/second-factor", confirm), 200, "first code")
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", saved.body)
    assert len(codes) == 10, saved.body
    again = Browser(world.api)
    sign_in = world.expect(again.get("/account"), 200, "GET /account, another browser")
    fields = _account_form(sign_in.body, "/account/login")
    fields.update(username=FACTOR_USER, password=password)
    asked = world.expect(again.post_form("/account/login", fields), 200, "password step").body
    step = _account_form(asked, "/login/second-factor")
    step["code"] = codes[0]
    world.expect(again.post_form("/login/second-factor", step), 303, "a recovery code")
    page = world.expect(again.get("/account"), 200, "GET /account with both factors").body
    off = _account_form(page, "/account", action="totp_remove")
    off["password"] = password
    world.expect(again.post_form("/account", off), 303, "turned off")
    page = world.expect(again.get("/account"), 200, "GET /account after").body
    assert "Set up an authenticator app" in page, page


def passkeys(world: World) -> None:
    """Passkeys through the login function: one added on the account page after a password
    sign-in (the passkeys table's conditional put), then signing in for an app with it alone
    (read by its id, its counter moved by a conditional update): the code's ID token says so;
    then removed (a conditional delete on its owner), and refused from then on."""
    world.deployment.admin().users().create(PASSKEY_USER, "passkey-password-0123456789", {})
    account = Browser(world.api)
    sign_in = world.expect(account.get("/account"), 200, "GET /account")
    fields = _account_form(sign_in.body, "/account/login")
    fields.update(username=PASSKEY_USER, password="passkey-password-0123456789")
    world.expect(account.post_form("/account/login", fields), 303, "account sign-in")
    page = world.expect(account.get("/account"), 200, "GET /account signed in").body
    options = passkey_options(page, "data-passkey-create")
    key = SoftPasskey(options["rp"]["id"])  # hardware-bound: not synced, it counts its uses
    add = _account_form(page, "/account/passkeys", action="add")
    add.update(
        name="Deployed key", credential=key.create(options, origin=world.passkey_origin(options))
    )
    added = world.expect(account.post_form("/account/passkeys", add), 303, "add a passkey")
    assert added.location == "/account?done=passkey_added#passkeys", added.location
    page = world.expect(account.get("/account"), 200, "GET /account with a passkey").body
    assert "Remove Deployed key" in page and "Not used yet." in page, page

    tokens = world.code_tokens(passkey=key)  # no username: the passkey names its user
    claims = world.verify(tokens.id_token, WEB)
    assert claims["nonce"] == tokens.nonce, claims
    amr = (constants.AMR_HARDWARE_KEY, constants.AMR_USER_PRESENCE, constants.AMR_MULTI_FACTOR)
    assert tuple(claims["amr"]) == amr and claims["acr"] == constants.ACR_PASSKEY, claims
    assert world.verify(tokens.access_token, f"{world.api.url}/resource")["sub"] == claims["sub"]
    assert key.sign_count == 1
    page = world.expect(account.get("/account"), 200, "GET /account after its use").body
    assert "Last used" in page and "Not used yet." not in page, page  # the counter's update

    remove = _account_form(page, "/account/passkeys", action="remove", credential_id=key.id)
    removed = world.expect(account.post_form("/account/passkeys", remove), 303, "remove it")
    assert removed.location == "/account?done=passkey_removed#passkeys", removed.location
    page = world.expect(account.get("/account"), 200, "GET /account after removal").body
    assert "You have no passkeys yet" in page, page
    # Removed: the account page's passkey sign-in finds no such passkey.
    other = Browser(world.api)
    sign_in = world.expect(other.get("/account"), 200, "GET /account, another browser")
    options = passkey_options(sign_in.body, "data-passkey-get")
    attempt = {
        "csrf_token": _account_form(sign_in.body, "/account/login")["csrf_token"],
        "credential": key.get(options, origin=world.passkey_origin(options)),
    }
    refused = world.expect(
        other.post_form("/account/passkey-login", attempt), 303, "the removed passkey"
    )
    assert refused.location == "/account?done=passkey_failed", refused.location
    assert not any("session" in name for name in other.cookies), other.cookies


def passkey_options(html: str, attribute: str) -> dict[str, Any]:
    """The WebAuthn options a page hands its script in `attribute` (data-passkey-create or
    data-passkey-get)."""
    found = re.search(rf'{attribute}="([^"]+)"', html)
    assert found, f"no {attribute} in the page"
    options: dict[str, Any] = json.loads(unescape(found.group(1)))
    return options


def _account_form(html: str, target: str, **wanted: str) -> dict[str, str]:
    """The hidden fields of the page's form posting to `target` with `wanted` among them."""
    for action, body in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html):
        fields = form_fields(body)
        if action == target and all(fields.get(k) == v for k, v in wanted.items()):
            return fields
    raise AssertionError(f"no form posting to {target} with {wanted}")


def dynamic_registration(world: World) -> None:
    """RFC 7591 and 7592 through the registration function: a client registers itself (its
    source counted), reads its registration with the token it was given, and deletes it."""
    metadata = {"client_name": "deployed MCP client", "redirect_uris": ["http://127.0.0.1:9/cb"]}
    json_headers = {"content-type": "application/json"}
    made = world.expect(
        world.api.request("POST", "/register", headers=json_headers, body=json.dumps(metadata)),
        201,
        "register",
    ).json()
    assert made["token_endpoint_auth_method"] == "none", made
    target = made["registration_client_uri"].removeprefix(world.api.url)
    bearer = {"authorization": f"Bearer {made['registration_access_token']}"}
    read = world.expect(world.api.request("GET", target, headers=bearer), 200, "read").json()
    assert read["client_id"] == made["client_id"]
    world.expect(world.api.request("DELETE", target, headers=bearer), 204, "delete")
    world.expect(world.api.request("GET", target, headers=bearer), 401, "read after delete")


def audit_trail(world: World) -> None:
    """What CloudWatch Logs would do with the functions' output: each subscription filter's
    matching lines, delivered to the audit forwarder as a subscription payload, are printed by
    it to its log group (the audit log), each record complete."""
    world.run("client_credentials")
    world.run("code_flow")
    deployment = world.deployment
    subscriptions = deployment.stack.subscriptions
    assert subscriptions, "no subscription filter in the template"
    expected: list[dict[str, Any]] = []
    for subscription in subscriptions:
        lines = deployment.log_lines_of_group(subscription.log_group)
        matching = [line for line in lines if _matches(subscription.pattern, line)]
        if not matching:
            continue
        forwarder = deployment.stack.functions[subscription.function]
        answer = deployment.invoke(
            forwarder.logical_id, _subscription_event(deployment, subscription, matching)
        )
        assert answer == {"forwarded": len(matching)}, answer
        expected += [json.loads(line)["audit"] for line in matching]
    events = {record["event"] for record in expected}
    assert {"token.issued", "signin.success", "consent.given"} <= events, events
    if "account_page" in world.done:
        assert {"consent.withdrawn", "password.changed", "sessions.ended"} <= events, events
    if "passkeys" in world.done:
        assert {"passkey.added", "passkey.removed", "passkey.refused"} <= events, events
    printed = [
        json.loads(line)["audit"]
        for line in deployment.log_lines_of_group(forwarder.log_group)
        if line.startswith('{"audit"')
    ]
    assert len(printed) == len(expected)
    for made, forwarded in zip(expected, printed, strict=True):
        assert made.items() <= forwarded.items() or made["event"] == "token.issued", (
            made,
            forwarded,
        )
        assert forwarded["time"] and forwarded["outcome"], forwarded


def _matches(pattern: str, line: str) -> bool:
    """CloudWatch Logs' JSON filter pattern, for the one pattern the stack uses."""
    if pattern.replace(" ", "") != "{$.audit.v>=1}":
        raise NotImplementedError(f"filter pattern {pattern!r}: teach the suite to match it")
    try:
        document = json.loads(line)
    except ValueError:
        return False
    audit = document.get("audit") if isinstance(document, dict) else None
    version = audit.get("v") if isinstance(audit, dict) else None
    return isinstance(version, int | float) and version >= 1


def _subscription_event(
    deployment: Deployment, subscription: Subscription, lines: list[str]
) -> dict[str, Any]:
    """The event CloudWatch Logs invokes a subscription's function with."""
    now = int(time.time() * 1000)
    batch = {
        "messageType": "DATA_MESSAGE",
        "owner": deployment.account,
        "logGroup": subscription.log_group,
        "logStream": "2026/11/29/[$LATEST]deployed",
        "subscriptionFilters": ["audit-records"],
        "logEvents": [
            {"id": str(number), "timestamp": now, "message": line}
            for number, line in enumerate(lines)
        ],
    }
    data = base64.b64encode(gzip.compress(json.dumps(batch).encode())).decode()
    return {"awslogs": {"data": data}}


FLOWS: dict[str, Callable[[World], Any]] = {
    "client_credentials": client_credentials,
    "resource_call": resource_call,
    "dpop_resource_call": dpop_resource_call,
    "discovery": discovery,
    "code_flow": code_flow,
    "pushed_authorization_request": pushed_authorization_request,
    "refresh_rotation_and_reuse": refresh_rotation_and_reuse,
    "introspection": introspection,
    "revocation": revocation,
    "logout": logout,
    "backchannel_logout": backchannel_logout,
    "key_rotation": key_rotation,
    "temporary_password": temporary_password,
    "account_page": account_page,
    "second_factor": second_factor,
    "passkeys": passkeys,
    "dynamic_registration": dynamic_registration,
    # Last: it forwards what the flows before it printed.
    "audit_trail": audit_trail,
}
