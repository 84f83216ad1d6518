"""The grants table: completed authorization requests, sessions, consents, codes, refresh-token
families, revoked access tokens, the revocations APIs read (oauth_core.revocation) and
rate-limit buckets, one item type per key prefix.

Token-like values appear only as SHA-256 hashes. Single use is DynamoDB's job: redeeming a code
and rotating a refresh token are each one TransactWriteItems whose conditions lose for every
caller but one (botocore's automatic ClientRequestToken makes its own retries idempotent).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import MISSING, asdict, fields
from decimal import Decimal
from typing import Any

from oauth_core import revocation
from oauth_core.clock import Clock, SystemClock
from oauth_core.errors import ConditionFailed, StorageError
from oauth_core.models import (
    AuthorizationCode,
    Client,
    Consent,
    PushedRequest,
    RefreshToken,
    Session,
    SubjectState,
    TokenFamily,
)
from oauth_core.observability import count, logger
from oauth_core.rate_limit import Limit, after_failure
from oauth_core.storage.aws import aws_errors, client
from oauth_core.storage.dynamodb import from_attrs, to_attrs
from oauth_core.tables import (
    GRANTS,
    GRANTS_BY_CLIENT,
    GRANTS_BY_OWNER,
    SINGLE_USE_PREFIX,
    IndexSpec,
)

TTL = GRANTS.ttl_attribute or "purge_at"


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def _required(f: Any) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal (ours are all integers), lists as lists."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _decode(cls: Any, item: dict[str, Any]) -> Any:
    data = from_attrs(item)
    # None values are not stored: an absent attribute means None.
    values = {
        f.name: _plain(data.get(f.name)) for f in fields(cls) if f.name in data or _required(f)
    }
    return cls(**values)


class DynamoGrantStore:
    def __init__(self, table_name: str, dynamodb: Any = None, clock: Clock | None = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")
        self._clock = clock or SystemClock()

    # --- plumbing ----------------------------------------------------------------------------

    def _put(self, pk: str, data: dict[str, Any], purge_at: int, **extra: Any) -> None:
        item = {"pk": pk, TTL: purge_at, **data, **extra}
        with aws_errors("write grant"):
            self._db.put_item(TableName=self._table, Item=to_attrs(item))

    def _get(self, pk: str) -> dict[str, Any] | None:
        with aws_errors("read grant"):
            response = self._db.get_item(TableName=self._table, Key=_key(pk), ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _delete(self, pk: str) -> None:
        with aws_errors("delete grant"):
            self._db.delete_item(TableName=self._table, Key=_key(pk))

    # --- pending requests, sessions, consents -------------------------------------------------

    def consume_request(self, request_id: str, expires_at: int) -> bool:
        item = {"pk": f"authz#{request_id}", TTL: expires_at}
        try:
            with aws_errors("complete authorization request"):
                self._db.put_item(
                    TableName=self._table,
                    Item=to_attrs(item),
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except ConditionFailed:
            return False
        return True

    def use_once(self, key: str, expires_at: int) -> bool:
        try:
            with aws_errors("record a single-use value"):
                self._db.put_item(
                    TableName=self._table,
                    Item=to_attrs({"pk": SINGLE_USE_PREFIX + key, TTL: expires_at}),
                    # An item TTL has not yet deleted is no longer in force once expired.
                    ConditionExpression="attribute_not_exists(pk) OR #ttl < :now",
                    ExpressionAttributeNames={"#ttl": TTL},
                    ExpressionAttributeValues={":now": {"N": str(self._clock.now())}},
                )
        except ConditionFailed:
            return False
        return True

    def put_pushed_request(self, pushed: PushedRequest) -> None:
        self._put(
            f"par#{pushed.request_hash}",
            {
                "client_id": pushed.client_id,
                "client_registration": pushed.client_registration,
                # One string: a query's values as they came, empty ones included.
                "parameters": json.dumps(pushed.parameters, separators=(",", ":")),
                "expires_at": pushed.expires_at,
            },
            pushed.expires_at,
        )

    def take_pushed_request(
        self, request_hash: str, client_id: str, now: int
    ) -> PushedRequest | None:
        # One conditional delete that returns what it deleted: of two containers taking the
        # same request at once, one gets it and the other's condition fails.
        try:
            with aws_errors("take pushed request"):
                response = self._db.delete_item(
                    TableName=self._table,
                    Key=_key(f"par#{request_hash}"),
                    ConditionExpression="attribute_exists(pk) AND #client = :client "
                    "AND #exp > :now",
                    ExpressionAttributeNames={"#client": "client_id", "#exp": "expires_at"},
                    ExpressionAttributeValues={
                        ":client": {"S": client_id},
                        ":now": {"N": str(now)},
                    },
                    ReturnValues="ALL_OLD",
                )
        except ConditionFailed:
            return None
        data = from_attrs(response.get("Attributes") or {})
        if not data:
            return None
        return PushedRequest(
            request_hash=request_hash,
            client_id=str(data["client_id"]),
            client_registration=str(data.get("client_registration", "")),
            parameters=json.loads(str(data["parameters"])),
            expires_at=int(data["expires_at"]),
        )

    def put_session(self, session: Session) -> None:
        self._put(
            f"session#{session.session_hash}",
            asdict(session),
            session.expires_at,
            owner_sub=session.sub,
        )

    def get_session(self, session_hash: str) -> Session | None:
        item = self._get(f"session#{session_hash}")
        return _decode(Session, item) if item else None

    def delete_session(self, session_hash: str) -> None:
        self._delete(f"session#{session_hash}")

    def get_consent(self, sub: str, client: Client) -> frozenset[str]:
        item = self._get(f"consent#{sub}#{client.client_id}")
        if not item:
            return frozenset()
        data = from_attrs(item)
        if data.get("client_registration", "") != client.registration_id:
            return frozenset()  # given to an earlier registration of this client_id (D8)
        return frozenset(data.get("scopes") or ())

    def put_consent(
        self, sub: str, client: Client, scopes: frozenset[str], expires_at: int
    ) -> None:
        self._put(
            f"consent#{sub}#{client.client_id}",
            {
                "scopes": sorted(scopes),
                "expires_at": expires_at,
                "client_registration": client.registration_id,
            },
            expires_at,
            owner_sub=sub,
        )

    # --- codes ---------------------------------------------------------------------------------

    def put_code(self, code: AuthorizationCode, retain_until: int) -> None:
        self._put(f"code#{code.code_hash}", asdict(code), retain_until)

    def put_code_recording_client(
        self, code: AuthorizationCode, retain_until: int, session_hash: str, client_entry: str
    ) -> None:
        item = {"pk": f"code#{code.code_hash}", TTL: retain_until, **asdict(code)}
        code_put = {"Put": {"TableName": self._table, "Item": to_attrs(item)}}
        session_update = {
            "Update": {
                "TableName": self._table,
                "Key": _key(f"session#{session_hash}"),
                "UpdateExpression": "SET #into = list_append(if_not_exists(#into, :none), :entry)",
                # Never an item of its own: only a session that still exists records it.
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#into": "signed_into"},
                "ExpressionAttributeValues": {
                    ":none": {"L": []},
                    ":entry": {"L": [{"S": client_entry}]},
                },
            }
        }
        try:
            with aws_errors("write code"):
                self._db.transact_write_items(TransactItems=[code_put, session_update])
        except ConditionFailed:
            self.put_code(code, retain_until)  # the session ended meanwhile: the code alone

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        item = self._get(f"code#{code_hash}")
        return _decode(AuthorizationCode, item) if item else None

    def _family_put(self, family: TokenFamily) -> dict[str, Any]:
        item = {
            "pk": f"family#{family.family_id}",
            TTL: family.absolute_expires_at,
            "owner_sub": family.sub,
            "family_client": family.client_id,
            **asdict(family),
        }
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_attrs(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _refresh_put(self, refresh: RefreshToken) -> dict[str, Any]:
        item = {
            "pk": f"rt#{refresh.token_hash}",
            TTL: refresh.absolute_expires_at,
            **asdict(refresh),
        }
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_attrs(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _subject_allows(
        self, sub: str, signed_in_ms: int, *, session_too: bool = False
    ) -> dict[str, Any]:
        """The condition SubjectState.allows, checked inside a transaction: no state item, or
        an enabled user whose grants from this sign-in are not void; with `session_too`,
        allows_session (a code: its session did not end by "sign out everywhere")."""
        condition = "attribute_not_exists(pk) OR (#disabled = :f AND #not_before <= :signed_in"
        names = {"#disabled": "disabled", "#not_before": "not_before_ms"}
        if session_too:
            condition += " AND (attribute_not_exists(#sessions) OR #sessions <= :signed_in)"
            names["#sessions"] = "sessions_not_before_ms"
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": _key(f"subject#{sub}"),
                "ConditionExpression": condition + ")",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {
                    ":f": {"BOOL": False},
                    ":signed_in": {"N": str(signed_in_ms)},
                },
            }
        }

    def get_subject_state(self, sub: str) -> SubjectState | None:
        item = self._get(f"subject#{sub}")
        return _decode(SubjectState, item) if item else None

    def put_subject_state(self, state: SubjectState) -> None:
        item = {"pk": f"subject#{state.sub}", **asdict(state)}
        with aws_errors("write user state"):
            self._db.put_item(TableName=self._table, Item=to_attrs(item))

    def redeem_code(
        self,
        code_hash: str,
        request_id: str,
        now: int,
        family: TokenFamily,
        refresh: RefreshToken | None,
    ) -> None:
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _key(f"code#{code_hash}"),
                    "UpdateExpression": "SET #consumed = :t, #by = :req, #fid = :fid",
                    "ConditionExpression": (
                        "attribute_exists(pk) AND #consumed = :f AND #exp > :now"
                    ),
                    "ExpressionAttributeNames": {
                        "#consumed": "consumed",
                        "#by": "consumed_by",
                        "#fid": "family_id",
                        "#exp": "expires_at",
                    },
                    "ExpressionAttributeValues": {
                        ":t": {"BOOL": True},
                        ":f": {"BOOL": False},
                        ":req": {"S": request_id},
                        ":fid": {"S": family.family_id},
                        ":now": {"N": str(now)},
                    },
                }
            },
            self._family_put(family),
            self._subject_allows(family.sub, family.signed_in_ms, session_too=True),
        ]
        if refresh is not None:
            items.append(self._refresh_put(refresh))
        with aws_errors("redeem code"):
            self._db.transact_write_items(TransactItems=items)

    # --- refresh tokens and families ----------------------------------------------------------

    def get_refresh(self, token_hash: str) -> RefreshToken | None:
        item = self._get(f"rt#{token_hash}")
        return _decode(RefreshToken, item) if item else None

    def rotate_refresh(
        self, old: RefreshToken, request_id: str, now: int, new: RefreshToken
    ) -> None:
        items = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _key(f"rt#{old.token_hash}"),
                    "UpdateExpression": "SET #used = :t, #by = :req, #at = :now, #to = :to",
                    "ConditionExpression": "#used = :f AND #idle > :now",
                    "ExpressionAttributeNames": {
                        "#used": "used",
                        "#by": "used_by",
                        "#idle": "idle_expires_at",
                        "#at": "used_at",
                        "#to": "rotated_to",
                    },
                    "ExpressionAttributeValues": {
                        ":t": {"BOOL": True},
                        ":f": {"BOOL": False},
                        ":req": {"S": request_id},
                        ":now": {"N": str(now)},
                        ":to": {"S": new.token_hash},
                    },
                }
            },
            self._refresh_put(new),
            {
                # The family must be live; the rotation is its last use (operators see it).
                "Update": {
                    "TableName": self._table,
                    "Key": _key(f"family#{old.family_id}"),
                    "UpdateExpression": "SET #last_used = :now",
                    "ConditionExpression": "#revoked = :f AND #abs > :now",
                    "ExpressionAttributeNames": {
                        "#revoked": "revoked",
                        "#abs": "absolute_expires_at",
                        "#last_used": "last_used_at",
                    },
                    "ExpressionAttributeValues": {
                        ":f": {"BOOL": False},
                        ":now": {"N": str(now)},
                    },
                }
            },
            self._subject_allows(old.sub, old.signed_in_ms),
        ]
        with aws_errors("rotate refresh token"):
            self._db.transact_write_items(TransactItems=items)

    def get_family(self, family_id: str) -> TokenFamily | None:
        item = self._get(f"family#{family_id}")
        return _decode(TokenFamily, item) if item else None

    def revoke_family(self, family_id: str) -> None:
        try:
            with aws_errors("revoke family"):
                self._db.update_item(
                    TableName=self._table,
                    Key=_key(f"family#{family_id}"),
                    UpdateExpression="SET #revoked = :t",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#revoked": "revoked"},
                    ExpressionAttributeValues={":t": {"BOOL": True}},
                )
        except ConditionFailed:
            return  # nothing to revoke
        rid = revocation.revocation_id(revocation.KIND_GRANT, family_id)
        self._record_revocation(rid, revocation.grant_revocation_until(self._clock.now()))

    def _keys_by(self, index: IndexSpec, value: str) -> list[str]:
        """The keys of the items an index lists under `value` (it holds keys only)."""
        with aws_errors(f"query {index.name}"):
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=index.name,
                KeyConditionExpression="#key = :value",
                ExpressionAttributeNames={"#key": index.partition_key},
                ExpressionAttributeValues={":value": {"S": value}},
            )
            return [item["pk"]["S"] for page in pages for item in page.get("Items", [])]

    def _items(self, keys: list[str]) -> list[dict[str, Any]]:
        """The items with these keys that still exist (the index lags the table)."""
        found = (self._get(pk) for pk in keys)
        return [item for item in found if item is not None]

    def sessions_of(self, sub: str) -> list[Session]:
        keys = [k for k in self._keys_by(GRANTS_BY_OWNER, sub) if k.startswith("session#")]
        return [_decode(Session, item) for item in self._items(keys)]

    def families_of(self, sub: str) -> list[TokenFamily]:
        keys = [k for k in self._keys_by(GRANTS_BY_OWNER, sub) if k.startswith("family#")]
        return [_decode(TokenFamily, item) for item in self._items(keys)]

    def consents_of(self, sub: str) -> list[Consent]:
        keys = [k for k in self._keys_by(GRANTS_BY_OWNER, sub) if k.startswith("consent#")]
        consents = []
        for item in self._items(keys):
            data = from_attrs(item)
            client_id = str(data["pk"]).split("#", 2)[2]
            consents.append(
                Consent(
                    sub,
                    client_id,
                    frozenset(data.get("scopes") or ()),
                    int(data.get("expires_at", 0)),
                    str(data.get("client_registration", "")),
                )
            )
        return consents

    def families_of_client(self, client_id: str) -> list[TokenFamily]:
        keys = self._keys_by(GRANTS_BY_CLIENT, client_id)
        return [_decode(TokenFamily, item) for item in self._items(keys)]

    def delete_consent(self, sub: str, client_id: str) -> bool:
        with aws_errors("delete consent"):
            response = self._db.delete_item(
                TableName=self._table,
                Key=_key(f"consent#{sub}#{client_id}"),
                ReturnValues="ALL_OLD",
            )
        return "Attributes" in response

    def revoke_families_of(self, sub: str) -> int:
        revoked = 0
        keys = self._keys_by(GRANTS_BY_OWNER, sub)
        for pk in keys:
            if pk.startswith("family#"):
                self.revoke_family(pk.removeprefix("family#"))
                revoked += 1
            elif pk.startswith("session#"):
                self._delete(pk)
        return revoked

    # --- access tokens -------------------------------------------------------------------------

    def revoke_access_token(self, jti: str, expires_at: int, *, publish: bool = True) -> None:
        self._put(f"jti#{jti}", {"expires_at": expires_at}, expires_at)
        if publish and revocation.worth_publishing(expires_at, self._clock.now()):
            self._record_revocation(
                revocation.revocation_id(revocation.KIND_ACCESS_TOKEN, jti), expires_at
            )

    # --- initial access tokens for client registration (RFC 7591 3) ---------------------------

    def put_initial_access_token(self, token_hash: str, expires_at: int, uses: int) -> None:
        self._put(f"iat#{token_hash}", {"expires_at": expires_at, "uses_left": uses}, expires_at)

    def spend_initial_access_token(self, token_hash: str, now: int) -> bool:
        try:
            with aws_errors("spend initial access token"):
                self._db.update_item(
                    TableName=self._table,
                    Key=_key(f"iat#{token_hash}"),
                    UpdateExpression="SET #uses = #uses - :one",
                    ConditionExpression="attribute_exists(pk) AND #uses > :zero AND #exp > :now",
                    ExpressionAttributeNames={"#uses": "uses_left", "#exp": "expires_at"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":zero": {"N": "0"},
                        ":now": {"N": str(now)},
                    },
                )
        except ConditionFailed:
            return False
        return True

    # --- revocations APIs read (SECURITY F7) ---------------------------------------------------

    def _record_revocation(self, rid: str, until: int) -> None:
        """Publish a revocation to APIs. The revocation itself (the family or jti marked) is
        done already and holds at the token endpoint and introspection whatever happens here;
        a failure to publish is counted and logged (an alarm's matter), never a failed revoke."""
        try:
            self._publish_revocation(rid, until)
        except StorageError:
            count("RevocationNotPublished")
            logger.error("a revocation could not be published to APIs")

    def _publish_revocation(self, rid: str, until: int) -> None:
        key = revocation.item_key(rid, until)
        with aws_errors("record revocation"):
            self._db.update_item(
                TableName=self._table,
                Key=_key(key),
                UpdateExpression="ADD #ids :ids SET #purge = :purge",
                ExpressionAttributeNames={"#ids": "ids", "#purge": TTL},
                ExpressionAttributeValues={
                    ":ids": {"SS": [rid]},
                    ":purge": {"N": str(revocation.purge_at(key))},
                },
            )

    def recent_revocations(self, now: int) -> frozenset[str]:
        keys: list[dict[str, Any]] = [_key(k) for k in revocation.keys_in_force(now)]
        found: set[str] = set()
        for _ in range(4):  # what DynamoDB leaves unprocessed, tried again
            with aws_errors("read revocations"):
                response = self._db.batch_get_item(
                    RequestItems={
                        self._table: {
                            "Keys": keys,
                            "ProjectionExpression": "#ids",
                            "ExpressionAttributeNames": {"#ids": "ids"},
                        }
                    }
                )
            for item in response.get("Responses", {}).get(self._table, []):
                found.update(item.get("ids", {}).get("SS", []))
            keys = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
            if not keys:
                return frozenset(found)
        raise StorageError("read revocations: unprocessed keys")

    def is_access_token_revoked(self, jti: str) -> bool:
        return self._get(f"jti#{jti}") is not None


class DynamoRateLimiter:
    """Failure buckets (oauth_core.rate_limit) as one number per key, `empty_at` in ms, moved by
    conditional updates that apply after_failure's arithmetic: no read before a write, and
    attempts at the same moment each count (a lost race is tried again, not dropped)."""

    RACE_RETRIES = 4

    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")

    def _empty_at(self, key: str) -> int:
        with aws_errors("read rate limit"):
            response = self._db.get_item(
                TableName=self._table, Key=_key(f"rate#{key}"), ConsistentRead=True
            )
        item = response.get("Item")
        return int(item["empty_at"]["N"]) if item and "empty_at" in item else 0

    def _update(self, key: str, expression: str, condition: str, values: dict[str, int]) -> int:
        with aws_errors("count failure"):
            response = self._db.update_item(
                TableName=self._table,
                Key=_key(f"rate#{key}"),
                UpdateExpression=f"{expression}, #ttl = :purge",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#e": "empty_at", "#ttl": TTL},
                ExpressionAttributeValues={
                    name: {"N": str(value)} for name, value in values.items()
                },
                ReturnValues="UPDATED_NEW",
            )
        return int(response["Attributes"]["empty_at"]["N"])

    def take(self, key: str, now_ms: int, limit: Limit) -> tuple[bool, int]:
        interval, window = limit.interval_ms, limit.window_ms
        # The bucket outlives its fullest state (now + window) by a second, then TTL purges it.
        purge = (now_ms + window) // 1000 + 1
        for _ in range(self.RACE_RETRIES):
            try:  # not empty and room for one more: one interval more
                values = {":interval": interval, ":now": now_ms, ":purge": purge}
                values[":room"] = now_ms + window - interval
                return True, self._update(
                    key, "SET #e = #e + :interval", "#e > :now AND #e <= :room", values
                )
            except ConditionFailed:
                pass
            try:  # empty, or never used: one interval from now
                values = {":next": now_ms + interval, ":now": now_ms, ":purge": purge}
                return True, self._update(
                    key, "SET #e = :next", "attribute_not_exists(#e) OR #e <= :now", values
                )
            except ConditionFailed:
                pass
            current = self._empty_at(key)
            if after_failure(current, now_ms, limit) is None:
                return False, current  # full: nothing is added
            # Neither condition held, yet there is room: another attempt moved the bucket
            # between the two updates. Count this one too.
        return False, self._empty_at(key)

    def give_back(self, key: str, now_ms: int, limit: Limit) -> None:
        """after_give_back as conditional updates: one interval out, but never before now."""
        purge = (now_ms + limit.window_ms) // 1000 + 1
        try:
            values = {":interval": limit.interval_ms, ":floor": now_ms + limit.interval_ms}
            self._update(
                key, "SET #e = #e - :interval", "#e >= :floor", {**values, ":purge": purge}
            )
            return
        except ConditionFailed:
            pass
        # Less than one interval of debt left: the bucket is empty now (if it was empty already,
        # or never used, there is nothing to give back).
        with contextlib.suppress(ConditionFailed):
            self._update(key, "SET #e = :now", "#e > :now", {":now": now_ms, ":purge": purge})
