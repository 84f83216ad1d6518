"""The registry table: what operators declare, keyed by kind (`scope`) and name."""

from __future__ import annotations

from typing import Any

from oauth_core.scope_catalog import ScopeCatalog, ScopeDefinition
from oauth_core.storage.aws import aws_errors, client
from oauth_core.storage.dynamodb import from_attrs, to_attrs

SCOPE = "scope"


class DynamoScopeStore:
    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")

    def get(self, name: str) -> ScopeDefinition | None:
        with aws_errors("read scope"):
            response = self._db.get_item(
                TableName=self._table,
                Key=_key(name),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return ScopeDefinition.from_item(from_attrs(item)) if item else None

    def put(self, scope: ScopeDefinition, *, must_not_exist: bool = False) -> None:
        extra: dict[str, Any] = {}
        if must_not_exist:
            extra["ConditionExpression"] = "attribute_not_exists(#name)"
            extra["ExpressionAttributeNames"] = {"#name": "name"}
        item = {"kind": SCOPE, **scope.to_item()}
        with aws_errors("write scope"):
            self._db.put_item(TableName=self._table, Item=to_attrs(item), **extra)

    def delete(self, name: str) -> bool:
        with aws_errors("delete scope"):
            response = self._db.delete_item(
                TableName=self._table,
                Key=_key(name),
                ReturnValues="ALL_OLD",
            )
        return "Attributes" in response

    def list(self) -> list[ScopeDefinition]:
        scopes: list[ScopeDefinition] = []
        with aws_errors("list scopes"):
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="kind = :kind",
                ExpressionAttributeValues={":kind": {"S": SCOPE}},
            )
            for page in pages:
                scopes.extend(ScopeDefinition.from_item(from_attrs(i)) for i in page["Items"])
        return sorted(scopes, key=lambda scope: scope.name)

    def catalog(self) -> ScopeCatalog:
        return ScopeCatalog.of(self.list())


def _key(name: str) -> dict[str, Any]:
    return {"kind": {"S": SCOPE}, "name": {"S": name}}
