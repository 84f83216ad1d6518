"""Names shared by the handlers, the CDK stack, the local stack and oauthctl: one place to look."""

from __future__ import annotations

SERVICE_NAME = "oauth-server"
METRICS_NAMESPACE = "OAuthServer"

# Environment variables read by oauth_core.config (and set by infra/ and local/).
ENV_CLIENTS_TABLE = "CLIENTS_TABLE"
ENV_USERS_TABLE = "USERS_TABLE"
ENV_GRANTS_TABLE = "GRANTS_TABLE"
ENV_REGISTRY_TABLE = "REGISTRY_TABLE"
ENV_PASSKEYS_TABLE = "PASSKEYS_TABLE"
ENV_CLIENT_SECRET_PREFIX = "CLIENT_SECRET_PREFIX"
ENV_SIGNING_KEYS_SECRET = "SIGNING_KEYS_SECRET"
ENV_REQUEST_SEALING_SECRET = "REQUEST_SEALING_SECRET"
ENV_ISSUER = "OAUTH_ISSUER"
ENV_AUDIENCE = "OAUTH_AUDIENCE"
ENV_JWKS_URI = "OAUTH_JWKS_URI"
ENV_ACCESS_TOKEN_TTL = "ACCESS_TOKEN_TTL"
ENV_ACCESS_TOKEN_ALG = "ACCESS_TOKEN_ALG"
ENV_CODE_TTL = "CODE_TTL"
ENV_REFRESH_IDLE_TTL = "REFRESH_TOKEN_IDLE_TTL"
ENV_REFRESH_ABSOLUTE_TTL = "REFRESH_TOKEN_ABSOLUTE_TTL"
ENV_SECRET_CACHE_TTL = "SECRET_CACHE_TTL"
ENV_JWKS_CACHE_TTL = "JWKS_CACHE_TTL"
ENV_CLIENT_CACHE_TTL = "CLIENT_CACHE_TTL"
ENV_REGISTRY_CACHE_TTL = "REGISTRY_CACHE_TTL"
ENV_SECRET_ROTATION_GRACE = "SECRET_ROTATION_GRACE"
ENV_SESSION_TTL = "SESSION_TTL"
ENV_MAX_FAILURES = "MAX_FAILED_ATTEMPTS"
ENV_MAX_FAILURES_PER_IP = "MAX_FAILED_ATTEMPTS_PER_IP"
ENV_FAILURE_WINDOW = "FAILED_ATTEMPTS_WINDOW"
# The logout notifier function the login function invokes (infra/logout.py); unset: a thread.
ENV_LOGOUT_NOTIFIER_FUNCTION = "LOGOUT_NOTIFIER_FUNCTION"
# Second factors (oauth_core.endpoints.second_factor): their table, and the stack's policy.
ENV_FACTORS_TABLE = "FACTORS_TABLE"
ENV_REQUIRE_MFA = "REQUIRE_MFA"

# Default resource names: what the local stack creates and what oauthctl assumes without a stack.
DEFAULT_CLIENTS_TABLE = "oauth-clients"
DEFAULT_USERS_TABLE = "oauth-users"
DEFAULT_GRANTS_TABLE = "oauth-grants"
DEFAULT_REGISTRY_TABLE = "oauth-registry"
DEFAULT_FACTORS_TABLE = "oauth-factors"
DEFAULT_PASSKEYS_TABLE = "oauth-passkeys"
DEFAULT_CLIENT_SECRET_PREFIX = "oauth/clients/"
DEFAULT_SIGNING_KEYS_SECRET = "oauth/signing-keys"
DEFAULT_REQUEST_SEALING_SECRET = "oauth/request-sealing-key"

# Stack outputs that oauthctl --stack reads.
OUTPUT_ISSUER = "IssuerUrl"
OUTPUT_CLIENTS_TABLE = "ClientsTableName"
OUTPUT_USERS_TABLE = "UsersTableName"
OUTPUT_GRANTS_TABLE = "GrantsTableName"
OUTPUT_REGISTRY_TABLE = "RegistryTableName"
OUTPUT_FACTORS_TABLE = "FactorsTableName"
OUTPUT_PASSKEYS_TABLE = "PasskeysTableName"
OUTPUT_CLIENT_SECRET_PREFIX = "ClientSecretPrefix"
OUTPUT_SIGNING_KEYS_SECRET = "SigningKeysSecretName"
OUTPUT_LOGOUT_NOTIFIER_FUNCTION = "LogoutNotifierFunctionName"

