"""Property tests (hypothesis) for the parsers and rules, and a stateful model of the code flow."""

from __future__ import annotations

import base64
import contextlib
import string
from typing import Any
from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.errors import InvalidClient, InvalidGrant, InvalidRequest, InvalidScope
from oauth_core.grants import GrantContext
from oauth_core.http.forms import MAX_FIELDS, query_pairs
from oauth_core.keys import KeySet
from oauth_core.models import Client, PendingAuthorization, Session
from oauth_core.rules import pkce, redirect_uri, scope
from oauth_core.rules.client_auth import presented_credentials
from oauth_core.storage.memory import MemoryGrantStore
from oauth_core.wiring import memory_components
from tests.support import basic, form_request, grant, pkce_pair, query_of

UNRESERVED = string.ascii_letters + string.digits + "-._~"
REGISTERED = ("https://app.example.com/cb", "https://app.example.com/cb?x=1", "com.example.app:/cb")


@given(st.text(max_size=60) | st.sampled_from(REGISTERED))
def test_redirect_uri_matches_iff_equal_to_a_registered_one(candidate: str) -> None:
    assert (redirect_uri.find_registered(candidate, REGISTERED) is not None) == (
        candidate in REGISTERED
    )


@given(st.text(alphabet=UNRESERVED, min_size=43, max_size=128) | st.text(min_size=0, max_size=140))
def test_verifier_accepted_exactly_on_rfc7636_alphabet_and_length(verifier: str) -> None:
    expected = 43 <= len(verifier) <= 128 and all(c in UNRESERVED for c in verifier)
    assert pkce.is_valid_verifier(verifier) == expected
    if expected:
        pkce.verify(verifier, pkce.challenge_of(verifier))


@given(st.text(min_size=0, max_size=60))
def test_challenge_accepted_exactly_when_43_base64url(challenge: str) -> None:
    alphabet = string.ascii_letters + string.digits + "-_"
    expected = len(challenge) == 43 and all(c in alphabet for c in challenge)
    try:
        pkce.validate_challenge(challenge, "S256")
        accepted = True
    except Exception:
        accepted = False
    assert accepted == expected


@given(
    st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    st.text(min_size=0, max_size=40),
)
def test_basic_credentials_round_trip_any_unicode(client_id: str, secret: str) -> None:
    presented = presented_credentials(basic(client_id, secret), {})
    assert (presented.client_id, presented.client_secret) == (client_id, secret)


scope_tokens = st.text(alphabet=string.ascii_lowercase + ":_", min_size=1, max_size=8)


FORM_ALPHABET = "ab=&+%20%C3%A9%FF%ZZ xé;"


@given(st.text(alphabet=FORM_ALPHABET, max_size=40) | st.text(max_size=40))
def test_query_pairs_read_forms_exactly_as_urllib_does(raw: str) -> None:
    """The hand-written form parser of the hot path agrees with parse_qsl (blank values kept,
    strict UTF-8, at most MAX_FIELDS fields): the same pairs, or a refusal where it fails."""
    try:
        expected: list[tuple[str, str]] | None = parse_qsl(
            raw, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS
        )
    except (ValueError, UnicodeDecodeError):
        expected = None
    try:
        got: list[tuple[str, str]] | None = query_pairs(raw)
    except InvalidRequest:
        got = None
    assert got == expected


def test_query_pairs_refuse_too_many_fields() -> None:
    assert len(query_pairs("&".join(["a=1"] * MAX_FIELDS))) == MAX_FIELDS
    with contextlib.suppress(InvalidRequest):
        query_pairs("&".join(["a=1"] * (MAX_FIELDS + 1)))
        raise AssertionError("more than MAX_FIELDS fields were read")


@given(st.frozensets(scope_tokens, max_size=6), st.lists(scope_tokens, max_size=6))
def test_narrowed_scope_is_always_within_the_granted(
    granted: frozenset[str], asked: list[str]
) -> None:
    try:
        result = scope.narrow(" ".join(asked) or None, granted)
    except InvalidScope:
        assert not set(asked) <= granted
        return
    assert result <= granted
    assert result == (set(asked) or granted)


KEYS = KeySet.initial(0)
CLIENT = Client(
    client_id="app",
    redirect_uris=("https://app.example.com/cb",),
    grant_types=("authorization_code", "refresh_token"),
    token_endpoint_auth_method="none",
    scope="openid read:data write:data",
    first_party=True,
)


class CodeFlowModel(RuleBasedStateMachine):
    """authorize -> token -> refresh -> replay, in any order: at most one live refresh token
    per family, and a replayed token never yields tokens."""

    codes = Bundle("codes")
    refresh_tokens = Bundle("refresh_tokens")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock()
        self.services = memory_components(
            Settings(issuer="https://issuer.example"), clock=self.clock, keys=KEYS
        )
        self.services.clients.put(CLIENT)
        assert isinstance(self.services.grants, MemoryGrantStore)
        self.store: MemoryGrantStore = self.services.grants
        self.context = GrantContext("https://issuer.example", form_request({}))

    @rule(target=codes)
    def authorize(self) -> tuple[str, str]:
        verifier, challenge = pkce_pair()
        now = self.clock.now()
        pending = PendingAuthorization(
            "r",
            "app",
            CLIENT.redirect_uris[0],
            "read:data write:data",
            None,
            None,
            challenge,
            (),
            None,
            None,
            now + 600,
        )
        session = Session("s", "user", "user", now, now + 3600)
        response = self.services.flow.redirect_with_code(form_request({}), pending, session)
        return query_of(response.headers["Location"])["code"], verifier

    @rule(target=refresh_tokens, code=codes)
    def redeem(self, code: tuple[str, str]) -> str:
        form = {"code": code[0], "code_verifier": code[1], "redirect_uri": CLIENT.redirect_uris[0]}
        try:
            body = grant(self.services, "authorization_code").issue(CLIENT, form, self.context)
        except InvalidGrant:
            return "spent-code"
        return str(body["refresh_token"])

    @rule(target=refresh_tokens, token=refresh_tokens, narrow=st.booleans())
    def refresh(self, token: str, narrow: bool) -> str:
        form: dict[str, Any] = {"refresh_token": token}
        if narrow:
            form["scope"] = "read:data"
        try:
            body = grant(self.services, "refresh_token").issue(CLIENT, form, self.context)
        except InvalidGrant:
            return token
        assert set(body["scope"].split()) <= {"read:data", "write:data"}
        return str(body["refresh_token"])

    @rule(seconds=st.integers(min_value=0, max_value=120))
    def wait(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @invariant()
    def at_most_one_live_refresh_token_per_family(self) -> None:
        live: dict[str, int] = {}
        for token in self.store.refresh_tokens.values():
            family = self.store.families[token.family_id]
            if not token.used and not family.revoked:
                live[token.family_id] = live.get(token.family_id, 0) + 1
        assert all(count <= 1 for count in live.values()), live


TestCodeFlowModel = CodeFlowModel.TestCase
TestCodeFlowModel.settings = settings(max_examples=40, stateful_step_count=12, deadline=None)


@given(st.binary(max_size=64))
def test_basic_header_garbage_never_crashes(raw: bytes) -> None:
    header = "Basic " + base64.b64encode(raw).decode()
    # Garbage is refused with an OAuth error, never anything else.
    with contextlib.suppress(InvalidClient, InvalidRequest):
        presented_credentials(header, {})
