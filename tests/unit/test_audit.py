"""The audit trail (oauth_core.audit): its schema, the events the token function emits, a token's
record riding in its metric record, the forwarder's decoding of CloudWatch Logs subscription
deliveries, and no secret in any of it."""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from oauth_core import audit, constants, observability
from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.http.dispatch import FunctionHandler
from oauth_core.keys import KeySet
from oauth_core.rules.throttle import CLIENT_SECRET, SIGN_IN, FailureThrottle
from oauth_core.storage.memory import MemoryRateLimiter
from oauth_core.wiring import Components, endpoints_for, memory_components
from tests.support import ISSUER, SERVICE_ID, SERVICE_SECRET, basic, load_event

# A field whose name says it holds one of these could carry a credential.
SECRET_WORDS = re.compile(
    r"password|secret|token(?!_type)|code|cookie|authorization|verifier|credential|key",
    re.IGNORECASE,
)


def records(text: str) -> list[dict[str, Any]]:
    return [a for a in (audit.from_log_line(line) for line in text.splitlines()) if a]


@pytest.fixture(autouse=True)
def to_stdout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(audit.ENV_AUDIT_FILE, raising=False)
    audit.sink.reset()
    yield
    audit.sink.reset()
    audit.begin("", "")


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_METRICS_ON", True)


@pytest.fixture
def metrics_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_METRICS_ON", False)


# --- the schema ---


def test_every_event_is_named_area_dot_what_with_an_outcome_and_a_description() -> None:
    for name, event in audit.EVENTS.items():
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", name), name
        assert event.outcome in (audit.SUCCESS, audit.FAILURE), name
        assert event.description.endswith("."), name


def test_no_field_of_any_event_is_named_like_a_secret() -> None:
    names = set(audit.FIELDS)
    for event in audit.EVENTS.values():
        names |= event.detail
    suspicious = sorted(name for name in names if SECRET_WORDS.search(name))
    # token_type names a kind (access_token or refresh_token); grant_id is no credential.
    assert suspicious == []


def test_a_record_has_the_schemas_fields_in_order_and_leaves_absent_ones_out() -> None:
    audit.begin("req-1", "2001:db8:1:2:aaaa::1")
    made = audit.record(
        audit.SIGNIN_FAILURE, client_id="web", reason="bad_password", epoch_ms=1795694400123
    )
    assert made == {
        "v": 1,
        "event": "signin.failure",
        "time": "2026-11-26T12:00:00.123Z",
        "outcome": "failure",
        "client_id": "web",
        "source": "2001:db8:1:2::/64",  # an IPv6 caller's /64, as the guessing limits count
        "request_id": "req-1",
        "detail": {"reason": "bad_password"},
    }
    assert list(made) == [f for f in audit.FIELDS if f in made]


def test_undeclared_events_and_detail_fields_are_refused() -> None:
    with pytest.raises(audit.UndeclaredAuditField):
        audit.record("signin.maybe")
    with pytest.raises(audit.UndeclaredAuditField):
        audit.record(audit.SIGNIN_FAILURE, password="hunter2")
    with pytest.raises(audit.UndeclaredAuditField):
        audit.emit(audit.TOKEN_ISSUED_EVENT, access_token="eyJ...")


def test_values_are_cut_and_lists_sorted() -> None:
    made = audit.record(
        audit.ADMIN_CHANGE, actor="x" * 1000, command="clients update", options=["scope", "name"]
    )
    assert len(made["actor"]) == audit.MAX_VALUE_LENGTH
    assert made["detail"]["options"] == ["name", "scope"]


def test_emit_writes_one_json_line_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    audit.emit(audit.CONSENT_GIVEN, client_id="web", sub="u-1", scope="openid read:data")
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out)["audit"]["event"] == "consent.given"


def test_oauth_audit_file_takes_the_records_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv(audit.ENV_AUDIT_FILE, str(path))
    audit.sink.reset()
    audit.emit(audit.CONSENT_WITHDRAWN, client_id="web", sub="u-1")
    audit.emit(audit.CONSENT_GIVEN, client_id="web", sub="u-1", scope="read:data")
    assert capsys.readouterr().out == ""
    assert [r["event"] for r in records(path.read_text())] == ["consent.withdrawn", "consent.given"]


# --- a token's record rides in its metric record ---