# The shortest password accepted (oauth_core.admin.users; the pages say so too).
MIN_PASSWORD_LENGTH = 8
# The claim that carries a user's groups (an API may name another: oauth_core.catalog).
GROUPS_CLAIM = "groups"
# The sample protected API's scopes, and OpenID Connect's.
SCOPE_READ = "read:data"
SCOPE_WRITE = "write:data"
SCOPE_OPENID = "openid"
SCOPE_OFFLINE_ACCESS = "offline_access"
OIDC_SCOPES = ("openid", "profile", "email", "phone", "offline_access")

# Grant types and methods this server implements.
GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_REFRESH_TOKEN = "refresh_token"
SUPPORTED_GRANT_TYPES = (GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_REFRESH_TOKEN)

AUTH_METHOD_BASIC = "client_secret_basic"
AUTH_METHOD_POST = "client_secret_post"
AUTH_METHOD_NONE = "none"
# RFC 7523 / OIDC Core 9: a JWT signed with a key the client registered (jwks or jwks_uri).
AUTH_METHOD_PRIVATE_KEY_JWT = "private_key_jwt"
SUPPORTED_AUTH_METHODS = (
    AUTH_METHOD_BASIC,
    AUTH_METHOD_POST,
    AUTH_METHOD_PRIVATE_KEY_JWT,
    AUTH_METHOD_NONE,
)
# What a client may sign its assertions and DPoP proofs with: asymmetric only, never `none` or
# HMAC (a shared secret would have to be stored readable to check it).
CLIENT_SIGNING_ALGORITHMS = ("ES256", "PS256", "RS256")

# OpenID Connect Dynamic Registration's application_type: only a native app's loopback
# redirect URI may vary its port (RFC 8252 7.3, SECURITY A2).
APPLICATION_WEB = "web"
APPLICATION_NATIVE = "native"
APPLICATION_TYPES = (APPLICATION_WEB, APPLICATION_NATIVE)

ACCESS_TOKEN_TYPE = "at+jwt"
# The algorithms this server signs with and accepts: ES256 (the default for access tokens) and
# RS256 (what OpenID Connect clients assume for ID tokens). Never `none`, never HMAC.
SIGNING_ALGORITHMS = ("ES256", "RS256")
# The longest token any endpoint reads; anything longer is refused before it is parsed.
MAX_TOKEN_LENGTH = 8192
# Codes, refresh tokens, session ids and request ids: 32 random bytes, 256 bits.
OPAQUE_TOKEN_BYTES = 32
# The realm of the bundled resource server's `WWW-Authenticate: Bearer` challenges (RFC 6750 3).
BEARER_REALM = "oauth"
# The longest an access token may live, for any client (a day): what a revocation must outlast.
MAX_ACCESS_TOKEN_TTL = 86_400
# Revocation reaching APIs (SECURITY F7): how often a resource server re-reads the issuer's list
# of recent revocations, and how long the issuer's token function keeps the list it read.
REVOCATION_REFRESH_SECONDS = 20
REVOCATION_SERVER_CACHE_SECONDS = 5
ENV_REVOCATION_REFRESH = "REVOCATION_REFRESH_SECONDS"
ENV_REVOCATIONS_URI = "OAUTH_REVOCATIONS_URI"
REVOCATIONS_PATH = "/revocations"
# RFC 9728: the bundled API's metadata, `<issuer>/resource` with the well-known segment inserted.
PROTECTED_RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource/resource"
# Dynamic client registration (RFC 7591, 7592): off, or open (public clients, within a policy).
REGISTRATION_OFF = "off"
REGISTRATION_OPEN = "open"
# Only with an initial access token an operator handed out (RFC 7591 3: `oauthctl registration
# token`), each good for a number of registrations until it expires.
REGISTRATION_TOKEN = "token"
REGISTRATION_POLICIES = (REGISTRATION_OFF, REGISTRATION_OPEN, REGISTRATION_TOKEN)
REGISTRATION_PATH = "/register"
ENV_CLIENT_REGISTRATION = "CLIENT_REGISTRATION"
ENV_REGISTRATION_SCOPES = "REGISTRATION_SCOPES"
ENV_REGISTERED_CLIENT_TTL = "REGISTERED_CLIENT_TTL"
ENV_REGISTRATIONS_PER_SOURCE = "REGISTRATIONS_PER_SOURCE"
# Client ID metadata documents: a client_id that is an https URL names the client's own document.
ENV_CLIENT_ID_METADATA_DOCUMENTS = "CLIENT_ID_METADATA_DOCUMENTS"
ENV_REVOCATIONS_PER_CLIENT = "REVOCATIONS_PER_CLIENT"
# DPoP (RFC 9449 8): "on" makes every proof at the token endpoint carry the server's nonce.
ENV_DPOP_NONCES = "DPOP_NONCES"
# Pushed authorization requests (RFC 9126): where clients push them, the form of the request_uri
# they get back (2.2), how long it lives, and whether the stack takes no other (4, 5).
PUSHED_REQUEST_PATH = "/par"
PUSHED_REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PUSHED_REQUEST_TTL = 60
ENV_REQUIRE_PUSHED_REQUESTS = "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"
ENV_PUBLIC_PUSHES_PER_SOURCE = "PUBLIC_PUSHES_PER_SOURCE"
# Federation (docs/federation.md): other OpenID Connect providers users may sign in with. Each
# provider's client secret is a secret of its own under this prefix (only the login function
# reads them); the route the providers send users back to; the `amr` of such a sign-in
# (RFC 8176 "fed").
ENV_PROVIDER_SECRET_PREFIX = "PROVIDER_SECRET_PREFIX"
DEFAULT_PROVIDER_SECRET_PREFIX = "oauth/providers/"
OUTPUT_PROVIDER_SECRET_PREFIX = "ProviderSecretPrefix"
FEDERATED_CALLBACK_PATH = "/login/federated/callback"
AMR_FEDERATED = "fed"
# A sign-in this recent is re-authentication enough for the account page's weightier changes
# (adding or removing a passkey, linking a provider); older, the password is typed again.
REAUTHENTICATION_WINDOW = 600

