"""The passkeys table (oauth_core.tables.PASSKEYS): one item per credential, keyed by its id.

A sign-in reads the credential by its id (strongly consistent) and moves its signature counter
with one conditional update on the counter it read, so two sign-ins racing with one assertion,
or a cloned authenticator racing the real one, cannot both move it.
"""

from __future__ import annotations

from typing import Any

from oauth_core.errors import ConditionFailed
from oauth_core.models import Passkey
from oauth_core.storage.aws import aws_errors, client
from oauth_core.storage.dynamodb import from_attrs, to_attrs
from oauth_core.tables import PASSKEYS_BY_USER


def _key(credential_id: str) -> dict[str, Any]:
    return {"credential_id": {"S": credential_id}}


class DynamoPasskeyStore:
    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")

    def get(self, credential_id: str) -> Passkey | None:
        with aws_errors("read passkey"):
            response = self._db.get_item(
                TableName=self._table, Key=_key(credential_id), ConsistentRead=True
            )
        item = response.get("Item")
        return Passkey.from_item(from_attrs(item)) if item else None

    def of_user(self, sub: str) -> list[Passkey]:
        found: list[Passkey] = []
        with aws_errors("list passkeys"):
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=PASSKEYS_BY_USER.name,
                KeyConditionExpression="#sub = :sub",
                ExpressionAttributeNames={"#sub": PASSKEYS_BY_USER.partition_key},
                ExpressionAttributeValues={":sub": {"S": sub}},
            )
            for page in pages:
                found.extend(Passkey.from_item(from_attrs(i)) for i in page.get("Items", []))
        return sorted(found, key=lambda p: (p.created_at, p.credential_id))

    def add(self, passkey: Passkey) -> bool:
        try:
            with aws_errors("write passkey"):
                self._db.put_item(
                    TableName=self._table,
                    Item=to_attrs(passkey.to_item()),
                    ConditionExpression="attribute_not_exists(credential_id)",
                )
        except ConditionFailed:
            return False
        return True

    def record_use(
        self, credential_id: str, old_count: int, new_count: int, backed_up: bool, now: int
    ) -> bool:
        try:
            with aws_errors("record passkey use"):
                self._db.update_item(
                    TableName=self._table,
                    Key=_key(credential_id),
                    UpdateExpression="SET sign_count = :new, backed_up = :bs, last_used_at = :now",
                    ConditionExpression="attribute_exists(credential_id) AND sign_count = :old "
                    "AND (attribute_not_exists(suspended_at) OR suspended_at = :zero)",
                    ExpressionAttributeValues={
                        ":new": {"N": str(new_count)},
                        ":old": {"N": str(old_count)},
                        ":bs": {"BOOL": backed_up},
                        ":now": {"N": str(now)},
                        ":zero": {"N": "0"},
                    },
                )
        except ConditionFailed:
            return False
        return True

    def suspend(self, credential_id: str, now: int) -> None:
        try:
            with aws_errors("suspend passkey"):
                self._db.update_item(
                    TableName=self._table,
                    Key=_key(credential_id),
                    UpdateExpression="SET suspended_at = :now",
                    ConditionExpression="attribute_exists(credential_id)",
                    ExpressionAttributeValues={":now": {"N": str(now)}},
                )
        except ConditionFailed:
            return  # removed meanwhile: nothing left to refuse

    def remove(self, credential_id: str, sub: str) -> bool:
        try:
            with aws_errors("remove passkey"):
                self._db.delete_item(
                    TableName=self._table,
                    Key=_key(credential_id),
                    ConditionExpression="#sub = :sub",
                    ExpressionAttributeNames={"#sub": "sub"},
                    ExpressionAttributeValues={":sub": {"S": sub}},
                )
        except ConditionFailed:
            return False
        return True
