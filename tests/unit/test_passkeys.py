"""Passkeys on the in-memory stores, with a software authenticator (tests.passkey_authenticator):
the verifier's checks (K1-K5) one by one, and the pages around them: signing in with a passkey
alone for an authorization request (the ID token's amr and acr), adding and removing passkeys
on the account page, the script and its CSP."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape
from typing import Any

import jwt
import pytest

from oauth_core import constants
from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.http.dispatch import Endpoints
from oauth_core.http.pages import passkey_script
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import Passkey, PendingAuthorization, Session, User
from oauth_core.rules.hashing import token_hash
from oauth_core.rules.passkey_challenges import (
    ACCOUNT_SIGN_IN,
    REGISTER,
    SECOND_FACTOR,
    SIGN_IN,
)
from oauth_core.rules.passkeys import PasskeyRefused, PasskeyVerifier, RelyingParty
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.wiring import Components, endpoints_for
from tests.passkey_authenticator import SoftPasskey
from tests.support import DOMAIN, ISSUER, form_fields, form_request, pkce_pair, query_of
from tests.support import redeem_code as redeem

RP = RelyingParty("auth.example.com", ISSUER)
CSRF = "c" * 43
SESSION_ID = "s" * 43
APP = "passkey-app"
CALLBACK = "https://app.example/cb"
PASSWORD = "alice's long password"


@pytest.fixture
def verifier(services: Components) -> PasskeyVerifier:
    return services.passkey_verifier


@pytest.fixture
def alice(services: Components) -> User:
    return services.user_directory.create("alice", PASSWORD, {"name": "Alice"})


@pytest.fixture
def bob(services: Components) -> User:
    return services.user_directory.create("bob", "bob's long password", {})


def registered(
    verifier: PasskeyVerifier, user: User, authenticator: SoftPasskey, name: str = "Phone"
) -> Passkey:
    existing = verifier._passkeys.of_user(user.sub)
    options = verifier.creation_options(RP, user, "binding", existing)
    response = authenticator.create(options, origin=RP.origin)
    return verifier.register(RP, user, response, "binding", name, existing, options["user"]["id"])


def soft(**kwargs: Any) -> SoftPasskey:
    return SoftPasskey("auth.example.com", **kwargs)


def answer(verifier: PasskeyVerifier, key: SoftPasskey, binding: str = "b", **kwargs: Any) -> str:
    options = verifier.request_options(RP, SIGN_IN, binding)
    return key.get(options, origin=RP.origin, **kwargs)


# --- the verifier ------------------------------------------------------------------------------


def test_a_registered_passkey_signs_its_user_in_and_moves_its_counter(
    verifier: PasskeyVerifier, alice: User, services: Components, clock: FixedClock
) -> None:
    key = soft()
    kept = registered(verifier, alice, key, "  My\x00 phone ")
    assert kept.name == "My phone" and kept.sub == alice.sub and kept.sign_count == 0
    assert kept.user_handle != alice.username and kept.user_handle != alice.sub
    assert len(base64.urlsafe_b64decode(kept.user_handle + "=")) == 32
    assert kept.transports == ("hybrid", "internal") and not kept.backup_eligible
    clock.advance(5)
    verified = verifier.verify(RP, answer(verifier, key), SIGN_IN, "b")
    assert verified.passkey.credential_id == key.id
    assert verified.amr == ("hwk", "user", "mfa")
    stored = services.passkeys.get(key.id)
    assert stored is not None and stored.sign_count == 1 and stored.last_used_at == clock.now()


def test_a_second_passkey_of_a_user_has_the_same_user_handle(
    verifier: PasskeyVerifier, alice: User
) -> None:
    first, second = registered(verifier, alice, soft()), registered(verifier, alice, soft())
    assert first.user_handle == second.user_handle


def test_a_synced_passkey_is_a_software_key(verifier: PasskeyVerifier, alice: User) -> None:
    key = soft(synced=True, counts=False)
    assert registered(verifier, alice, key).backup_eligible
    assert verifier.verify(RP, answer(verifier, key), SIGN_IN, "b").amr == ("swk", "user", "mfa")


def test_k1_an_answer_made_for_another_origin_or_rp_id_is_refused(
    verifier: PasskeyVerifier, alice: User, services: Components
) -> None:
    key = soft()
    registered(verifier, alice, key)
    lies: tuple[dict[str, Any], ...] = (
        {"origin": "https://evil.example"},
        {"origin": "http://auth.example.com"},
        {"origin": "https://auth.example.com:8443"},
        {"origin": RP.origin, "rp_id": "example.com"},
        {"origin": RP.origin, "rp_id": "evil.example"},
    )
    for lie in lies:
        options = verifier.request_options(RP, SIGN_IN, "b")
        response = key.get(options, **lie)
        with pytest.raises(PasskeyRefused) as refused:
            verifier.verify(RP, response, SIGN_IN, "b")
        assert refused.value.reason == "bad_assertion", lie
    # A create() answer is no get() answer.
    options = verifier.request_options(RP, SIGN_IN, "b")
    with pytest.raises(PasskeyRefused):
        verifier.verify(
            RP, key.get(options, origin=RP.origin, ceremony="webauthn.create"), SIGN_IN, "b"
        )
    stored = services.passkeys.get(key.id)
    assert stored is not None and stored.last_used_at == 0


def test_k1_a_registration_for_another_origin_or_rp_id_is_refused(
    verifier: PasskeyVerifier, alice: User, services: Components
) -> None:
    lies: tuple[dict[str, Any], ...] = (
        {"origin": "https://evil.example"},
        {"origin": RP.origin, "rp_id": "evil.example"},
    )
    for lie in lies:
        options = verifier.creation_options(RP, alice, "b", [])
        response = soft().create(options, **lie)
        with pytest.raises(PasskeyRefused) as refused:
            verifier.register(RP, alice, response, "b", "x", [], options["user"]["id"])
        assert refused.value.reason == "bad_attestation"
    assert services.passkeys.of_user(alice.sub) == []


def test_k1_the_rp_id_is_the_issuers_host_or_a_suffix_of_it() -> None:
    assert Settings().passkey_relying_party("https://auth.example.com") == (
        "auth.example.com",
        "https://auth.example.com",
    )
    # No IP address is an RP ID: a loopback development stack's passkeys are localhost's.
    assert Settings().passkey_relying_party("http://127.0.0.1:8000") == (
        "localhost",
        "http://localhost:8000",
    )
    assert Settings().passkey_relying_party("http://localhost:8000")[0] == "localhost"
    shared = Settings(passkey_rp_id="example.com")
    assert shared.passkey_relying_party("https://auth.example.com")[0] == "example.com"
    for wrong in ("other.example", "ample.com", "sub.auth.example.com"):
        with pytest.raises(ValueError, match="OAUTH_PASSKEY_RP_ID"):
            Settings(passkey_rp_id=wrong).passkey_relying_party("https://auth.example.com")


def test_k2_a_challenge_is_answered_once(
    verifier: PasskeyVerifier, alice: User, services: Components
) -> None:
    key = soft(counts=False)
    registered(verifier, alice, key)
    response = answer(verifier, key)
    verifier.verify(RP, response, SIGN_IN, "b")
    with pytest.raises(PasskeyRefused) as refused:
        verifier.verify(RP, response, SIGN_IN, "b")
    assert refused.value.reason == "replayed"


def test_k2_a_challenge_expires(verifier: PasskeyVerifier, alice: User, clock: FixedClock) -> None:
    key = soft()
    registered(verifier, alice, key)
    response = answer(verifier, key)
    clock.advance(constants.PASSKEY_CHALLENGE_TTL)
    with pytest.raises(PasskeyRefused) as refused:
        verifier.verify(RP, response, SIGN_IN, "b")
    assert refused.value.reason == "challenge"


def test_k2_a_challenge_is_bound_to_its_ceremony_and_its_binding(
    verifier: PasskeyVerifier, alice: User
) -> None:
    key = soft()
    registered(verifier, alice, key)
    cases = [
        (SIGN_IN, "browser-1 request-1", SIGN_IN, "browser-2 request-1"),  # another browser
        (SIGN_IN, "browser-1 request-1", SIGN_IN, "browser-1 request-2"),  # another request
        (ACCOUNT_SIGN_IN, "browser-1", SIGN_IN, "browser-1"),  # another ceremony
        (SECOND_FACTOR, "b", SIGN_IN, "b"),
        (REGISTER, "b", SIGN_IN, "b"),
    ]
    for purpose, binding, answered_as, answered_with in cases:
        options = verifier.request_options(RP, purpose, binding)
        with pytest.raises(PasskeyRefused) as refused:
            verifier.verify(RP, key.get(options, origin=RP.origin), answered_as, answered_with)
        assert refused.value.reason == "challenge"


def test_k2_a_challenge_not_made_here_is_refused(verifier: PasskeyVerifier, alice: User) -> None:
    key = soft()
    registered(verifier, alice, key)
    options = verifier.request_options(RP, SIGN_IN, "b")
    raw = bytearray(base64.urlsafe_b64decode(options["challenge"] + "=="))
    raw[10] ^= 1  # one bit of its random part
    options["challenge"] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(PasskeyRefused) as refused:
        verifier.verify(RP, key.get(options, origin=RP.origin), SIGN_IN, "b")
    assert refused.value.reason == "challenge"
    options["challenge"] = "AAAA"
    with pytest.raises(PasskeyRefused):
        verifier.verify(RP, key.get(options, origin=RP.origin), SIGN_IN, "b")


def test_k2_a_registration_challenge_is_answered_once_and_vouches_for_the_user_handle(
    verifier: PasskeyVerifier, alice: User, services: Components
) -> None:
    options = verifier.creation_options(RP, alice, "b", [])
    handle = options["user"]["id"]
    response = soft().create(options, origin=RP.origin)
    with pytest.raises(PasskeyRefused) as refused:
        verifier.register(RP, alice, response, "b", "x", [], "another-handle")
    assert refused.value.reason == "challenge"
    verifier.register(RP, alice, response, "b", "x", [], handle)
    again = soft()
    again.credential_id = b"another id......"
    with pytest.raises(PasskeyRefused) as refused:
        verifier.register(RP, alice, again.create(options, origin=RP.origin), "b", "x", [], handle)
    assert refused.value.reason == "replayed"


def test_k3_a_counter_that_goes_backwards_is_refused_and_suspends_the_passkey(
    verifier: PasskeyVerifier, alice: User, services: Components
) -> None:
    key = soft()
    registered(verifier, alice, key)
    verifier.verify(RP, answer(verifier, key, sign_count=7), SIGN_IN, "b")
    for replayed_count in (7, 3, 0):
        with pytest.raises(PasskeyRefused) as refused:
            verifier.verify(RP, answer(verifier, key, sign_count=replayed_count), SIGN_IN, "b")
        assert refused.value.reason in ("counter_regression", "suspended")
    stored = services.passkeys.get(key.id)
    assert stored is not None and stored.suspended_at and stored.sign_count == 7
    # Suspended: even a counter that moves on again is refused.
    with pytest.raises(PasskeyRefused) as refused:
        verifier.verify(RP, answer(verifier, key, sign_count=100), SIGN_IN, "b")
    assert refused.value.reason == "suspended"


def test_k3_a_passkey_that_does_not_count_may_say_zero_every_time(
    verifier: PasskeyVerifier, alice: User
) -> None:
    key = soft(counts=False)
    registered(verifier, alice, key)
    for _ in range(3):
        assert verifier.verify(RP, answer(verifier, key), SIGN_IN, "b").passkey.sign_count == 0


def test_k3_the_counter_moves_by_one_conditional_write(
    verifier: PasskeyVerifier, alice: User, services: Components
) -> None:
    key = soft()
    registered(verifier, alice, key)
    # Another sign-in moved the counter between this one's read and its write.
    assert services.passkeys.record_use(key.id, 0, 1, False, 1)
    assert not services.passkeys.record_use(key.id, 0, 1, False, 2)
    key.sign_count = 0  # this authenticator's answer says 1 too
    with pytest.raises(PasskeyRefused) as refused:
        verifier.verify(RP, answer(verifier, key), SIGN_IN, "b")
    assert refused.value.reason == "counter_regression"


def test_k4_user_verification_is_required(
    verifier: PasskeyVerifier, alice: User, services: Components
) -> None:
    key = soft()
    registered(verifier, alice, key)
    with pytest.raises(PasskeyRefused) as refused:
        verifier.verify(RP, answer(verifier, key, verified=False), SIGN_IN, "b")
    assert refused.value.reason == "bad_assertion"
    options = verifier.request_options(RP, SIGN_IN, "b")
    assert options["userVerification"] == "required"
    creation = verifier.creation_options(RP, alice, "b", [])
    assert creation["authenticatorSelection"]["residentKey"] == "required"
    assert creation["authenticatorSelection"]["userVerification"] == "required"
    with pytest.raises(PasskeyRefused) as refused:
        verifier.register(
            RP, alice, soft().create(creation, origin=RP.origin, verified=False), "b", "x", [],
            creation["user"]["id"],
        )  # fmt: skip
    assert refused.value.reason == "bad_attestation"
    assert len(services.passkeys.of_user(alice.sub)) == 1


def test_k5_a_passkey_signs_in_only_its_own_user(
    verifier: PasskeyVerifier, alice: User, bob: User
) -> None:
    key = soft()
    registered(verifier, alice, key)
    registered(verifier, bob, soft())
    # A user handle that is not the passkey's own (bob's, or none) is refused.
    bobs_handle = verifier._passkeys.of_user(bob.sub)[0].user_handle
    for handle in (bobs_handle, "", "é"):
        with pytest.raises(PasskeyRefused) as refused:
            verifier.verify(RP, answer(verifier, key, user_handle=handle), SIGN_IN, "b")
        assert refused.value.reason == "wrong_user"
    # As a second factor for bob, alice's passkey is refused.
    options = verifier.request_options(RP, SECOND_FACTOR, "b")
    with pytest.raises(PasskeyRefused) as refused:
        verifier.verify(RP, key.get(options, origin=RP.origin), SECOND_FACTOR, "b", user=bob)
    assert refused.value.reason == "wrong_user"
    options = verifier.request_options(RP, SECOND_FACTOR, "b")
    second = verifier.verify(RP, key.get(options, origin=RP.origin), SECOND_FACTOR, "b", user=alice)
    assert second.key_kind == "hwk"


def test_k5_an_unknown_or_malformed_answer_is_refused(verifier: PasskeyVerifier) -> None:
    malformed = (
        "",
        "{",
        "[]",
        json.dumps({"id": "x", "type": "public-key"}),
        json.dumps({"id": "", "type": "public-key", "response": {}}),
        json.dumps({"id": "x" * 2000, "type": "public-key", "response": {}}),
        "x" * 20000,
    )
    for response in malformed:
        with pytest.raises(PasskeyRefused) as refused:
            verifier.verify(RP, response, SIGN_IN, "b")
        assert refused.value.reason == "malformed"
    stranger = soft()
    stranger.user_handle = "abc"
    with pytest.raises(PasskeyRefused) as refused:
        verifier.verify(RP, answer(verifier, stranger), SIGN_IN, "b")
    assert refused.value.reason == "unknown_credential"


def test_no_more_passkeys_than_a_user_may_keep(
    verifier: PasskeyVerifier, alice: User, services: Components, clock: FixedClock
) -> None:
    for _ in range(constants.MAX_PASSKEYS_PER_USER):
        registered(verifier, alice, soft())
    with pytest.raises(PasskeyRefused) as refused:
        registered(verifier, alice, soft())
    assert refused.value.reason == "too_many"


# --- the pages -----------------------------------------------------------------------------------


@pytest.fixture
def pages(services: Components) -> Endpoints:
    services.registry.create(
        {
            "client_id": APP,
            "client_name": "Passkey App",
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": [CALLBACK],
            "scope": "openid profile",
            "first_party": True,
        }
    )
    return endpoints_for("login", services)


def cookie(services: Components, *, signed_in: bool = False, csrf: str = CSRF) -> str:
    jar = [f"{services.flow.cookies.name('csrf')}={csrf}"]
    if signed_in:
        jar.append(f"{services.flow.cookies.name('session')}={SESSION_ID}")
    return "; ".join(jar)


def get(pages: Endpoints, endpoint: str, path: str, jar: str, query: str = "") -> HttpResponse:
    request = HttpRequest("GET", path, {"cookie": jar}, query, domain_name=DOMAIN)
    return pages[endpoint](request)


def post(pages: Endpoints, endpoint: str, path: str, jar: str, **fields: str) -> HttpResponse:
    return pages[endpoint](form_request(fields, path=path, headers={"cookie": jar}))


def options_in(html: str, attribute: str) -> dict[str, Any]:
    found = re.search(rf'{attribute}="([^"]+)"', html)
    assert found, f"no {attribute} in the page"
    options: dict[str, Any] = json.loads(unescape(found.group(1)))
    return options


def pending_handle(services: Components, clock: FixedClock, challenge: str) -> str:
    client = services.clients.get(APP)
    assert client is not None
    return services.sealer.seal(
        PendingAuthorization(
            request_id="req-" + challenge[:8],
            client_id=APP,
            redirect_uri=CALLBACK,
            scope="openid profile",
            state="st",
            nonce="n",
            code_challenge=challenge,
            prompt=(),
            max_age=None,
            login_hint=None,
            expires_at=clock.now() + 600,
            requested_at=clock.now(),
            client_registration=client.registration_id,
        )
    )


def signed_in(services: Components, user: User, clock: FixedClock, age: int = 0) -> None:
    """A session of `user` in the browser (SESSION_ID), signed in `age` seconds ago."""
    services.grants.put_session(
        Session(
            session_hash=token_hash(SESSION_ID),
            sub=user.sub,
            username=user.username,
            auth_time=clock.now() - age,
            expires_at=clock.now() + 3600,
            signed_in_ms=clock.now_ms() - age * 1000,
        )
    )


def add_on_the_account_page(
    pages: Endpoints, services: Components, key: SoftPasskey, **extra: str
) -> HttpResponse:
    jar = cookie(services, signed_in=True)
    page = get(pages, "account_page", "/account", jar)
    options = options_in(page.body, "data-passkey-create")
    handle = form_fields(page.body)["user_handle"]
    return post(
        pages, "account_passkeys", "/account/passkeys", jar, csrf_token=CSRF, action="add",
        user_handle=handle, name="Laptop", credential=key.create(options, origin=RP.origin),
        **extra,
    )  # fmt: skip


def test_the_sign_in_page_offers_passkeys_with_one_script_the_csp_names(
    pages: Endpoints, services: Components, clock: FixedClock
) -> None:
    _, challenge = pkce_pair()
    handle = pending_handle(services, clock, challenge)
    page = get(pages, "login_page", "/login", cookie(services), f"request_id={handle}")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert f"script-src {ISSUER}/passkeys.js;" in csp and "frame-ancestors 'none'" in csp
    assert 'autocomplete="username webauthn"' in page.body
    assert 'id="passkey-sign-in"' in page.body and " hidden>" in page.body  # shown by the script
    assert 'name="password"' in page.body  # the password works without the script
    digest = base64.b64encode(hashlib.sha256(passkey_script().encode()).digest()).decode()
    tag = re.search(r'<script src="(/passkeys\.js\?v=[0-9a-f]{16})" integrity="([^"]+)"', page.body)
    assert tag and tag.group(2) == f"sha256-{digest}"
    assert "<script>" not in page.body  # no inline script
    options = options_in(page.body, "data-passkey-get")
    assert options["rpId"] == "auth.example.com" and options["allowCredentials"] == []
    script = pages["passkey_script"](HttpRequest("GET", "/passkeys.js", {}, "", domain_name=DOMAIN))
    assert script.status_code == 200 and script.body == passkey_script()
    assert script.headers["Content-Type"].startswith("text/javascript")


def test_a_signed_out_user_signs_in_with_a_passkey_alone_and_the_id_token_says_how(
    pages: Endpoints, services: Components, clock: FixedClock, alice: User
) -> None:
    key = soft()
    registered(services.passkey_verifier, alice, key)
    verifier, challenge = pkce_pair()
    handle = pending_handle(services, clock, challenge)
    page = get(pages, "login_page", "/login", cookie(services), f"request_id={handle}")
    response = key.get(options_in(page.body, "data-passkey-get"), origin=RP.origin)
    answer_ = post(
        pages, "passkey_login", "/login/passkey", cookie(services), request_id=handle,
        csrf_token=CSRF, credential=response,
    )  # fmt: skip
    assert answer_.status_code == 303, answer_.body
    assert answer_.headers["Location"].startswith(CALLBACK)
    assert any("session=" in c for c in answer_.cookies)
    code = query_of(answer_.headers["Location"])["code"]
    client = services.clients.get(APP)
    assert client is not None
    tokens = redeem(services, client, CALLBACK, code, verifier)
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["sub"] == alice.sub
    assert claims["amr"] == ["hwk", "user", "mfa"]
    assert claims["acr"] == constants.ACR_PASSKEY


def test_k2_the_sign_in_pages_challenge_is_bound_to_the_browser_and_the_request(
    pages: Endpoints, services: Components, clock: FixedClock, alice: User
) -> None:
    key = soft(counts=False)
    registered(services.passkey_verifier, alice, key)
    handle = pending_handle(services, clock, pkce_pair()[1])
    other_request = pending_handle(services, clock, pkce_pair()[1])
    grants = services.grants
    assert isinstance(grants, MemoryGrantStore)
    before = (dict(grants.used_once), dict(grants.sessions), set(grants.completed_requests))
    page = get(pages, "login_page", "/login", cookie(services), f"request_id={handle}")
    after = (dict(grants.used_once), dict(grants.sessions), set(grants.completed_requests))
    assert after == before  # the page stored nothing (A14)
    response = key.get(options_in(page.body, "data-passkey-get"), origin=RP.origin)
    other_csrf = "d" * 43
    for jar, csrf, request_id in (
        (cookie(services, csrf=other_csrf), other_csrf, handle),  # another browser
        (cookie(services), CSRF, other_request),  # another authorization request
    ):
        refused = post(
            pages, "passkey_login", "/login/passkey", jar, request_id=request_id,
            csrf_token=csrf, credential=response,
        )  # fmt: skip
        assert refused.status_code == 200 and "could not sign you in" in refused.body
        assert not any("session=" in c for c in refused.cookies)
    ok = post(
        pages, "passkey_login", "/login/passkey", cookie(services), request_id=handle,
        csrf_token=CSRF, credential=response,
    )  # fmt: skip
    assert ok.status_code == 303


def test_k3_a_suspended_passkey_is_told_in_words(
    pages: Endpoints, services: Components, clock: FixedClock, alice: User
) -> None:
    key = soft()
    registered(services.passkey_verifier, alice, key)
    services.passkeys.record_use(key.id, 0, 50, False, clock.now())
    handle = pending_handle(services, clock, pkce_pair()[1])
    page = get(pages, "login_page", "/login", cookie(services), f"request_id={handle}")
    response = key.get(options_in(page.body, "data-passkey-get"), origin=RP.origin)
    refused = post(
        pages, "passkey_login", "/login/passkey", cookie(services), request_id=handle,
        csrf_token=CSRF, credential=response,
    )  # fmt: skip
    assert "its use counter went backwards" in refused.body
    stored = services.passkeys.get(key.id)
    assert stored is not None and stored.suspended_at


def test_k5_a_disabled_or_recreated_user_cannot_sign_in_with_an_old_passkey(
    pages: Endpoints, services: Components, clock: FixedClock, alice: User
) -> None:
    key = soft(counts=False)
    registered(services.passkey_verifier, alice, key)
    outcomes = []
    for change in ("disable", "recreate"):
        if change == "disable":
            services.user_directory.set_disabled("alice", True)
        else:
            services.user_directory.delete("alice")
            services.user_directory.create("alice", PASSWORD, {})
        handle = pending_handle(services, clock, pkce_pair()[1])
        page = get(pages, "login_page", "/login", cookie(services), f"request_id={handle}")
        response = key.get(options_in(page.body, "data-passkey-get"), origin=RP.origin)
        outcomes.append(
            post(
                pages,
                "passkey_login",
                "/login/passkey",
                cookie(services),
                request_id=handle,
                csrf_token=CSRF,
                credential=response,
            ).status_code
        )
    assert outcomes == [200, 200]  # the sign-in form again, with the refusal


def test_the_account_page_signs_in_with_a_passkey(
    pages: Endpoints, services: Components, alice: User
) -> None:
    key = soft(synced=True, counts=False)
    registered(services.passkey_verifier, alice, key)
    page = get(pages, "account_page", "/account", cookie(services))
    assert 'action="/account/passkey-login"' in page.body
    response = key.get(options_in(page.body, "data-passkey-get"), origin=RP.origin)
    answer_ = post(
        pages, "account_passkey_login", "/account/passkey-login", cookie(services),
        csrf_token=CSRF, credential=response,
    )  # fmt: skip
    assert answer_.headers["Location"] == "/account?done=signed_in"
    session_id = next(c for c in answer_.cookies if "session=" in c).split("=", 1)[1].split(";")[0]
    session = services.grants.get_session(token_hash(session_id))
    assert session is not None and session.amr == ("swk", "user", "mfa")
    refused = post(
        pages, "account_passkey_login", "/account/passkey-login", cookie(services),
        csrf_token=CSRF, credential=response,
    )  # fmt: skip
    assert refused.headers["Location"] == "/account?done=passkey_failed"


def test_a_user_adds_lists_and_removes_passkeys_on_the_account_page(
    pages: Endpoints, services: Components, clock: FixedClock, alice: User
) -> None:
    signed_in(services, alice, clock)
    key = soft()
    added = add_on_the_account_page(pages, services, key)
    assert added.headers["Location"] == "/account?done=passkey_added#passkeys"
    (kept,) = services.passkeys.of_user(alice.sub)
    assert kept.name == "Laptop" and kept.credential_id == key.id
    page = get(pages, "account_page", "/account", cookie(services, signed_in=True))
    assert "Laptop" in page.body and "Not used yet." in page.body
    assert options_in(page.body, "data-passkey-create")["excludeCredentials"][0]["id"] == key.id
    removed = post(
        pages, "account_passkeys", "/account/passkeys", cookie(services, signed_in=True),
        csrf_token=CSRF, action="remove", credential_id=key.id,
    )  # fmt: skip
    assert removed.headers["Location"] == "/account?done=passkey_removed#passkeys"
    assert services.passkeys.of_user(alice.sub) == []


def test_k5_adding_or_removing_a_passkey_needs_a_recent_sign_in_or_the_password(
    pages: Endpoints, services: Components, clock: FixedClock, alice: User
) -> None:
    signed_in(services, alice, clock, age=3600)
    page = get(pages, "account_page", "/account", cookie(services, signed_in=True))
    assert 'id="add_password"' in page.body
    refused = add_on_the_account_page(pages, services, soft(), current_password="wrong password")
    assert refused.headers["Location"] == "/account?done=passkey_password#passkeys"
    assert services.passkeys.of_user(alice.sub) == []
    added = add_on_the_account_page(pages, services, soft(), current_password=PASSWORD)
    assert added.headers["Location"] == "/account?done=passkey_added#passkeys"
    (kept,) = services.passkeys.of_user(alice.sub)
    jar = cookie(services, signed_in=True)
    for typed in ("", "wrong password"):
        post(
            pages, "account_passkeys", "/account/passkeys", jar, csrf_token=CSRF,
            action="remove", credential_id=kept.credential_id, current_password=typed,
        )  # fmt: skip
    assert services.passkeys.of_user(alice.sub) == [kept]
    post(
        pages, "account_passkeys", "/account/passkeys", jar, csrf_token=CSRF, action="remove",
        credential_id=kept.credential_id, current_password=PASSWORD,
    )  # fmt: skip
    assert services.passkeys.of_user(alice.sub) == []


def test_k5_a_user_cannot_remove_another_users_passkey(
    pages: Endpoints, services: Components, clock: FixedClock, alice: User, bob: User
) -> None:
    bobs = registered(services.passkey_verifier, bob, soft())
    signed_in(services, alice, clock)
    post(
        pages, "account_passkeys", "/account/passkeys", cookie(services, signed_in=True),
        csrf_token=CSRF, action="remove", credential_id=bobs.credential_id,
    )  # fmt: skip
    assert services.passkeys.get(bobs.credential_id) == bobs


def test_k2_a_registration_challenge_is_bound_to_the_session(
    pages: Endpoints, services: Components, clock: FixedClock, alice: User
) -> None:
    signed_in(services, alice, clock)
    jar = cookie(services, signed_in=True)
    page = get(pages, "account_page", "/account", jar)
    options = options_in(page.body, "data-passkey-create")
    handle = form_fields(page.body)["user_handle"]
    # A new sign-in in this browser (another session) before the passkey is made.
    services.grants.delete_session(token_hash(SESSION_ID))
    signed_in(services, alice, clock)
    services.grants.put_session(
        Session(token_hash("t" * 43), alice.sub, "alice", clock.now(), clock.now() + 3600,
                signed_in_ms=clock.now_ms())
    )  # fmt: skip
    names = services.flow.cookies
    other = f"{names.name('csrf')}={CSRF}; {names.name('session')}={'t' * 43}"
    refused = post(
        pages, "account_passkeys", "/account/passkeys", other, csrf_token=CSRF, action="add",
        user_handle=handle, name="x", credential=soft().create(options, origin=RP.origin),
    )  # fmt: skip
    assert refused.headers["Location"] == "/account?done=passkey_not_added#passkeys"
    assert services.passkeys.of_user(alice.sub) == []
