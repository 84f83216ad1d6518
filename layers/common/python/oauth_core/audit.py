"""The audit trail: every security event as one JSON line of a versioned schema
(docs/operate.md, "Audit trail"), never with a secret.

    {"audit": {"v": 1, "event": "signin.failure", "time": "2026-11-29T18:18:00.123Z",
               "outcome": "failure", "client_id": "web", "source": "198.51.100.7",
               "request_id": "Wi6i5gKhoAMES-A=", "detail": {"reason": "bad_password"}}}

Every event is declared in EVENTS with its outcome and the only detail fields it may carry, as
metrics are in oauth_core.metrics: an undeclared event or field raises UndeclaredAuditField,
so no call site can add a password, a secret, a code, a token or a cookie without changing this
module (and tests/unit/test_audit.py, which refuses names that look like one). Absent fields
are left out, not null.

Where a record goes: a function prints it (its own log group; infra/audit.py forwards the
records to the audit log group); `OAUTH_AUDIT_FILE` names a file to append them to instead (the
local stack's). A token issued writes no line of its own: its record rides in the TokenIssued
metric record (observability.count), which states its time and grant type already, so the
forwarder completes it from there (`from_log_line`). A client-credentials token's record has no
request id either: the bytes of every token are paid for (docs/performance.md), and the access
log's line for the same request carries it.

The request a record belongs to (API Gateway's request id, and the caller's source: an IPv4
address, or the /64 of an IPv6 one, as the guessing limits count it) is set once per request
by the dispatch (`begin`), so the rules that detect an event need not be handed the request.
"""

from __future__ import annotations

import base64
import contextvars
import functools
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from oauth_core.observability import count, metrics_on
from oauth_core.rate_limit import source_of

SCHEMA_VERSION = 1
ENV_AUDIT_FILE = "OAUTH_AUDIT_FILE"
# The deployed stack: the bus the forwarder puts records on (with `audit_event_bus`), the source
# its events carry, and the stack outputs that name the audit log group and the bus (oauthctl).
ENV_AUDIT_EVENT_BUS = "OAUTH_AUDIT_EVENT_BUS"
AUDIT_EVENT_SOURCE = "oauth-server.audit"
OUTPUT_AUDIT_LOG_GROUP = "AuditLogGroupName"
OUTPUT_AUDIT_EVENT_BUS = "AuditEventBusName"
SUCCESS = "success"
FAILURE = "failure"
# The top-level fields of a record, in the order they are written.
FIELDS = (
    "v",
    "event",
    "time",
    "outcome",
    "actor",
    "client_id",
    "sub",
    "username",
    "source",
    "request_id",
    "detail",
)
# A value longer than this is cut: the fields are identifiers and short words.
MAX_VALUE_LENGTH = 256
MAX_LIST_LENGTH = 50


@dataclass(frozen=True)
class AuditEvent:
    outcome: str
    detail: frozenset[str]
    description: str


def _event(outcome: str, description: str, *detail: str) -> AuditEvent:
    return AuditEvent(outcome, frozenset(detail), description)


SIGNIN_SUCCESS = "signin.success"
SIGNIN_FAILURE = "signin.failure"
SIGNIN_LOCKOUT = "signin.lockout"
CONSENT_GIVEN = "consent.given"
CONSENT_DENIED = "consent.denied"
CONSENT_WITHDRAWN = "consent.withdrawn"
PASSWORD_CHANGED = "password.changed"
SESSIONS_ENDED = "sessions.ended"
TOKEN_ISSUED_EVENT = "token.issued"
TOKEN_REVOKED = "token.revoked"
REFRESH_TOKEN_REUSED = "refresh_token.reused"
AUTHORIZATION_CODE_REPLAYED = "authorization_code.replayed"
CLIENT_AUTH_FAILURE = "client_auth.failure"
CLIENT_AUTH_LOCKOUT = "client_auth.lockout"
INTROSPECTION_REFUSED = "introspection.refused"
ADMIN_CHANGE = "admin.change"
FEDERATION_LINKED = "federation.linked"
FEDERATION_UNLINKED = "federation.unlinked"
FEDERATION_REFUSED = "federation.refused"
SECOND_FACTOR_SUCCESS = "second_factor.success"
SECOND_FACTOR_FAILURE = "second_factor.failure"
SECOND_FACTOR_LOCKOUT = "second_factor.lockout"
MFA_ENROLLED = "mfa.enrolled"
MFA_REMOVED = "mfa.removed"
RECOVERY_CODES_REPLACED = "mfa.recovery_codes_replaced"
PASSKEY_ADDED = "passkey.added"
PASSKEY_REMOVED = "passkey.removed"
PASSKEY_REFUSED = "passkey.refused"
PASSKEY_SUSPENDED = "passkey.suspended"
EMAIL_LINK_SENT = "email.link_sent"
EMAIL_VERIFIED = "email.verified"
EMAIL_CHANGED = "email.changed"
USER_SIGNED_UP = "user.signed_up"

