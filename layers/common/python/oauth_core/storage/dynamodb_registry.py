"""The registry table: the catalog (oauth_core.catalog) in one partition, one item per
definition (`<kind>#<name>`), so one Query reads all of it."""

from __future__ import annotations

import builtins
from typing import Any

from oauth_core.catalog import KINDS, Catalog, Definition
from oauth_core.ports import D
from oauth_core.storage.aws import aws_errors, client
from oauth_core.storage.dynamodb import from_attrs, to_attrs
from oauth_core.tables import REGISTRY

SECTION = "catalog"
_PARTITION = REGISTRY.partition_key
_SORT = REGISTRY.sort_key or "entry"


def _key(kind: str, name: str) -> dict[str, Any]:
    return {_PARTITION: {"S": SECTION}, _SORT: {"S": f"{kind}#{name}"}}


def _definition(item: dict[str, Any]) -> Definition | None:
    data = from_attrs(item)
    kind = KINDS.get(str(data.get(_SORT, "")).split("#", 1)[0])
    return kind.from_item(data) if kind else None


class DynamoCatalogStore:
    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")

    def get(self, kind: type[D], name: str) -> D | None:
        with aws_errors(f"read {kind.KIND}"):
            response = self._db.get_item(
                TableName=self._table, Key=_key(kind.KIND, name), ConsistentRead=True
            )
        item = response.get("Item")
        found = _definition(item) if item else None
        return found if isinstance(found, kind) else None

    def put(self, definition: Definition, *, must_not_exist: bool = False) -> None:
        extra: dict[str, Any] = {}
        if must_not_exist:
            extra["ConditionExpression"] = "attribute_not_exists(#entry)"
            extra["ExpressionAttributeNames"] = {"#entry": _SORT}
        item = {
            _PARTITION: SECTION,
            _SORT: f"{definition.KIND}#{definition.name}",
            **definition.to_item(),
        }
        with aws_errors(f"write {definition.KIND}"):
            self._db.put_item(TableName=self._table, Item=to_attrs(item), **extra)

    def delete(self, kind: type[Definition], name: str) -> bool:
        with aws_errors(f"delete {kind.KIND}"):
            response = self._db.delete_item(
                TableName=self._table, Key=_key(kind.KIND, name), ReturnValues="ALL_OLD"
            )
        return "Attributes" in response

    def list(self, kind: type[D]) -> list[D]:
        return sorted((d for d in self._all() if isinstance(d, kind)), key=lambda d: d.name)

    def catalog(self) -> Catalog:
        return Catalog.of(self._all())

    def _all(self) -> builtins.list[Definition]:
        with aws_errors("read the catalog"):
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="#section = :section",
                ExpressionAttributeNames={"#section": _PARTITION},
                ExpressionAttributeValues={":section": {"S": SECTION}},
                ConsistentRead=True,
            )
            found = (_definition(item) for page in pages for item in page.get("Items", []))
            return [d for d in found if d is not None]
