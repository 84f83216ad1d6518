"""Moto's server as the embedded AWS, and the resources infra/ would create, from the same specs."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterable
from email.utils import parseaddr
from typing import Any

from local_stack.gateway import host_and_port
from oauth_core.config import Settings
from oauth_core.keys import KeySet
from oauth_core.storage.secrets_manager import SecretsManagerKeyStore
from oauth_core.tables import ALL_TABLES, TableSpec

REGION = "us-east-1"


class _Serialized:
    """WSGI middleware: one AWS request at a time, so DynamoDB's conditional writes and
    transactions are atomic here as they are in AWS (moto's backends are not thread-safe)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        from moto.moto_server.threaded_moto_server import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
            make_server,
        )

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        app = _Serialized(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, port, app, True, request_handler=QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://{host_and_port(self._server.server_address)}"

    def start(self) -> MotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()


def use_local_aws(endpoint_url: str) -> None:
    """Point every boto3 client in this process at the local endpoint, with dummy credentials."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint_url
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])


def create_table(dynamodb: Any, spec: TableSpec, name: str) -> None:
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    attributes = {key["AttributeName"] for key in keys} | {i.partition_key for i in spec.indexes}
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": "S"} for attr in sorted(attributes)
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if spec.indexes:
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": index.projection},
            }
            for index in spec.indexes
        ]
    dynamodb.create_table(**kwargs)
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )


def create_request_sealing_secret(secretsmanager: Any, name: str) -> None:
    """A random secret, as CloudFormation generates the deployed stack's (infra/secrets.py)."""
    existing = {s["Name"] for s in secretsmanager.list_secrets().get("SecretList", [])}
    if name not in existing:
        secretsmanager.create_secret(Name=name, SecretString=secrets.token_urlsafe(48))


def verify_sender(sesv2: Any, sender: str) -> None:
    """The sender's address as a verified SES identity (the deployed stack's operator verifies
    theirs: docs/deploy.md); moto refuses mail from any other."""
    address = parseaddr(sender)[1]
    known = {i["IdentityName"] for i in sesv2.list_email_identities().get("EmailIdentities", [])}
    if address not in known:
        sesv2.create_email_identity(EmailIdentity=address)


def create_resources(settings: Settings, now: int) -> None:
    """Tables, secrets and the e-mail sender, as the deployed stack has them."""
    import boto3

    create_request_sealing_secret(boto3.client("secretsmanager"), settings.request_sealing_secret)
    if settings.email_sender:
        verify_sender(boto3.client("sesv2"), settings.email_sender)

    dynamodb = boto3.client("dynamodb")
    existing = set(dynamodb.list_tables().get("TableNames", []))
    for spec in ALL_TABLES:
        name = settings.table_name(spec.env_var)
        if name not in existing:
            create_table(dynamodb, spec, name)
    key_store = SecretsManagerKeyStore(settings.signing_keys_secret)
    try:
        key_store.load()
    except Exception:
        key_store.save(KeySet.initial(now))
