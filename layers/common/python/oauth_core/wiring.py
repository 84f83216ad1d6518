"""The one wiring module: which stores, rules and endpoints each function is built from.

Nothing in the core imports it; the functions' handler modules do (`serve`), and so do the
local stack, oauthctl's admin services, the tests and the benchmark. A function builds only
what its routes use, on its first request: the resource function imports neither boto3 nor the
signing code nor the HTML pages.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from random import seed as reseed_random
from typing import TYPE_CHECKING, TypeVar

from oauth_core import constants
from oauth_core.clock import Clock, Random, SystemClock, SystemRandom
from oauth_core.config import Settings
from oauth_core.http.dispatch import Endpoints, FunctionHandler

if TYPE_CHECKING:  # built on demand: a function loads only what it serves
    from oauth_core.admin.access import UserAccess
    from oauth_core.admin.account_emails import AccountEmails
    from oauth_core.admin.backchannel_logout import BackchannelNotifier, LogoutNotices
    from oauth_core.admin.catalog import ApiAdmin, AttributeAdmin, ScopeAdmin
    from oauth_core.admin.providers import IdentityLinks, ProviderAdmin
    from oauth_core.admin.registry import ClientRegistry
    from oauth_core.admin.users import UserDirectory
    from oauth_core.endpoints.authorization_request import AuthorizationRequests
    from oauth_core.endpoints.email_links import EmailLinkPages
    from oauth_core.endpoints.federation import FederatedSignIn
    from oauth_core.endpoints.flow import AuthorizationFlow
    from oauth_core.endpoints.login import LoginPages
    from oauth_core.endpoints.second_factor import SecondFactorStep
    from oauth_core.endpoints.sign_up import SignUpPages
    from oauth_core.endpoints.signin import PasswordSignIn
    from oauth_core.grants import Grant
    from oauth_core.http.outbound import SafeFetcher
    from oauth_core.keys import KeySet
    from oauth_core.ports import (
        CatalogSource,
        CatalogStore,
        ClientSecretStore,
        ClientStore,
        EmailLinkStore,
        FactorStore,
        GrantStore,
        IdentityLinkStore,
        KeyStore,
        LogoutDispatch,
        Mailer,
        PasskeyStore,
        ProviderSecretStore,
        RateLimiter,
        UserEmailIndex,
        UserStore,
    )
    from oauth_core.rules.client_auth import ClientAuthenticator, ThrottledAuthenticator
    from oauth_core.rules.email_limits import EmailLimits
    from oauth_core.rules.passkeys import PasskeyVerifier
    from oauth_core.rules.throttle import FailureThrottle
    from oauth_core.tokens.bearer import JwksCache
    from oauth_core.tokens.dpop import ProofChecker, UseOnce
    from oauth_core.tokens.issuer import TokenIssuer
    from oauth_core.tokens.revocation_list import RevocationList
    from oauth_core.tokens.sealed_requests import RequestSealer, SealingSecrets
    from oauth_core.tokens.upstream import UpstreamProviders


@dataclass
class Components:
    """The stores of one container, and what is built on them, each built once, when first
    used."""

    settings: Settings
    clients: ClientStore
    secrets: ClientSecretStore
    keys: KeyStore  # signs: cached for the secret cache's lifetime
    published_keys: KeyStore  # JWKS, and verifying our own tokens: re-read sooner
    grants: GrantStore
    users: UserStore
    rate_limiter: RateLimiter
    sealing_secrets: SealingSecrets
    catalog_store: CatalogStore  # declared scopes, APIs and attributes, as operators change them
    catalog: CatalogSource  # the catalog requests read: cached per container on AWS
    # Federation: our client secrets at upstream providers, and identities linked to users.
    provider_secrets: ProviderSecretStore
    links: IdentityLinkStore
    factors: FactorStore  # users' second factors: the login function's only
    passkeys: PasskeyStore  # users' passkeys (WebAuthn credentials)
    clock: Clock = field(default_factory=SystemClock)
    random: Random = field(default_factory=SystemRandom)
    # Recovery and verification by e-mail, when the stack has a sender: what sends (None: SES,
    # its client made on the first message), where the links are kept (None: the grants
    # table), and how users are found by their verified address (None: the users table's
    # by-email index).
    mailer: Mailer | None = None
    email_links: EmailLinkStore | None = None
    email_index: UserEmailIndex | None = None

    @cached_property
    def authenticator(self) -> ClientAuthenticator:
        from oauth_core.rules.client_assertion import AssertionVerifier
        from oauth_core.rules.client_auth import ClientAuthenticator
        from oauth_core.rules.client_keys import ClientKeySource

        # private_key_jwt: keys inline or fetched from a jwks_uri (the fetcher is made on the
        # first fetch), each assertion's jti used once in the grants table.
        client_keys = ClientKeySource(lambda url: self.key_fetcher.fetch_json(url), self.clock)
        assertions = AssertionVerifier(client_keys, self.grants, self.clock)
        return ClientAuthenticator(self.clients, self.secrets, assertions)

    @cached_property
    def key_fetcher(self) -> SafeFetcher:
        """What fetches a client's jwks_uri (https and public addresses only, but loopback on
        the local stack)."""
        from oauth_core.http.outbound import SafeFetcher
        from oauth_core.rules.client_keys import JWKS_CONTENT_TYPES, MAX_JWKS_BYTES

        return SafeFetcher(
            allow_loopback=self.settings.is_local,
            max_bytes=MAX_JWKS_BYTES,
            content_types=JWKS_CONTENT_TYPES,
        )

    @cached_property
    def throttle(self) -> FailureThrottle:
        from oauth_core.rules.throttle import FailureThrottle

        return FailureThrottle(self.rate_limiter, self.settings, self.clock)

    @cached_property
    def client_auth(self) -> ThrottledAuthenticator:
        from oauth_core.rules.client_auth import ThrottledAuthenticator

        return ThrottledAuthenticator(self.authenticator, self.throttle, self.settings)

    @cached_property
    def sealer(self) -> RequestSealer:
        from oauth_core.tokens.sealed_requests import RequestSealer

        return RequestSealer(self.sealing_secrets, self.clock)

    @cached_property
    def passkey_verifier(self) -> PasskeyVerifier:
        """Passkey ceremonies: options for the pages, and verifying answers (also what a
        second-factor step calls)."""
        from oauth_core.rules.passkey_challenges import PasskeyChallenges
        from oauth_core.rules.passkeys import PasskeyVerifier

        challenges = PasskeyChallenges(
            self.sealing_secrets, self.clock, self.random, constants.PASSKEY_CHALLENGE_TTL
        )
        return PasskeyVerifier(
            self.passkeys, challenges, self.grants.use_once, self.clock, self.random
        )

    @cached_property
    def token_issuer(self) -> TokenIssuer:
        from oauth_core.tokens.issuer import TokenIssuer

        return TokenIssuer(self.settings, self.keys, self.catalog, self.clock, self.random)

    @cached_property
    def flow(self) -> AuthorizationFlow:
        from oauth_core.endpoints.flow import AuthorizationFlow

        return AuthorizationFlow(
            self.settings, self.grants, self.sealer, self.catalog, self.clock, self.random
        )

    @cached_property
    def authorization_requests(self) -> AuthorizationRequests:
        from oauth_core.endpoints.authorization_request import AuthorizationRequests

        return AuthorizationRequests(
            self.clients, self.catalog, self.settings, self.clock, self.random
        )

    @cached_property
    def grant_types(self) -> list[Grant]:
        from oauth_core.grants.authorization_code import AuthorizationCodeGrant
        from oauth_core.grants.client_credentials import ClientCredentialsGrant
        from oauth_core.grants.refresh_token import RefreshTokenGrant

        issuer = self.token_issuer
        return [
            AuthorizationCodeGrant(self.grants, issuer, self.settings, self.clock),
            RefreshTokenGrant(self.grants, issuer, self.settings, self.clock),
            ClientCredentialsGrant(issuer),
        ]

    @cached_property
    def dpop(self) -> ProofChecker:
        from oauth_core.tokens.dpop import Nonces, ProofChecker

        nonces = None
        if self.settings.dpop_nonces == "on":
            keys = self.keys
            nonces = Nonces(self.clock, lambda: keys.load().derived_secrets("dpop-nonce"))
        return ProofChecker(self.clock, self.grants.use_once, nonces)

    @cached_property
    def registry(self) -> ClientRegistry:
        from oauth_core.admin.registry import ClientRegistry

        return ClientRegistry(self.clients, self.secrets, self.catalog, self.clock, self.random)

    @cached_property
    def user_access(self) -> UserAccess:
        from oauth_core.admin.access import UserAccess

        return UserAccess(self.grants, self.clock)

    @cached_property
    def scope_admin(self) -> ScopeAdmin:
        from oauth_core.admin.catalog import ScopeAdmin

        return ScopeAdmin(self.catalog_store, self.clients, self.clock)

    @cached_property
    def api_admin(self) -> ApiAdmin:
        from oauth_core.admin.catalog import ApiAdmin

        return ApiAdmin(self.catalog_store, self.clock)

    @cached_property
    def attribute_admin(self) -> AttributeAdmin:
        from oauth_core.admin.catalog import AttributeAdmin

        return AttributeAdmin(self.catalog_store, self.clock)

    @cached_property
    def user_directory(self) -> UserDirectory:
        from oauth_core.admin.users import UserDirectory

        return UserDirectory(self.users, self.clock, self.grants, self.catalog)

    @cached_property
    def provider_admin(self) -> ProviderAdmin:
        from oauth_core.admin.providers import ProviderAdmin

        return ProviderAdmin(self.catalog_store, self.provider_secrets, self.clock)

    @cached_property
    def identity_links(self) -> IdentityLinks:
        from oauth_core.admin.providers import IdentityLinks

        return IdentityLinks(self.links, self.users, self.user_directory, self.clock)

    @cached_property
    def upstream(self) -> UpstreamProviders:
        """What upstream providers publish, fetched under the outbound rules (https and public
        addresses, but loopback on the local stack) and kept per container."""
        from oauth_core.http.outbound import SafeFetcher
        from oauth_core.tokens import upstream

        fetcher = SafeFetcher(
            allow_loopback=self.settings.is_local,
            timeout=upstream.TIMEOUT_SECONDS,
            max_bytes=upstream.MAX_DOCUMENT_BYTES,
            content_types=upstream.CONTENT_TYPES,
        )
        return upstream.UpstreamProviders(fetcher.fetch_json, fetcher.post_form_json, self.clock)

    @cached_property
    def email_limits(self) -> EmailLimits:
        from oauth_core.rules.email_limits import EmailLimits

        return EmailLimits(self.rate_limiter, self.settings, self.clock)

    @cached_property
    def account_emails(self) -> AccountEmails | None:
        """Links mailed to users (a reset, an address to confirm, a sign-up to finish); None
        when the stack sends no e-mail. Nothing of SES is loaded until a message is sent."""
        if not self.settings.email_sender:
            return None
        from oauth_core.admin.account_emails import AccountEmails

        mailer, links, index = self.mailer, self.email_links, self.email_index
        if mailer is None:
            from oauth_core.storage.ses import SesMailer

            mailer = SesMailer(self.settings.email_sender, self.settings.email_configuration_set)
        if links is None:
            from oauth_core.storage.dynamodb_email_links import DynamoEmailLinkStore

            links = DynamoEmailLinkStore(self.settings.grants_table)
        if index is None:
            from oauth_core.storage.dynamodb import DynamoUserStore

            index = DynamoUserStore(self.settings.users_table)
        return AccountEmails(
            self.users,
            index,
            self.user_directory,
            links,
            mailer,
            self.email_limits,
            self.clock,
            self.random,
        )

    @cached_property
    def logout_notifier(self) -> BackchannelNotifier:
        """Signs and sends back-channel logout tokens (the logout notifier function's work)."""
        return logout_notifier_of(self.settings, self.clients, self.keys, self.clock, self.random)

    @cached_property
    def logout_dispatch(self) -> LogoutDispatch:
        """Where ended sessions go: the notifier function, asynchronously; without one (the
        local stack, the tests) the same notifier on a thread."""
        if self.settings.logout_notifier_function:
            from oauth_core.storage.logout_dispatch import LambdaLogoutDispatch

            return LambdaLogoutDispatch(self.settings.logout_notifier_function)
        from oauth_core.admin.backchannel_logout import ThreadedLogoutDispatch

        return ThreadedLogoutDispatch(self.logout_notifier)

    @cached_property
    def logout_notices(self) -> LogoutNotices:
        from oauth_core.admin.backchannel_logout import LogoutNotices

        return LogoutNotices(self.clients, self.logout_dispatch)


def logout_notifier_of(
    settings: Settings, clients: ClientStore, keys: KeyStore, clock: Clock, random: Random
) -> BackchannelNotifier:
    from oauth_core.admin.backchannel_logout import LOGOUT_POST_TIMEOUT, BackchannelNotifier
    from oauth_core.http.outbound import SafeFetcher

    # Loopback only where the stack is local development (SECURITY L4, as A17).
    fetcher = SafeFetcher(allow_loopback=settings.is_local, timeout=LOGOUT_POST_TIMEOUT)
    return BackchannelNotifier(clients, keys, fetcher, clock, random)


# --- each function's endpoints, by the names the route table gives them ---------------------


def authorize_endpoints(c: Components) -> Endpoints:
    from oauth_core.endpoints.authorize import AuthorizationEndpoint

    endpoint = AuthorizationEndpoint(
        c.flow, c.authorization_requests, c.grants, c.settings, c.clock
    )
    return {"authorize": endpoint.handle}


def login_endpoints(c: Components, jwks: JwksCache | None = None) -> Endpoints:
    """`jwks`: where ID token hints are checked (by default the issuer's published JWKS, read
    over HTTP as an app reads it: the login function holds no signing key)."""
    from oauth_core.admin.access import UserAccess
    from oauth_core.endpoints.account import AccountPages
    from oauth_core.endpoints.end_session import EndSessionEndpoint
    from oauth_core.endpoints.login import LoginPages
    from oauth_core.endpoints.passkey_factor import PasskeyFactor
    from oauth_core.endpoints.passkey_offer import PasskeyOffer
    from oauth_core.endpoints.passkeys import PasskeyAccount, PasskeySignIn
    from oauth_core.endpoints.second_factor import SecondFactorStep
    from oauth_core.endpoints.signin import PasswordSignIn

    sign_in = PasswordSignIn(
        c.flow, c.users, c.grants, c.throttle, c.user_directory, c.settings, c.clock, c.random
    )
    second_factor = SecondFactorStep(
        c.flow,
        sign_in,
        c.clients,
        c.users,
        c.grants,
        c.factors,
        c.throttle,
        c.sealer,
        c.settings,
        c.clock,
        c.random,
        passkeys=PasskeyFactor(c.flow, c.passkey_verifier, c.passkeys, c.settings),
    )
    passkey_sign_in = PasskeySignIn(
        c.flow, c.passkey_verifier, c.users, c.throttle, sign_in, c.settings
    )
    passkey_account = PasskeyAccount(
        c.flow, passkey_sign_in, c.passkey_verifier, c.passkeys, sign_in, c.users, c.clock
    )
    passkey_offer = PasskeyOffer(
        c.flow, c.passkey_verifier, c.passkeys, c.clients, c.users, c.sealer, c.settings,
        c.clock, c.random,
    )  # fmt: skip
    pages = LoginPages(
        c.flow,
        sign_in,
        c.clients,
        c.grants,
        c.sealer,
        c.random,
        c.settings,
        second_factor=second_factor,
        passkeys=passkey_sign_in,
        passkey_offer=passkey_offer,
    )
    federation = _federation(c, pages, sign_in, second_factor)

    # The e-mail pages, and what mails their links, are made when one of them is first asked
    # for: a container that serves only sign-ins loads none of it.
    def email_link_pages() -> EmailLinkPages:
        from oauth_core.endpoints.email_links import AnswerPace, EmailLinkPages

        pace = AnswerPace(c.clock, c.settings.email_answer_ms)
        return EmailLinkPages(c.flow, c.account_emails, c.email_limits, c.settings, pace, c.random)

    def sign_up_pages() -> SignUpPages:
        from oauth_core.endpoints.email_links import AnswerPace
        from oauth_core.endpoints.sign_up import SignUpPages

        pace = AnswerPace(c.clock, c.settings.email_answer_ms)
        return SignUpPages(
            c.flow, c.account_emails, c.email_limits, c.settings, pace, c.random, c.throttle
        )

    links, sign_up = _made_once(email_link_pages), _made_once(sign_up_pages)
    account = AccountPages(
        c.flow,
        sign_in,
        UserAccess(c.grants, c.clock),
        c.user_directory,
        c.clients,
        c.users,
        c.grants,
        c.sealer,
        c.clock,
        c.random,
        c.logout_notices,
        # Only a stack with providers declared builds (and imports) federation for the page.
        lambda session, csrf, user: (
            federation().account_section(session, csrf, user)
            if c.flow.catalog().providers
            else ("", ())
        ),
        second_factor,
        passkey_sign_in,
        passkey_account,
        (lambda: c.account_emails) if c.settings.sends_email else None,
    )
    end_session = EndSessionEndpoint(c.flow, c.clients, c.grants, c.logout_notices, c.random, jwks)
    return {
        "account_page": account.account_page,
        "account": account.act,
        "account_login": account.login,
        "account_password": account.password,
        "login_page": pages.login_page,
        "login": pages.login,
        "consent_page": pages.consent_page,
        "consent": pages.consent,
        "logout_page": end_session.get,
        "logout": end_session.post,
        "password": pages.password,
        "federated_start": lambda request: federation().start(request),
        "federated_callback": lambda request: federation().callback(request),
        "federated_account": lambda request: federation().account_action(request),
        "second_factor_page": second_factor.page,
        "second_factor": second_factor.submit,
        "continue": second_factor.go_on,
        "passkey_login": pages.passkey_login,
        "passkey_offer": passkey_offer.answer,
        "account_passkey_login": passkey_sign_in.account_login,
        "account_passkeys": passkey_account.manage,
        "passkey_script": passkey_sign_in.serve_script,
        "account_email": account.email,
        "forgot_password_page": lambda request: links().forgot_page(request),
        "forgot_password": lambda request: links().forgot(request),
        "reset_password_page": lambda request: links().reset_page(request),
        "reset_password": lambda request: links().reset(request),
        "verify_email_page": lambda request: links().verify_page(request),
        "verify_email": lambda request: links().verify(request),
        "sign_up_page": lambda request: sign_up().sign_up_page(request),
        "sign_up": lambda request: sign_up().sign_up(request),
        "sign_up_confirm_page": lambda request: sign_up().confirm_page(request),
        "sign_up_confirm": lambda request: sign_up().confirm(request),
    }


T = TypeVar("T")


def _made_once(make: Callable[[], T]) -> Callable[[], T]:
    """`make`'s result, made on the first call and kept."""
    made: list[T] = []

    def get() -> T:
        if not made:
            made.append(make())
        return made[0]

    return get


def _federation(
    c: Components, pages: LoginPages, sign_in: PasswordSignIn, second_factor: SecondFactorStep
) -> Callable[[], FederatedSignIn]:
    """Federation's endpoints, built (and their modules imported) on the first request that
    uses them: a login function whose stack declares no provider never loads them."""

    def federation() -> FederatedSignIn:
        from oauth_core.endpoints.federation import FederatedSignIn
        from oauth_core.tokens.federation_state import AttemptSealer

        return FederatedSignIn(
            c.flow,
            pages,
            sign_in,
            c.upstream,
            c.identity_links,
            c.provider_secrets,
            AttemptSealer(c.sealing_secrets, c.clock),
            c.grants,
            c.users,
            c.settings,
            c.clock,
            c.random,
            second_factor,
        )

    return _made_once(federation)


def token_endpoints(c: Components) -> Endpoints:
    from oauth_core.endpoints.discovery import DiscoveryEndpoints
    from oauth_core.endpoints.introspect import IntrospectionEndpoint
    from oauth_core.endpoints.par import PushedAuthorizationEndpoint
    from oauth_core.endpoints.revocations import RevocationsEndpoint
    from oauth_core.endpoints.revoke import RevocationEndpoint
    from oauth_core.endpoints.token import TokenEndpoint

    token = TokenEndpoint(c.grant_types, c.client_auth, c.settings, c.dpop)
    revoke = RevocationEndpoint(
        c.client_auth, c.grants, c.published_keys, c.settings, c.rate_limiter, c.clock
    )
    introspect = IntrospectionEndpoint(
        c.client_auth, c.clients, c.grants, c.published_keys, c.settings, c.clock, c.catalog
    )
    discovery = DiscoveryEndpoints(c.settings, c.published_keys, token.grants, c.catalog)
    # Kept no longer than resource servers wait between reads: the bound is at most twice it.
    keep = min(constants.REVOCATION_SERVER_CACHE_SECONDS, c.settings.revocation_refresh)
    revocations = RevocationsEndpoint(c.grants, c.clock, keep)
    pushed = PushedAuthorizationEndpoint(
        c.client_auth,
        c.authorization_requests,
        c.grants,
        c.rate_limiter,
        c.settings,
        c.clock,
        c.random,
        c.dpop,
    )
    return {
        "revocations": revocations.handle,
        "token": token.handle,
        "revoke": revoke.handle,
        "introspect": introspect.handle,
        "par": pushed.handle,
        "metadata": discovery.metadata,
        "openid_configuration": discovery.openid_configuration,
        "jwks": discovery.jwks,
    }


def resource_endpoints(
    settings: Settings,
    jwks: JwksCache | None = None,
    revocations: RevocationList | None = None,
    use_once: UseOnce | None = None,
    clock: Clock | None = None,
) -> Endpoints:
    """The sample API needs the issuer's published keys and revocations (over HTTP, unless
    stand-ins are given), and a store only for DPoP proofs: made on the first proof, so a
    container that sees none never loads boto3."""
    from oauth_core.endpoints.resource import ResourceServer
    from oauth_core.tokens.dpop import ProofChecker, SenderConstraint

    clock = clock or SystemClock()
    if use_once is None:
        use_once = _lazy_use_once(settings, clock)
    constraint = SenderConstraint(ProofChecker(clock, use_once))
    server = ResourceServer.from_settings(settings, constraint, jwks, revocations)
    return {
        "read": server.read,
        "write": server.write,
        "userinfo": server.userinfo,
        "metadata": server.metadata,
    }


def _lazy_use_once(settings: Settings, clock: Clock) -> UseOnce:
    """The grants table's single-use records, connected on first use."""
    store: list[GrantStore] = []

    def use_once(key: str, expires_at: int) -> bool:
        if not store:
            from oauth_core.storage.dynamodb_grants import DynamoGrantStore

            store.append(DynamoGrantStore(settings.grants_table, clock=clock))
        return store[0].use_once(key, expires_at)

    return use_once


def endpoints_for(function: str, c: Components) -> Endpoints:
    """A function's endpoints on these components (the resource function's, and the login
    function's ID token hints, on their key set read directly: the stand-in of the tests and
    the benchmark)."""
    if function == "login":
        from oauth_core.tokens.bearer import JwksCache

        return login_endpoints(c, JwksCache(lambda uri: c.published_keys.load().public_jwks()))
    if function == "resource":
        from oauth_core.tokens.bearer import JwksCache
        from oauth_core.tokens.revocation_list import RevocationList

        keys, grants, clock = c.published_keys, c.grants, c.clock
        return resource_endpoints(
            c.settings,
            JwksCache(lambda uri: keys.load().public_jwks()),
            RevocationList(
                lambda uri: {"revoked": sorted(grants.recent_revocations(clock.now()))},
                c.settings.revocation_refresh,
            ),
            grants.use_once,
            clock,
        )
    return BUILDERS[function](c)


def register_endpoints(c: Components) -> Endpoints:
    from oauth_core.endpoints.registration import RegistrationEndpoint

    endpoint = RegistrationEndpoint(
        c.clients, c.catalog, c.rate_limiter, c.grants, c.settings, c.clock, c.random
    )
    return {
        "register": endpoint.register,
        "read": endpoint.read,
        "update": endpoint.update,
        "delete": endpoint.delete,
    }


BUILDERS: dict[str, Callable[[Components], Endpoints]] = {
    "authorize": authorize_endpoints,
    "login": login_endpoints,
    "token": token_endpoints,
    "register": register_endpoints,
}


def logout_notifier() -> Callable[..., dict[str, int]]:
    """The logout notifier function's handler (functions/logout_notifier): not behind the API;
    the login function invokes it asynchronously with ended sessions. Built on its first
    event: it reads the clients table and the signing keys, nothing else."""
    built: list[BackchannelNotifier] = []

    def handler(event: dict[str, object], context: object = None) -> dict[str, int]:
        if not built:
            from oauth_core.storage.cache import CachedClientStore, CachedKeyStore
            from oauth_core.storage.dynamodb import DynamoClientStore
            from oauth_core.storage.secrets_manager import SecretsManagerKeyStore

            settings = Settings.from_env()
            clients = CachedClientStore(
                DynamoClientStore(settings.clients_table), settings.client_cache_ttl
            )
            keys = CachedKeyStore(
                SecretsManagerKeyStore(settings.signing_keys_secret), settings.secret_cache_ttl
            )
            built.append(logout_notifier_of(settings, clients, keys, SystemClock(), SystemRandom()))
        return built[0](event, context)

    return handler


def serve(function: str) -> FunctionHandler:
    """A function's Lambda handler. Each container (each import of the handler module) builds
    its own endpoints and caches on its first request; under SnapStart, before the snapshot."""
    if function == "resource":
        handler = FunctionHandler(function, lambda: resource_endpoints(Settings.from_env()))
    else:
        handler = FunctionHandler(function, lambda: BUILDERS[function](aws_components()))
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == SNAP_START:
        from snapshot_restore_py import register_after_restore, register_before_snapshot

        register_before_snapshot(before_snapshot, handler)
        register_after_restore(after_restore, handler)
    return handler


# --- SnapStart (deploy option `-c snap_start=true`; docs/performance.md) ---------------------
# A snapshot is restored into many containers, so it must hold nothing that is secret, random or
# bound to a time: no key, secret, client record, token id, bucket or cache entry. It holds
# imported code and AWS SDK clients, the costly part of a cold start. (Under SnapStart, Lambda
# hands the SDK container credentials, which botocore refreshes before they expire.)

SNAP_START = "snap-start"


def before_snapshot(handler: FunctionHandler) -> None:
    """Build the function's endpoints once: every module they use is imported, every SDK client
    they use is created. Nothing is read from AWS and nothing random is drawn."""
    handler.endpoints  # noqa: B018 - built for its imports and clients


def after_restore(handler: FunctionHandler) -> None:
    """Every restored container draws its own: endpoints, caches and buckets are built again
    on its first request (the SDK clients are kept), and `random` is reseeded from the OS."""
    handler.reset()
    reseed_random()


def memory_components(
    settings: Settings | None = None, *, clock: Clock | None = None, keys: KeySet | None = None
) -> Components:
    """Components on the in-memory stores: the unit tests' and the benchmark's stand-in."""
    from oauth_core.keys import KeySet
    from oauth_core.storage.memory import (
        MemoryCatalogStore,
        MemoryClientStore,
        MemoryFactorStore,
        MemoryGrantStore,
        MemoryIdentityLinkStore,
        MemoryKeyStore,
        MemoryProviderSecrets,
        MemoryRateLimiter,
        MemorySecretStore,
        MemoryUserStore,
    )
    from oauth_core.storage.memory_email import MemoryEmailLinkStore, MemoryMailer
    from oauth_core.storage.memory_passkeys import MemoryPasskeyStore
    from oauth_core.tokens.sealed_requests import StaticSealingSecrets

    settings = settings or Settings()
    clock = clock or SystemClock()
    key_store = MemoryKeyStore(keys or KeySet.initial(clock.now()))
    catalog_store = MemoryCatalogStore()
    users = MemoryUserStore()
    return Components(
        settings=settings,
        clients=with_client_documents(MemoryClientStore(), settings, clock),
        secrets=MemorySecretStore(settings.secret_rotation_grace, clock),
        keys=key_store,
        published_keys=key_store,
        grants=MemoryGrantStore(clock),
        users=users,
        rate_limiter=MemoryRateLimiter(),
        sealing_secrets=StaticSealingSecrets(),
        catalog_store=catalog_store,
        catalog=catalog_store,
        provider_secrets=MemoryProviderSecrets(),
        links=MemoryIdentityLinkStore(),
        factors=MemoryFactorStore(),
        passkeys=MemoryPasskeyStore(),
        clock=clock,
        random=SystemRandom(),
        mailer=MemoryMailer(),
        email_links=MemoryEmailLinkStore(),
        email_index=users,
    )


def with_client_documents(clients: ClientStore, settings: Settings, clock: Clock) -> ClientStore:
    """The registered clients, and (when the stack allows them) clients named by the URL of
    their metadata document."""
    if not settings.uses_client_documents:
        return clients
    from oauth_core.admin.client_documents import DocumentClients
    from oauth_core.http.outbound import SafeFetcher

    fetcher = SafeFetcher(allow_loopback=settings.is_local)
    return DocumentClients(clients, fetcher, settings.registration_scopes, clock)


def aws_components(settings: Settings | None = None, *, cached: bool = True) -> Components:
    """Components backed by DynamoDB and Secrets Manager, with per-container caches."""
    from oauth_core.storage.cache import (
        CachedCatalog,
        CachedClientStore,
        CachedKeyStore,
        CachedProviderSecrets,
        CachedSecretStore,
    )
    from oauth_core.storage.dynamodb import DynamoClientStore, DynamoUserStore
    from oauth_core.storage.dynamodb_factors import DynamoFactorStore
    from oauth_core.storage.dynamodb_grants import DynamoGrantStore, DynamoRateLimiter
    from oauth_core.storage.dynamodb_links import DynamoIdentityLinkStore
    from oauth_core.storage.dynamodb_passkeys import DynamoPasskeyStore
    from oauth_core.storage.dynamodb_registry import DynamoCatalogStore
    from oauth_core.storage.sealing_secrets import SecretsManagerSealingSecrets
    from oauth_core.storage.secrets_manager import (
        SecretsManagerKeyStore,
        SecretsManagerProviderSecrets,
        SecretsManagerSecretStore,
    )

    settings = settings or Settings.from_env()
    clock = SystemClock()
    clients: ClientStore = DynamoClientStore(settings.clients_table)
    secrets: ClientSecretStore = SecretsManagerSecretStore(
        settings.client_secret_prefix, settings.secret_rotation_grace, clock
    )
    keys: KeyStore = SecretsManagerKeyStore(settings.signing_keys_secret)
    published_keys = keys
    catalog_store = DynamoCatalogStore(settings.registry_table)
    catalog: CatalogSource = catalog_store
    provider_secrets: ProviderSecretStore = SecretsManagerProviderSecrets(
        settings.provider_secret_prefix, clock
    )
    if cached:
        provider_secrets = CachedProviderSecrets(provider_secrets, settings.secret_cache_ttl)
        catalog = CachedCatalog(catalog_store, settings.registry_cache_ttl)
        clients = CachedClientStore(clients, settings.client_cache_ttl)
        secrets = CachedSecretStore(secrets, settings.secret_cache_ttl)
        published_keys = CachedKeyStore(keys, settings.jwks_cache_ttl)
        keys = CachedKeyStore(keys, settings.secret_cache_ttl)
    clients = with_client_documents(clients, settings, clock)
    users = DynamoUserStore(settings.users_table)
    return Components(
        settings,
        clients,
        secrets,
        keys,
        published_keys,
        grants=DynamoGrantStore(settings.grants_table, clock=clock),
        users=users,
        rate_limiter=DynamoRateLimiter(settings.grants_table),
        sealing_secrets=SecretsManagerSealingSecrets(
            settings.request_sealing_secret, settings.secret_cache_ttl
        ),
        catalog_store=catalog_store,
        catalog=catalog,
        provider_secrets=provider_secrets,
        links=DynamoIdentityLinkStore(settings.grants_table),
        factors=DynamoFactorStore(settings.factors_table),
        passkeys=DynamoPasskeyStore(settings.passkeys_table),
        clock=clock,
        email_index=users,  # its by-email index (the sender and the links: made when used)
    )
