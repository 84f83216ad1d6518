"""Identity links (an upstream provider's `iss` and `sub` -> a user here) in the grants table:
one item per link, `link#<SHA-256 of issuer and subject>`, so a federated sign-in finds its
account with one GetItem. Links carry `owner_sub`, so the owner index lists a user's links (the
account page); they never expire (no TTL attribute), like a user's state (`subject#<sub>`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from oauth_core.errors import ConditionFailed
from oauth_core.models import IdentityLink
from oauth_core.storage.aws import aws_errors, client
from oauth_core.storage.dynamodb import from_attrs, to_attrs
from oauth_core.tables import GRANTS_BY_OWNER

LINK_PREFIX = "link#"


def link_key(issuer: str, subject: str) -> str:
    """The item key of an identity: a hash, so any issuer and subject fit DynamoDB's key rules."""
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    return f"{LINK_PREFIX}{digest}"


def _link(item: dict[str, Any]) -> IdentityLink:
    data = from_attrs(item)
    return IdentityLink(
        issuer=str(data["issuer"]),
        subject=str(data["subject"]),
        provider=str(data.get("provider", "")),
        username=str(data["username"]),
        user_sub=str(data["owner_sub"]),
        created_at=int(data.get("created_at", 0)),
        created_account=bool(data.get("created_account", False)),
    )


class DynamoIdentityLinkStore:
    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")

    def get(self, issuer: str, subject: str) -> IdentityLink | None:
        with aws_errors("read identity link"):
            response = self._db.get_item(
                TableName=self._table,
                Key={"pk": {"S": link_key(issuer, subject)}},
                ConsistentRead=True,
            )
        item = response.get("Item")
        return _link(item) if item else None

    def put(self, link: IdentityLink, *, replacing: str | None = None) -> bool:
        condition = "attribute_not_exists(pk)"
        values: dict[str, Any] = {}
        if replacing is not None:
            condition += " OR owner_sub = :replaced"
            values[":replaced"] = {"S": replacing}
        item = {
            "pk": link_key(link.issuer, link.subject),
            "issuer": link.issuer,
            "subject": link.subject,
            "provider": link.provider,
            "username": link.username,
            "owner_sub": link.user_sub,  # the owner index lists a user's links
            "created_at": link.created_at,
            "created_account": link.created_account,
        }
        extra: dict[str, Any] = {"ConditionExpression": condition}
        if values:
            extra["ExpressionAttributeValues"] = values
        try:
            with aws_errors("write identity link"):
                self._db.put_item(TableName=self._table, Item=to_attrs(item), **extra)
        except ConditionFailed:
            return False
        return True

    def delete(self, issuer: str, subject: str) -> bool:
        with aws_errors("delete identity link"):
            response = self._db.delete_item(
                TableName=self._table,
                Key={"pk": {"S": link_key(issuer, subject)}},
                ReturnValues="ALL_OLD",
            )
        return "Attributes" in response

    def links_of(self, user_sub: str) -> list[IdentityLink]:
        with aws_errors("query identity links"):
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=GRANTS_BY_OWNER.name,
                KeyConditionExpression="#owner = :sub",
                ExpressionAttributeNames={"#owner": GRANTS_BY_OWNER.partition_key},
                ExpressionAttributeValues={":sub": {"S": user_sub}},
            )
            keys = [
                item["pk"]["S"]
                for page in pages
                for item in page.get("Items", [])
                if item["pk"]["S"].startswith(LINK_PREFIX)
            ]
        links = []
        for key in keys:  # the index lags the table: read each, keep those still there
            with aws_errors("read identity link"):
                found = self._db.get_item(
                    TableName=self._table, Key={"pk": {"S": key}}, ConsistentRead=True
                ).get("Item")
            if found and from_attrs(found).get("owner_sub") == user_sub:
                links.append(_link(found))
        return sorted(links, key=lambda link: (link.provider, link.created_at))