# Event name -> its outcome, the detail fields it may carry, and what it records.
EVENTS: dict[str, AuditEvent] = {
    SIGNIN_SUCCESS: _event(SUCCESS, "A user signed in (the sign-in page)."),
    SIGNIN_FAILURE: _event(
        FAILURE,
        "A sign-in was refused: reason unknown_user (no username recorded: it may be a "
        "mistyped password), bad_password or user_disabled.",
        "reason",
    ),
    SIGNIN_LOCKOUT: _event(
        FAILURE,
        "Sign-in failures filled a bucket: bucket subject (this username from this source; "
        "username recorded) or source (every username from it); retry_after in seconds.",
        "bucket",
        "retry_after",
    ),
    CONSENT_GIVEN: _event(SUCCESS, "A user allowed a client the scopes in detail.scope.", "scope"),
    CONSENT_DENIED: _event(FAILURE, "A user denied a client's request for detail.scope.", "scope"),
    CONSENT_WITHDRAWN: _event(
        SUCCESS,
        "A user removed an app's access on the account page: its consent withdrawn and its "
        "grants revoked (grants: how many); the app must ask again.",
        "grants",
    ),
    PASSWORD_CHANGED: _event(
        SUCCESS,
        "A user changed their password: by sign-in (a temporary one replaced), account (the "
        "account page, the current one given) or reset (a link mailed to their verified "
        "address). Every earlier sign-in and grant ends.",
        "by",
    ),
    EMAIL_LINK_SENT: _event(
        SUCCESS,
        "A link was mailed: purpose reset (to an account's verified address), verify (to a "
        "new address, to confirm it) or signup (to finish a self sign-up; no sub yet). Never "
        "the link or the address.",
        "purpose",
    ),
    EMAIL_VERIFIED: _event(
        SUCCESS, "A user followed the link mailed to their new address: it is verified now."
    ),
    EMAIL_CHANGED: _event(
        SUCCESS,
        "A user gave a new e-mail address on the account page (by account): unverified until "
        "its link is followed; the old verified address is told.",
        "by",
    ),
    USER_SIGNED_UP: _event(
        SUCCESS, "A self sign-up was finished by its e-mail link: the account exists now."
    ),
    SESSIONS_ENDED: _event(
        SUCCESS,
        "A user signed out everywhere on the account page (sessions: how many ended).",
        "sessions",
    ),
    TOKEN_ISSUED_EVENT: _event(
        SUCCESS,
        "The token endpoint issued tokens: grant_type, the granted scope and, for a user's "
        "grant, its grant_id (a refresh token's family).",
        "grant_type",
        "scope",
        "grant_id",
    ),
    TOKEN_REVOKED: _event(
        SUCCESS,
        "A client revoked one of its tokens (RFC 7009): token_type access_token or "
        "refresh_token (then the whole grant, grant_id).",
        "token_type",
        "grant_id",
    ),
    REFRESH_TOKEN_REUSED: _event(
        FAILURE,
        "A used refresh token was presented again: its grant (grant_id) is revoked.",
        "grant_id",
    ),
    AUTHORIZATION_CODE_REPLAYED: _event(
        FAILURE,
        "An authorization code was presented again: the grant it created (grant_id) is revoked.",
        "grant_id",
    ),
    CLIENT_AUTH_FAILURE: _event(
        FAILURE,
        "Client authentication failed at /token, /revoke or /introspect: reason unknown_client, "
        "bad_secret, wrong_method or client_disabled; for a private_key_jwt assertion also "
        "bad_assertion (its header or claims), wrong_audience, assertion_expired (expired, not "
        "valid yet, or valid too long), unknown_key, bad_signature, keys_unavailable (its "
        "jwks_uri could not be fetched) or assertion_replayed; method as presented. A request "
        "that named no client readably is not recorded.",
        "reason",
        "method",
    ),
    CLIENT_AUTH_LOCKOUT: _event(
        FAILURE,
        "Failed client secrets (or refused assertions) filled a bucket: bucket subject (this "
        "client from this source) or source; retry_after in seconds.",
        "bucket",
        "retry_after",
    ),
    INTROSPECTION_REFUSED: _event(
        FAILURE,
        "Introspection refused: reason public_client, or foreign_token (another client's "
        "valid token, asked by a client that is no resource server; answered active: false).",
        "reason",
    ),
    FEDERATION_LINKED: _event(
        SUCCESS,
        "An upstream provider's identity was linked to a user: provider (its name), by jit (the "
        "sign-in made the account), account (the user, signed in, on the account page) or "
        "operator (oauthctl providers link).",
        "provider",
        "by",
    ),
    FEDERATION_UNLINKED: _event(
        SUCCESS,
        "A link to an upstream provider's identity was removed: provider, by account or operator.",
        "provider",
        "by",
    ),
    FEDERATION_REFUSED: _event(
        FAILURE,
        "A sign-in (or a link) with an upstream provider was refused: provider, and reason: "
        "state_mismatch, upstream_error, issuer_missing, issuer_mismatch, token_request_failed, "
        "token_request_refused, no_id_token, bad_id_token, bad_signature, unknown_key, "
        "wrong_audience, id_token_expired, nonce_mismatch, sign_in_too_old, replayed, "
        "email_domain_not_allowed, not_linked, linked_to_another_user, user_disabled, "
        "session_changed, provider_unavailable, bad_metadata, bad_keys or no_client_secret.",
        "provider",
        "reason",
    ),
    SECOND_FACTOR_SUCCESS: _event(
        SUCCESS,
        "A user gave their second factor: method totp, recovery_code (then remaining: how "
        "many recovery codes are left) or passkey; step_up true when it raised a session "
        "signed in with a password alone.",
        "method",
        "remaining",
        "step_up",
    ),
    SECOND_FACTOR_FAILURE: _event(
        FAILURE,
        "A second factor was refused: reason bad_code (no current code nor an unused recovery "
        "code) or replayed (a TOTP code of a time step already used); for a passkey, the "
        "reason a passkey.refused would say (wrong_user: another user's passkey).",
        "reason",
    ),
    SECOND_FACTOR_LOCKOUT: _event(
        FAILURE,
        "Second-factor failures filled a bucket: bucket subject (this user, sub recorded, from "
        "this source) or source; retry_after in seconds.",
        "bucket",
        "retry_after",
    ),
    MFA_ENROLLED: _event(
        SUCCESS,
        "A user set up an authenticator app (method totp) and got recovery codes: on the "
        "account page, or at sign-in (by signin) when a second factor was required.",
        "method",
        "by",
    ),
    MFA_REMOVED: _event(
        SUCCESS,
        "A user turned their second factors off on the account page (by account, with a code "
        "or their password); an operator's oauthctl users mfa reset is an admin.change.",
        "by",
    ),
    RECOVERY_CODES_REPLACED: _event(
        SUCCESS, "A user replaced their recovery codes on the account page (a code given)."
    ),
    ADMIN_CHANGE: _event(
        SUCCESS,
        "An operator changed the stack with oauthctl: command (group and command), target (the "
        "client id, username, scope name or key set changed) and options (the names of the "
        "options given, never their values) as actor.",
        "command",
        "target",
        "options",
    ),
    PASSKEY_ADDED: _event(
        SUCCESS,
        "A user added a passkey: by account (the account page) or sign-in (offered after a "
        "password sign-in); synced: whether it is backup eligible (a passkey kept by a "
        "password manager or platform account).",
        "synced",
        "by",
    ),
    PASSKEY_REMOVED: _event(
        SUCCESS,
        "A user removed one of their passkeys on the account page; an operator's oauthctl "
        "users passkeys remove is an admin.change.",
    ),
    PASSKEY_REFUSED: _event(
        FAILURE,
        "A passkey was refused: at sign-in (client_id when for an app) or when added (sub, "
        "username). reason: malformed, challenge (not ours, expired, or for another browser, "
        "request or ceremony), unknown_credential, wrong_user, suspended, bad_assertion or "
        "bad_attestation (origin, RP ID, user verification or signature), replayed, "
        "counter_regression, counter_raced, unknown_user, user_disabled, "
        "password_change_required (signed in by the passkey, told to replace their temporary "
        "password first), too_many or already_registered.",
        "reason",
    ),
    PASSKEY_SUSPENDED: _event(
        FAILURE,
        "A passkey's signature counter went backwards (a copied authenticator?): it is refused "
        "from now on, until its owner removes it.",
    ),
}