def test_a_client_credentials_token_writes_one_line_metric_and_record(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    audit.begin("req-2", "198.51.100.7")
    audit.token_issued("client_credentials", SERVICE_ID, "read:data")
    (written,) = capsys.readouterr().out.splitlines()
    document = json.loads(written)
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Metrics"] == [{"Name": "TokenIssued", "Unit": "Count"}]
    assert document["grant_type"] == "client_credentials"
    # Nothing the metric record says already, and no request id: bytes per token.
    assert document["audit"] == {
        "v": 1,
        "event": "token.issued",
        "client_id": SERVICE_ID,
        "source": "198.51.100.7",
        "detail": {"scope": "read:data"},
    }
    completed = audit.from_log_line(written)
    assert completed is not None
    assert completed["time"] == audit.iso_time(document["_aws"]["Timestamp"])
    assert completed["outcome"] == "success"
    assert completed["detail"] == {"grant_type": "client_credentials", "scope": "read:data"}


def test_a_users_token_record_names_the_user_the_grant_and_the_request(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    audit.begin("req-3", "198.51.100.7")
    audit.token_issued("refresh_token", "web", "openid", sub="u-1", grant_id="g-1")
    completed = audit.from_log_line(capsys.readouterr().out)
    assert completed is not None
    assert completed["sub"] == "u-1"
    assert completed["request_id"] == "req-3"
    assert completed["detail"] == {
        "grant_id": "g-1",
        "grant_type": "refresh_token",
        "scope": "openid",
    }


def test_without_metrics_a_token_record_is_written_whole(
    metrics_off: None, capsys: pytest.CaptureFixture[str]
) -> None:
    audit.begin("req-4", "198.51.100.7")
    audit.token_issued("client_credentials", SERVICE_ID, "read:data")
    (written,) = capsys.readouterr().out.splitlines()
    assert "_aws" not in written
    (made,) = records(written)
    assert made["request_id"] == "req-4"
    assert made["detail"]["grant_type"] == "client_credentials"


# --- the forwarder's input: CloudWatch Logs subscription deliveries ---


def delivery(messages: list[str], kind: str = "DATA_MESSAGE") -> dict[str, Any]:
    """What CloudWatch Logs hands a subscribed Lambda function: base64 of gzip of this JSON."""
    batch = {
        "messageType": kind,
        "owner": "123456789012",
        "logGroup": "/aws/lambda/OAuthServer-token",
        "logStream": "2026/11/26/[$LATEST]0123456789abcdef",
        "subscriptionFilters": ["OAuthServer-audit-token"],
        "logEvents": [
            {"id": str(i), "timestamp": 1795694400000 + i, "message": message}
            for i, message in enumerate(messages)
        ],
    }
    data = base64.b64encode(gzip.compress(json.dumps(batch).encode())).decode()
    return {"awslogs": {"data": data}}


def test_subscription_deliveries_are_decoded_to_complete_records() -> None:
    fused = (
        '{"_aws":{"Timestamp":1795694400999,"CloudWatchMetrics":[{"Namespace":"OAuthServer",'
        '"Dimensions":[["service","grant_type"]],"Metrics":[{"Name":"TokenIssued","Unit":"Count"}'
        ']}]},"service":"oauth-server","grant_type":"client_credentials","TokenIssued":[1.0],'
        '"audit":{"v":1,"event":"token.issued","client_id":"svc","source":"198.51.100.7",'
        '"detail":{"scope":"read:data"}}}\n'
    )
    plain = audit.line(audit.record(audit.SIGNIN_SUCCESS, client_id="web", sub="u-1"))
    logged = json.dumps(  # a Powertools log line quoting something that looks like a record
        {"level": "INFO", "message": "odd input", "value": plain, "service": "oauth-server"}
    )
    metric_only = '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"LoginFailed":[1.0]}'
    found = audit.subscription_records(
        delivery([fused, "not json at all", logged, plain, metric_only, '{"audit": "x"}'])
    )
    assert [r["event"] for r in found] == ["token.issued", "signin.success"]
    assert found[0]["time"] == "2026-11-26T12:00:00.999Z"
    assert found[0]["detail"]["grant_type"] == "client_credentials"
    assert found[1] == json.loads(plain)["audit"]


def test_a_record_without_a_time_takes_its_log_events() -> None:
    (found,) = audit.subscription_records(delivery(['{"audit":{"v":1,"event":"signin.success"}}']))
    assert found["time"] == "2026-11-26T12:00:00.000Z"


def test_the_services_control_message_carries_no_record() -> None:
    assert audit.subscription_records(delivery(["CWL CONTROL MESSAGE"], "CONTROL_MESSAGE")) == []
    assert audit.subscription_records({}) == []


# --- what the token function records ---


@pytest.fixture
def components(clock: FixedClock, session_keys: KeySet) -> Components:
    clock.current = int(time.time())  # PyJWT checks a revoked token's expiry by the real clock
    settings = Settings(issuer=ISSUER, max_failures=3, max_failures_per_ip=1000)
    built = memory_components(settings, clock=clock, keys=session_keys)
    built.registry.create(
        {
            "client_id": SERVICE_ID,
            "client_secret": SERVICE_SECRET,
            "grant_types": [constants.GRANT_CLIENT_CREDENTIALS],
            "scope": "read:data",
        }
    )
    return built


def call(
    handler: FunctionHandler,
    path: str,
    form: dict[str, str],
    auth: str,
    source: str = "198.51.100.7",
) -> dict[str, Any]:
    event = load_event(
        "token_client_credentials",
        rawPath=path,
        body=urlencode(form),
        headers={"authorization": auth},
    )
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["sourceIp"] = source
    return handler(event, None)


def test_the_token_function_records_issuance_failures_a_lockout_and_revocation(
    components: Components, metrics_off: None, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = FunctionHandler("token", lambda: endpoints_for("token", components))
    right = basic(SERVICE_ID, SERVICE_SECRET)
    issued = call(handler, "/token", {"grant_type": "client_credentials"}, right)
    assert issued["statusCode"] == 200
    token = json.loads(issued["body"])["access_token"]
    wrong = basic(SERVICE_ID, "not-the-secret-at-all")
    for _ in range(5):
        call(handler, "/token", {"grant_type": "client_credentials"}, wrong)
    call(handler, "/token", {"grant_type": "client_credentials"}, basic("nobody", "x"))
    revoked_answer = call(handler, "/revoke", {"token": token}, right, source="203.0.113.9")
    assert revoked_answer["statusCode"] == 200, revoked_answer
    out = capsys.readouterr().out
    events = [(r["event"], r.get("detail", {}).get("reason")) for r in records(out)]
    assert events == [
        ("token.issued", None),
        *[("client_auth.failure", "bad_secret")] * 3,
        ("client_auth.lockout", None),  # the third filled the bucket; the rest wait unchecked
        ("client_auth.failure", "unknown_client"),
        ("token.revoked", None),
    ]
    lockout = records(out)[4]
    assert lockout["client_id"] == SERVICE_ID
    assert lockout["detail"]["bucket"] == "subject"
    assert lockout["source"] == "198.51.100.7"
    revoked = records(out)[-1]
    assert revoked["detail"] == {"token_type": "access_token"}
    assert revoked["source"] == "203.0.113.9"
    for needle in (SERVICE_SECRET, "not-the-secret-at-all", token, right, wrong):
        assert needle not in out


def test_a_sign_in_lockout_is_recorded_once_per_filling(
    clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(max_failures=2, max_failures_per_ip=100, failure_window=60)
    throttle = FailureThrottle(MemoryRateLimiter(), settings, clock)
    keys = throttle.keys(SIGN_IN, "alice", "198.51.100.1")
    for _ in range(2):
        throttle.reserve(keys)
    for _ in range(3):
        with pytest.raises(Exception, match="too many"):
            throttle.reserve(keys)
    (lockout,) = records(capsys.readouterr().out)
    assert lockout["event"] == "signin.lockout"
    assert lockout["username"] == "alice"
    assert lockout["source"] == "198.51.100.1"
    assert lockout["detail"] == {"bucket": "subject", "retry_after": 30}


def test_a_sources_own_bucket_names_no_subject(
    clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(max_failures=100, max_failures_per_ip=2, failure_window=60)
    throttle = FailureThrottle(MemoryRateLimiter(), settings, clock)
    for name in ("a", "b", "c"):
        throttle.failed(throttle.keys(CLIENT_SECRET, name, "198.51.100.1"))
    (lockout,) = records(capsys.readouterr().out)
    assert lockout["event"] == "client_auth.lockout"
    assert "client_id" not in lockout
    assert lockout["detail"]["bucket"] == "source"


def test_introspecting_another_clients_token_is_recorded_as_refused(
    components: Components, metrics_off: None, capsys: pytest.CaptureFixture[str]
) -> None:
    other_secret = "other-secret-0123456789abcdefghijklmnopqrstuvwxyz"
    components.registry.create(
        {
            "client_id": "other",
            "client_secret": other_secret,
            "grant_types": [constants.GRANT_CLIENT_CREDENTIALS],
            "scope": "read:data",
        }
    )
    handler = FunctionHandler("token", lambda: endpoints_for("token", components))
    issued = call(
        handler, "/token", {"grant_type": "client_credentials"}, basic(SERVICE_ID, SERVICE_SECRET)
    )
    token = json.loads(issued["body"])["access_token"]
    answer = call(handler, "/introspect", {"token": token}, basic("other", other_secret))
    assert json.loads(answer["body"]) == {"active": False}
    refused = records(capsys.readouterr().out)[-1]
    assert refused["event"] == "introspection.refused"
    assert refused["client_id"] == "other"
    assert refused["detail"] == {"reason": "foreign_token"}
