"""The route table: the one source of truth for API Gateway (infra/) and the local gateway."""

from __future__ import annotations

from dataclasses import dataclass

from oauth_core.constants import (
    ACCOUNT_EMAIL_PATH,
    CONTINUE_PATH,
    FEDERATED_CALLBACK_PATH,
    FORGOT_PASSWORD_PATH,
    PASSKEY_SCRIPT_PATH,
    PROTECTED_RESOURCE_METADATA_PATH,
    PUSHED_REQUEST_PATH,
    REGISTRATION_PATH,
    RESET_PASSWORD_PATH,
    SECOND_FACTOR_PATH,
    SIGN_UP_CONFIRM_PATH,
    SIGN_UP_PATH,
    VERIFY_EMAIL_PATH,
)


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: its code directory, handler module, and how its errors are answered
    (oauth_core.http.answers: "json", "page" or "bearer")."""

    name: str
    code_dir: str  # relative to the repository root
    module: str
    medium: str = "json"

    @property
    def handler(self) -> str:
        return f"{self.module}.lambda_handler"


@dataclass(frozen=True)
class Route:
    method: str  # an HTTP method, or ANY
    path: str
    function: str
    endpoint: str  # the function's operation that answers it (oauth_core.wiring)
    # Called by browser apps with their own credentials (fetch): CORS allowed. Never for the
    # authorization endpoint or the pages, which browsers navigate to (SECURITY A13).
    cors: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.path == path and self.method in ("ANY", method.upper())


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("authorize", "functions/authorize", "authorize_handler", "page"),
        FunctionSpec("login", "functions/login", "login_handler", "page"),
        FunctionSpec("token", "functions/token", "token_handler", "json"),
        FunctionSpec("resource", "functions/resource", "resource_handler", "bearer"),
        FunctionSpec("register", "functions/register", "register_handler", "json"),
    )
}

# Not behind the API: Secrets Manager invokes it to rotate the signing keys.
KEY_ROTATION_FUNCTION = FunctionSpec("rotate_keys", "functions/rotate_keys", "rotate_keys_handler")
# Not behind the API: CloudWatch Logs invokes it with the functions' audit records.
AUDIT_FORWARDER_FUNCTION = FunctionSpec(
    "audit_forwarder", "functions/audit_forwarder", "audit_forwarder_handler"
)
# Not behind the API: the login function invokes it (asynchronously) with ended sessions.
LOGOUT_NOTIFIER_FUNCTION = FunctionSpec(
    "logout_notifier", "functions/logout_notifier", "logout_notifier_handler"
)

# The endpoint that answers a CORS preflight: the dispatch path itself (oauth_core.http.cors).
PREFLIGHT = "preflight"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/authorize", "authorize", "authorize"),
    Route("GET", "/login", "login", "login_page"),
    Route("POST", "/login", "login", "login"),
    Route("POST", "/login/password", "login", "password"),
    Route("GET", SECOND_FACTOR_PATH, "login", "second_factor_page"),
    Route("POST", SECOND_FACTOR_PATH, "login", "second_factor"),
    Route("POST", CONTINUE_PATH, "login", "continue"),
    Route("GET", "/consent", "login", "consent_page"),
    Route("POST", "/consent", "login", "consent"),
    Route("GET", "/logout", "login", "logout_page"),
    Route("POST", "/logout", "login", "logout"),
    Route("GET", "/account", "login", "account_page"),
    Route("POST", "/account", "login", "account"),
    Route("POST", "/account/login", "login", "account_login"),
    Route("POST", "/account/password", "login", "account_password"),
    # Federation: signing in with another OpenID Connect provider (docs/federation.md).
    Route("GET", "/login/federated", "login", "federated_start"),
    Route("GET", FEDERATED_CALLBACK_PATH, "login", "federated_callback"),
    Route("POST", "/account/federated", "login", "federated_account"),
    # Passkeys (WebAuthn): signing in with one, adding and removing them, and the pages' script.
    Route("POST", "/login/passkey", "login", "passkey_login"),
    Route("POST", "/login/passkey-offer", "login", "passkey_offer"),
    Route("POST", "/account/passkey-login", "login", "account_passkey_login"),
    Route("POST", "/account/passkeys", "login", "account_passkeys"),
    Route("GET", PASSKEY_SCRIPT_PATH, "login", "passkey_script"),
    # Recovery and verification by e-mail, and self sign-up (answered "not offered" on a stack
    # that sends no e-mail, or has sign-up off).
    Route("POST", ACCOUNT_EMAIL_PATH, "login", "account_email"),
    Route("GET", FORGOT_PASSWORD_PATH, "login", "forgot_password_page"),
    Route("POST", FORGOT_PASSWORD_PATH, "login", "forgot_password"),
    Route("GET", RESET_PASSWORD_PATH, "login", "reset_password_page"),
    Route("POST", RESET_PASSWORD_PATH, "login", "reset_password"),
    Route("GET", VERIFY_EMAIL_PATH, "login", "verify_email_page"),
    Route("POST", VERIFY_EMAIL_PATH, "login", "verify_email"),
    Route("GET", SIGN_UP_PATH, "login", "sign_up_page"),
    Route("POST", SIGN_UP_PATH, "login", "sign_up"),
    Route("GET", SIGN_UP_CONFIRM_PATH, "login", "sign_up_confirm_page"),
    Route("POST", SIGN_UP_CONFIRM_PATH, "login", "sign_up_confirm"),
    # ANY: a GET or PUT must reach the function to be answered invalid_request (RFC 6749 3.2),
    # not API Gateway's bare 404; an OPTIONS preflight reaches it too.
    Route("ANY", "/token", "token", "token", cors=True),
    Route("ANY", "/revoke", "token", "revoke", cors=True),
    Route("ANY", "/introspect", "token", "introspect", cors=True),
    Route("ANY", PUSHED_REQUEST_PATH, "token", "par", cors=True),
    Route("GET", "/.well-known/oauth-authorization-server", "token", "metadata", cors=True),
    Route("GET", "/.well-known/openid-configuration", "token", "openid_configuration", cors=True),
    Route("GET", "/.well-known/jwks.json", "token", "jwks", cors=True),
    Route("GET", "/revocations", "token", "revocations"),
    Route("POST", REGISTRATION_PATH, "register", "register", cors=True),
    Route("GET", REGISTRATION_PATH, "register", "read", cors=True),
    Route("PUT", REGISTRATION_PATH, "register", "update", cors=True),
    Route("DELETE", REGISTRATION_PATH, "register", "delete", cors=True),
    Route("OPTIONS", REGISTRATION_PATH, "register", PREFLIGHT, cors=True),
    Route("GET", "/userinfo", "resource", "userinfo", cors=True),
    Route("GET", "/resource", "resource", "read", cors=True),
    Route("POST", "/resource", "resource", "write", cors=True),
    Route("GET", PROTECTED_RESOURCE_METADATA_PATH, "resource", "metadata", cors=True),
    # Preflights for the CORS paths whose routes take named methods (the API has no CORS
    # configuration of its own: it would answer preflights on every route).
    Route("OPTIONS", "/.well-known/oauth-authorization-server", "token", PREFLIGHT, cors=True),
    Route("OPTIONS", "/.well-known/openid-configuration", "token", PREFLIGHT, cors=True),
    Route("OPTIONS", "/.well-known/jwks.json", "token", PREFLIGHT, cors=True),
    Route("OPTIONS", "/userinfo", "resource", PREFLIGHT, cors=True),
    Route("OPTIONS", "/resource", "resource", PREFLIGHT, cors=True),
    Route("OPTIONS", PROTECTED_RESOURCE_METADATA_PATH, "resource", PREFLIGHT, cors=True),
)


def routes_of(function: str) -> tuple[Route, ...]:
    return tuple(route for route in ROUTES if route.function == function)


@dataclass(frozen=True)
class CorsPolicy:
    """CORS as the functions answer it, on the routes marked `cors`: browser apps on any origin
    may call the token, revocation, introspection, discovery and resource endpoints. No cookies
    cross origins (allow_credentials is false), so a wildcard origin grants nothing a script
    could not already do with its own credentials."""

    allow_origins: tuple[str, ...] = ("*",)
    # PUT and DELETE: a registration's management (RFC 7592); MCP-Protocol-Version: what MCP
    # clients in browsers send on every request, discovery included.
    allow_methods: tuple[str, ...] = ("GET", "POST", "PUT", "DELETE", "OPTIONS")
    # DPoP: a browser app's proofs (RFC 9449), and the nonces the server hands back.
    allow_headers: tuple[str, ...] = (
        "authorization",
        "content-type",
        "dpop",
        "mcp-protocol-version",
    )
    expose_headers: tuple[str, ...] = ("www-authenticate", "retry-after", "dpop-nonce")
    max_age_seconds: int = 600


CORS = CorsPolicy()


def find_route(method: str, path: str) -> Route | None:
    return next((route for route in ROUTES if route.matches(method, path)), None)


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
