"""Links mailed to users (oauth_core.emails) in the grants table, as `mail#<SHA-256 of the
token>`: TTL removes them once expired (lazily, so every read checks the expiry itself), and a
link is used by one conditional delete that returns what it deleted, so it works once, in
whichever container (SECURITY R2, R5)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from oauth_core.emails import EmailLink
from oauth_core.errors import ConditionFailed
from oauth_core.storage.aws import aws_errors, client
from oauth_core.storage.dynamodb import from_attrs, to_attrs
from oauth_core.tables import GRANTS

TTL = GRANTS.ttl_attribute or "purge_at"
EMAIL_LINK_PREFIX = "mail#"


def _key(link_hash: str) -> dict[str, Any]:
    return {"pk": {"S": EMAIL_LINK_PREFIX + link_hash}}


def _link(data: dict[str, Any]) -> EmailLink:
    return EmailLink(
        link_hash=str(data["link_hash"]),
        purpose=str(data["purpose"]),
        email=str(data["email"]),
        expires_at=int(data["expires_at"]),
        username=str(data.get("username", "")),
        sub=str(data.get("sub", "")),
        binding=str(data.get("binding", "")),
        password_hash=str(data.get("password_hash", "")),
    )


class DynamoEmailLinkStore:
    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb

    def _client(self) -> Any:
        self._db = self._db or client("dynamodb")
        return self._db

    def put_email_link(self, link: EmailLink) -> None:
        item = {"pk": EMAIL_LINK_PREFIX + link.link_hash, TTL: link.expires_at, **asdict(link)}
        with aws_errors("write e-mail link"):
            self._client().put_item(TableName=self._table, Item=to_attrs(item))

    def get_email_link(self, link_hash: str, now: int) -> EmailLink | None:
        with aws_errors("read e-mail link"):
            response = self._client().get_item(
                TableName=self._table, Key=_key(link_hash), ConsistentRead=True
            )
        item = response.get("Item")
        if not item:
            return None
        link = _link(from_attrs(item))
        return link if link.expires_at > now else None

    def take_email_link(self, link_hash: str, purpose: str, now: int) -> EmailLink | None:
        try:
            with aws_errors("use e-mail link"):
                response = self._client().delete_item(
                    TableName=self._table,
                    Key=_key(link_hash),
                    ConditionExpression="attribute_exists(pk) AND #purpose = :purpose "
                    "AND #exp > :now",
                    ExpressionAttributeNames={"#purpose": "purpose", "#exp": "expires_at"},
                    ExpressionAttributeValues={
                        ":purpose": {"S": purpose},
                        ":now": {"N": str(now)},
                    },
                    ReturnValues="ALL_OLD",
                )
        except ConditionFailed:
            return None
        data = from_attrs(response.get("Attributes") or {})
        return _link(data) if data else None
