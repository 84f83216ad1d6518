"""DynamoDB adapters (boto3's low-level client; no resource layer on the hot path)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from oauth_core.emails import EMAIL_KEY_ATTRIBUTE, verified_email
from oauth_core.models import Client, User
from oauth_core.storage.aws import aws_errors, client
from oauth_core.tables import USERS_BY_EMAIL

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attrs(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in attrs.items()}


class DynamoClientStore:
    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")

    def get(self, client_id: str) -> Client | None:
        with aws_errors("read client"):
            response = self._db.get_item(
                TableName=self._table,
                Key={"client_id": {"S": client_id}},
                ConsistentRead=True,
            )
        item = response.get("Item")
        return Client.from_item(from_attrs(item)) if item else None

    def put(
        self, client_record: Client, *, must_not_exist: bool = False, replacing: str | None = None
    ) -> None:
        extra: dict[str, Any] = {}
        if must_not_exist:
            extra["ConditionExpression"] = "attribute_not_exists(client_id)"
        elif replacing is not None:
            extra["ConditionExpression"] = "registration_id = :registration"
            extra["ExpressionAttributeValues"] = {":registration": {"S": replacing}}
        with aws_errors("write client"):
            self._db.put_item(
                TableName=self._table, Item=to_attrs(client_record.to_item()), **extra
            )

    def delete(self, client_id: str) -> bool:
        with aws_errors("delete client"):
            response = self._db.delete_item(
                TableName=self._table,
                Key={"client_id": {"S": client_id}},
                ReturnValues="ALL_OLD",
            )
        return "Attributes" in response

    def list(self) -> list[Client]:
        clients: list[Client] = []
        with aws_errors("list clients"):
            for page in self._db.get_paginator("scan").paginate(TableName=self._table):
                clients.extend(Client.from_item(from_attrs(i)) for i in page.get("Items", []))
        return sorted(clients, key=lambda c: c.client_id)


class DynamoUserStore:
    def __init__(self, table_name: str, dynamodb: Any = None):
        self._table = table_name
        self._db = dynamodb or client("dynamodb")

    def get(self, username: str) -> User | None:
        with aws_errors("read user"):
            response = self._db.get_item(
                TableName=self._table, Key={"username": {"S": username}}, ConsistentRead=True
            )
        item = response.get("Item")
        return User.from_item(from_attrs(item)) if item else None

    def put(self, user: User, *, must_not_exist: bool = False) -> None:
        extra: dict[str, Any] = {}
        if must_not_exist:
            extra["ConditionExpression"] = "attribute_not_exists(username)"
        item = user.to_item()
        # The by-email index holds verified addresses only (oauth_core.tables).
        item[EMAIL_KEY_ATTRIBUTE] = verified_email(user.claims)
        with aws_errors("write user"):
            self._db.put_item(TableName=self._table, Item=to_attrs(item), **extra)

    def users_with_email(self, email: str) -> list[User]:
        with aws_errors("find users by e-mail"):
            response = self._db.query(
                TableName=self._table,
                IndexName=USERS_BY_EMAIL.name,
                KeyConditionExpression="#key = :email",
                ExpressionAttributeNames={"#key": EMAIL_KEY_ATTRIBUTE},
                ExpressionAttributeValues={":email": {"S": email}},
                Limit=10,
            )
        users = [User.from_item(from_attrs(item)) for item in response.get("Items", [])]
        return sorted(users, key=lambda user: user.username)

    def delete(self, username: str) -> bool:
        with aws_errors("delete user"):
            response = self._db.delete_item(
                TableName=self._table, Key={"username": {"S": username}}, ReturnValues="ALL_OLD"
            )
        return "Attributes" in response

    def page(self, limit: int, after: str | None = None) -> tuple[list[User], str | None]:
        """A scan page (a table scan is in key-hash order, not by name: `after` is where the
        scan stopped, which is what a next page needs)."""
        extra: dict[str, Any] = {}
        if after:
            extra["ExclusiveStartKey"] = {"username": {"S": after}}
        with aws_errors("list users"):
            response = self._db.scan(TableName=self._table, Limit=limit, **extra)
        users = [User.from_item(from_attrs(i)) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return users, (last["username"]["S"] if last else None)

    def list(self) -> list[User]:
        users: list[User] = []
        with aws_errors("list users"):
            for page in self._db.get_paginator("scan").paginate(TableName=self._table):
                users.extend(User.from_item(from_attrs(i)) for i in page.get("Items", []))
        return sorted(users, key=lambda u: u.username)
