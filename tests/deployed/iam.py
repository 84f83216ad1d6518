"""What IAM would decide about the calls a function made: each recorded call becomes the
requests IAM authorizes (action and resource ARN), matched against the statements of the
function's role as IAM matches them (actions case-insensitive, resources case-sensitive, `*`
and `?` within an ARN segment, an explicit Deny winning).

DynamoDB transactions are authorized item by item (PutItem, UpdateItem, DeleteItem,
ConditionCheckItem, GetItem on each item's table); there is no TransactWriteItems action."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from oauth_core.tables import ALL_TABLES

_TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


class NotSupported(Exception):
    """A policy or a call the suite cannot judge; it says so rather than guess."""


@dataclass(frozen=True)
class RecordedCall:
    service: str
    operation: str
    parameters: dict[str, Any]

    @classmethod
    def from_child(cls, recorded: list[str]) -> RecordedCall:
        service, operation, parameters = recorded
        return cls(service, operation, json.loads(parameters))


@dataclass(frozen=True)
class AwsRequest:
    """One authorization IAM makes: `dynamodb:GetItem` on a table's ARN (and, for an item,
    its partition key value: the `dynamodb:LeadingKeys` condition key)."""

    action: str
    resource: str
    leading_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str  # the policy's construct path, for messages
    # `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, the one condition judged here.
    leading_keys: tuple[str, ...] | None = None

    def matches(self, request: AwsRequest) -> bool:
        if self.leading_keys is not None and not (
            request.leading_keys
            and all(
                any(_wildcard(p).fullmatch(key) for p in self.leading_keys)
                for key in request.leading_keys
            )
        ):
            return False
        return any(action_matches(a, request.action) for a in self.actions) and any(
            arn_matches(r, request.resource) for r in self.resources
        )


def statements_of(document: dict[str, Any], source: str) -> list[Statement]:
    found = []
    for raw in _as_list(document.get("Statement", [])):
        unsupported = {"NotAction", "NotResource", "Principal"} & set(raw)
        if unsupported:
            raise NotSupported(f"{source}: a statement with {sorted(unsupported)}: {raw}")
        found.append(
            Statement(
                raw["Effect"],
                tuple(_as_list(raw["Action"])),
                tuple(str(r) for r in _as_list(raw["Resource"])),
                source,
                _leading_keys(raw, source),
            )
        )
    return found


def _leading_keys(raw: dict[str, Any], source: str) -> tuple[str, ...] | None:
    condition = raw.get("Condition")
    if condition is None:
        return None
    string_like = condition.get("ForAllValues:StringLike") or {}
    if list(condition) != ["ForAllValues:StringLike"] or list(string_like) != [
        "dynamodb:LeadingKeys"
    ]:
        raise NotSupported(f"{source}: a condition this suite cannot judge: {condition}")
    return tuple(str(k) for k in _as_list(string_like["dynamodb:LeadingKeys"]))


# The partition keys of the server's tables (oauth_core.tables), for dynamodb:LeadingKeys.
_PARTITION_KEYS = frozenset(spec.partition_key for spec in ALL_TABLES)


def _item_leading_keys(parameters: dict[str, Any]) -> tuple[str, ...]:
    item = parameters.get("Key") or parameters.get("Item") or {}
    return tuple(
        str(next(iter(value.values())))
        for name, value in item.items()
        if name in _PARTITION_KEYS and isinstance(value, dict)
    )


@dataclass(frozen=True)
class Grant:
    """One action on one resource pattern that an Allow statement gives."""

    action: str
    resource: str

    def used_by(self, request: AwsRequest) -> bool:
        return action_matches(self.action, request.action) and arn_matches(
            self.resource, request.resource
        )


def grants_of(statements: Iterable[Statement]) -> list[Grant]:
    return [
        Grant(action, resource)
        for s in statements
        if s.effect == "Allow"
        for action in s.actions
        for resource in s.resources
    ]


def is_allowed(statements: Iterable[Statement], request: AwsRequest) -> bool:
    matching = [s for s in statements if s.matches(request)]
    return any(s.effect == "Allow" for s in matching) and not any(
        s.effect == "Deny" for s in matching
    )


def requests_of(
    call: RecordedCall,
    table_arn: Callable[[str], str],
    secret_arn: Callable[[str], str],
    function_arn: Callable[[str], str] = str,
) -> list[AwsRequest]:
    """The authorizations behind one API call. `table_arn`, `secret_arn` and `function_arn`
    turn the names the call used into ARNs; anything the suite has no rule for raises
    NotSupported."""
    p = call.parameters
    if call.service == "lambda" and call.operation == "Invoke":
        return [AwsRequest("lambda:InvokeFunction", function_arn(p["FunctionName"]))]
    if call.service == "dynamodb":
        if call.operation == "TransactWriteItems" or call.operation == "TransactGetItems":
            return [
                AwsRequest(f"dynamodb:{_TRANSACT_ITEM_ACTIONS[kind]}", table_arn(item["TableName"]))
                for entry in p["TransactItems"]
                for kind, item in entry.items()
            ]
        if call.operation in ("BatchGetItem", "BatchWriteItem"):
            return [
                AwsRequest(f"dynamodb:{call.operation}", table_arn(name))
                for name in p["RequestItems"]
            ]
        if "TableName" in p:
            resource = table_arn(p["TableName"])
            if "IndexName" in p:
                resource += f"/index/{p['IndexName']}"
            return [AwsRequest(f"dynamodb:{call.operation}", resource, _item_leading_keys(p))]
    if call.service == "secretsmanager" and "SecretId" in p:
        return [AwsRequest(f"secretsmanager:{call.operation}", secret_arn(p["SecretId"]))]
    raise NotSupported(f"no IAM rule for {call.service}:{call.operation} ({sorted(p)})")


def action_matches(pattern: str, action: str) -> bool:
    return _wildcard(pattern.lower()).fullmatch(action.lower()) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM's resource match: the partition, service, region and account segments each match
    on their own; the rest (which may hold colons) matches as one."""
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), arn.split(":", 5)
    if len(wanted) != len(actual):
        return False
    return all(_wildcard(w).fullmatch(a) is not None for w, a in zip(wanted, actual, strict=True))


@cache
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