# Authentication assurance (OIDC Core 2, RFC 8176): the `acr` values this server says and takes
# in `acr_values`, weakest first, and the `amr` values of what a user did.
ACR_PASSWORD = "urn:oauth-serverless:acr:pwd"
ACR_MFA = "urn:oauth-serverless:acr:mfa"
ACR_VALUES_SUPPORTED = (ACR_PASSWORD, ACR_MFA)
AMR_PASSWORD = "pwd"
AMR_OTP = "otp"
AMR_MFA = "mfa"
# The second-factor step and its companions (oauth_core.endpoints.second_factor).
SECOND_FACTOR_PATH = "/login/second-factor"
CONTINUE_PATH = "/login/continue"

# Passkeys (WebAuthn Level 3; oauth_core.rules.passkeys): the RP ID when it is not the issuer's
# host (a registrable suffix of it, e.g. example.com for auth.example.com).
ENV_PASSKEY_RP_ID = "OAUTH_PASSKEY_RP_ID"
# What a passkey sign-in records (RFC 8176): the key's kind (a synced, backup-eligible passkey is
# a software-secured key; a device-bound one a hardware-secured key), the user's presence, and,
# since the authenticator verified the user (PIN or biometric), two factors in one gesture.
AMR_HARDWARE_KEY = "hwk"
AMR_SOFTWARE_KEY = "swk"
AMR_USER_PRESENCE = "user"
AMR_MULTI_FACTOR = "mfa"
# The `acr` of a sign-in with a user-verified passkey: two factors, as a password and a code.
ACR_PASSKEY = ACR_MFA
# How long a passkey challenge may be answered (the browser's own timeout is the same).
PASSKEY_CHALLENGE_TTL = 300
# The most passkeys one user keeps.
MAX_PASSKEYS_PER_USER = 20
# Where the pages' one script is served (the only script any page loads).
PASSKEY_SCRIPT_PATH = "/passkeys.js"
# Recovery and verification by e-mail (oauth_core.endpoints.recovery, .email_verification,
# .sign_up): the sender (unset: the stack sends no e-mail, and none of these pages is offered),
# an SES configuration set, self sign-up on or off, the limits an hour, and how long an answer
# that may send an e-mail is held (so that it takes as long whether or not one was sent).
ENV_EMAIL_SENDER = "EMAIL_SENDER"
ENV_EMAIL_CONFIGURATION_SET = "EMAIL_CONFIGURATION_SET"
ENV_SELF_SIGN_UP = "SELF_SIGN_UP"
ENV_RECOVERIES_PER_SOURCE = "RECOVERIES_PER_SOURCE"
ENV_SIGN_UPS_PER_SOURCE = "SIGN_UPS_PER_SOURCE"
ENV_EMAILS_PER_ADDRESS = "EMAILS_PER_ADDRESS"
ENV_EMAIL_ANSWER_MS = "EMAIL_ANSWER_MS"
OUTPUT_EMAIL_SENDER = "EmailSender"
# How long each kind of link works: a reset briefly (it opens the account), a confirmation of
# an address for a day (mail can be slow, and it grants nothing by itself).
RESET_LINK_TTL = 15 * 60
VERIFY_LINK_TTL = 24 * 3600
SIGN_UP_LINK_TTL = 24 * 3600
# The pages.
FORGOT_PASSWORD_PATH = "/forgot-password"
RESET_PASSWORD_PATH = "/reset-password"
VERIFY_EMAIL_PATH = "/verify-email"
SIGN_UP_PATH = "/sign-up"
SIGN_UP_CONFIRM_PATH = "/sign-up/confirm"
ACCOUNT_EMAIL_PATH = "/account/email"
