"""The factors table: one item per user (`sub`) with their TOTP secret, the last time step a
code was taken at, and the keyed hashes of their unused recovery codes (a map, so one can be
removed by name). Spending a code is one conditional UpdateItem: of two containers given the
same code, one wins."""

from __future__ import annotations

from typing import Any

from oauth_core.errors import ConditionFailed
from oauth_core.models import SecondFactors
from oauth_core.storage.aws import aws_errors, client
from oauth_core.storage.dynamodb import from_attrs, to_attrs


def _key(sub: str) -> dict[str, Any]:
    return {"sub": {"S": sub}}


class DynamoFactorStore:
    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")

    def get(self, sub: str) -> SecondFactors | None:
        with aws_errors("read second factors"):
            response = self._db.get_item(TableName=self._table, Key=_key(sub), ConsistentRead=True)
        item = response.get("Item")
        if not item:
            return None
        data = from_attrs(item)
        return SecondFactors(
            sub=str(data["sub"]),
            totp_secret=str(data.get("totp_secret", "")),
            totp_last_step=int(data.get("totp_last_step", 0)),
            enrolled_at=int(data.get("enrolled_at", 0)),
            recovery_codes=frozenset(str(h) for h in (data.get("recovery") or {})),
        )

    def _conditional(self, what: str, **request: Any) -> bool:
        try:
            with aws_errors(what):
                self._db.update_item(TableName=self._table, **request)
        except ConditionFailed:
            return False
        return True

    def enrol(self, factors: SecondFactors) -> bool:
        item = {
            "sub": factors.sub,
            "totp_secret": factors.totp_secret,
            "totp_last_step": factors.totp_last_step,
            "enrolled_at": factors.enrolled_at,
            "recovery": {code_hash: 1 for code_hash in factors.recovery_codes},
        }
        try:
            with aws_errors("enrol a second factor"):
                self._db.put_item(
                    TableName=self._table,
                    Item=to_attrs(item),
                    ConditionExpression="attribute_not_exists(#sub)",
                    ExpressionAttributeNames={"#sub": "sub"},
                )
        except ConditionFailed:
            return False
        return True

    def use_step(self, sub: str, secret: str, step: int) -> bool:
        return self._conditional(
            "take a TOTP code",
            Key=_key(sub),
            UpdateExpression="SET totp_last_step = :step",
            ConditionExpression="totp_secret = :secret AND totp_last_step < :step",
            ExpressionAttributeValues={":step": {"N": str(step)}, ":secret": {"S": secret}},
        )

    def use_recovery_code(self, sub: str, code_hash: str) -> bool:
        return self._conditional(
            "spend a recovery code",
            Key=_key(sub),
            UpdateExpression="REMOVE recovery.#code",
            ConditionExpression="attribute_exists(recovery.#code)",
            ExpressionAttributeNames={"#code": code_hash},
        )

    def replace_recovery_codes(self, sub: str, code_hashes: frozenset[str]) -> bool:
        return self._conditional(
            "replace recovery codes",
            Key=_key(sub),
            UpdateExpression="SET recovery = :codes",
            ConditionExpression="attribute_exists(#sub)",
            ExpressionAttributeNames={"#sub": "sub"},
            ExpressionAttributeValues={":codes": to_attrs({"c": {h: 1 for h in code_hashes}})["c"]},
        )

    def delete(self, sub: str) -> bool:
        with aws_errors("remove second factors"):
            response = self._db.delete_item(
                TableName=self._table, Key=_key(sub), ReturnValues="ALL_OLD"
            )
        return "Attributes" in response