class UndeclaredAuditField(ValueError):
    """An event or a detail field that EVENTS does not declare: a bug at the call site."""


# --- the request a record belongs to ---

_request: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar(
    "audit_request", default=("", "")
)


def begin(request_id: str, source_ip: str) -> None:
    """The request this thread serves now (the dispatch calls it once per request)."""
    _request.set((request_id, source_ip))


def current_source() -> str:
    """The source of the request being served: an address, or an IPv6 address's /64."""
    address = _request.get()[1]
    return source_of(address) if address else ""


# --- building a record ---


def iso_time(epoch_ms: int) -> str:
    seconds, ms = divmod(int(epoch_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def _value(value: Any) -> Any:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(str(v)[:MAX_VALUE_LENGTH] for v in value)
        return items[:MAX_LIST_LENGTH]
    return str(value)[:MAX_VALUE_LENGTH]


def record(
    event: str,
    *,
    client_id: str | None = None,
    sub: str | None = None,
    username: str | None = None,
    actor: str | None = None,
    source: str | None = None,
    request_id: str | None = None,
    epoch_ms: int | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """The `audit` object of one event. Source and request id default to the request being
    served; the time to now. Detail fields must be declared for the event (None: left out)."""
    declared = EVENTS.get(event)
    if declared is None:
        raise UndeclaredAuditField(f"audit event {event!r} is not declared in oauth_core.audit")
    extra = detail.keys() - declared.detail
    if extra:
        raise UndeclaredAuditField(f"audit event {event!r} takes no detail {sorted(extra)}")
    current_id, address = _request.get()
    if source is None and address:
        source = source_of(address)
    fields: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "event": event,
        "time": iso_time(epoch_ms if epoch_ms is not None else time.time_ns() // 1_000_000),
        "outcome": declared.outcome,
        "actor": actor,
        "client_id": client_id,
        "sub": sub,
        "username": username,
        "source": source,
        "request_id": request_id if request_id is not None else current_id,
    }
    audit = {name: _value(value) for name, value in fields.items() if value not in (None, "")}
    details = {name: _value(value) for name, value in sorted(detail.items()) if value is not None}
    if details:
        audit["detail"] = details
    return audit


def line(audit: dict[str, Any]) -> str:
    return json.dumps({"audit": audit}, separators=(",", ":"), ensure_ascii=False)


# --- where records go ---


class _Sink:
    """Standard output (a function's log group), or the file OAUTH_AUDIT_FILE names (the local
    stack's): read once, on the first record."""

    def __init__(self) -> None:
        self._resolved = False
        self._path: str | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> str | None:
        if not self._resolved:
            self._path = os.environ.get(ENV_AUDIT_FILE) or None
            self._resolved = True
        return self._path

    def reset(self) -> None:
        """Read OAUTH_AUDIT_FILE again at the next record (tests, the local stack)."""
        self._resolved = False

    def write(self, text: str) -> None:
        path = self.path
        if path is None:
            sys.stdout.write(text + "\n")
            return
        # One write per line on a file opened for appending: whole lines, also when oauthctl
        # appends its own records to the same file.
        with self._lock, open(path, "a", encoding="utf-8") as out:
            out.write(text + "\n")


sink = _Sink()


def emit(event: str, **fields: Any) -> None:
    """Write one audit record (fields as `record` takes them)."""
    sink.write(line(record(event, **fields)))


def token_issued(
    grant_type: str,
    client_id: str,
    scope: str,
    *,
    sub: str | None = None,
    grant_id: str | None = None,
) -> None:
    """Count TokenIssued and audit token.issued, in one line where the metric is written (the
    record then states neither its time nor its grant type: the metric record does)."""
    if not metrics_on() or sink.path is not None:
        count("TokenIssued", grant_type=grant_type)
        emit(
            TOKEN_ISSUED_EVENT,
            client_id=client_id,
            sub=sub,
            grant_type=grant_type,
            scope=scope,
            grant_id=grant_id,
        )
        return
    request_id, address = _request.get()
    if grant_id is None:
        # A client's own token (client credentials), the hot path: the parts that depend on
        # the client and scope alone are built once.
        key = (client_id, scope)
        parts = _fused_parts.get(key)
        if parts is None:
            parts = _fused(client_id, scope)
            if len(_fused_parts) < _MAX_FUSED:
                _fused_parts[key] = parts
        source = _source_field(address) if address else ""
        extra = f"{parts[0]}{source}{parts[1]}"
    else:
        audit = {"v": SCHEMA_VERSION, "event": TOKEN_ISSUED_EVENT, "client_id": client_id}
        if sub:
            audit["sub"] = sub
        if address:
            audit["source"] = source_of(address)
        if request_id:
            audit["request_id"] = request_id
        audit["detail"] = {"grant_id": grant_id, "scope": scope}
        extra = ',"audit":' + _compact(audit)
    count("TokenIssued", grant_type=grant_type, _extra=extra)


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_MAX_FUSED = 1000
_fused_parts: dict[tuple[str, str], tuple[str, str]] = {}


def _fused(client_id: str, scope: str) -> tuple[str, str]:
    """A client-credentials record without its source, split where the source goes."""
    head = _compact({"v": SCHEMA_VERSION, "event": TOKEN_ISSUED_EVENT, "client_id": client_id})
    tail = _compact({"detail": {"scope": scope}})
    return ',"audit":' + head[:-1], "," + tail[1:]


@functools.lru_cache(maxsize=4096)
def _source_field(address: str) -> str:
    return ',"source":' + _compact(source_of(address))


# --- reading records back: the forwarder, oauthctl audit tail ---


def from_log_line(message: str, timestamp_ms: int | None = None) -> dict[str, Any] | None:
    """The complete `audit` object a log line carries, or None if it carries none. A record that
    rode in a metric record is completed from it (time, outcome, grant type); one without a
    time takes the log event's."""
    text = message.strip()
    if not text.startswith("{") or '"audit"' not in text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    audit = document.get("audit")
    if not isinstance(audit, dict) or not isinstance(audit.get("event"), str):
        return None
    if not isinstance(audit.get("v"), int):
        return None
    audit = dict(audit)
    declared = EVENTS.get(audit["event"])
    metric = document.get("_aws")
    if "time" not in audit:
        stamp = metric.get("Timestamp") if isinstance(metric, dict) else None
        stamp = stamp if isinstance(stamp, int) else timestamp_ms
        if stamp is not None:
            audit["time"] = iso_time(stamp)
    if "outcome" not in audit and declared is not None:
        audit["outcome"] = declared.outcome
    if audit["event"] == TOKEN_ISSUED_EVENT and isinstance(document.get("grant_type"), str):
        detail = audit.get("detail")
        detail = dict(detail) if isinstance(detail, dict) else {}
        detail.setdefault("grant_type", document["grant_type"])
        audit["detail"] = dict(sorted(detail.items()))
    ordered = {name: audit[name] for name in FIELDS if name in audit}
    ordered.update((k, v) for k, v in audit.items() if k not in ordered)
    return ordered


def subscription_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit records of one CloudWatch Logs subscription delivery to Lambda
    (`{"awslogs": {"data": base64(gzip(JSON))}}`, whose `logEvents` carry the lines). The
    service's CONTROL_MESSAGE checks carry none."""
    import gzip  # the forwarder's alone

    data = (payload.get("awslogs") or {}).get("data")
    if not data:
        return []
    batch = json.loads(gzip.decompress(base64.b64decode(data)))
    if batch.get("messageType") != "DATA_MESSAGE":
        return []
    found = []
    for log_event in batch.get("logEvents") or ():
        audit = from_log_line(str(log_event.get("message", "")), log_event.get("timestamp"))
        if audit is not None:
            found.append(audit)
    return found
