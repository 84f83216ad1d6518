"""Federation's stores on DynamoDB and Secrets Manager (moto): identity links found by one
read of their issuer and subject, written once (a second writer is refused), listed per user;
the providers' client secrets each a secret of its own under the provider prefix (U4, U5)."""

from __future__ import annotations

import boto3

from oauth_core.config import Settings
from oauth_core.models import IdentityLink
from oauth_core.storage.dynamodb_links import DynamoIdentityLinkStore, link_key
from oauth_core.storage.secrets_manager import SecretsManagerProviderSecrets
from oauth_core.wiring import aws_components

ISSUER = "https://idp.example.org"


def test_u4_a_link_is_one_item_found_by_issuer_and_subject(aws: Settings) -> None:
    links = DynamoIdentityLinkStore(aws.grants_table)
    link = IdentityLink(ISSUER, "sub-1", "corp", "ann", "ann-sub", 100)
    assert links.put(link)
    assert links.get(ISSUER, "sub-1") == link
    # The same subject at another issuer is another identity.
    assert links.get("https://idp.example.org/other", "sub-1") is None
    assert links.get(ISSUER, "sub-2") is None
    item = boto3.client("dynamodb").get_item(
        TableName=aws.grants_table, Key={"pk": {"S": link_key(ISSUER, "sub-1")}}
    )["Item"]
    assert item["owner_sub"]["S"] == "ann-sub" and "purge_at" not in item  # never expires


def test_u4_a_linked_identity_is_not_linked_again_but_a_stale_link_is_replaced(
    aws: Settings,
) -> None:
    links = DynamoIdentityLinkStore(aws.grants_table)
    assert links.put(IdentityLink(ISSUER, "sub-1", "corp", "ann", "ann-sub"))
    assert not links.put(IdentityLink(ISSUER, "sub-1", "corp", "bob", "bob-sub"))
    assert not links.put(
        IdentityLink(ISSUER, "sub-1", "corp", "bob", "bob-sub"), replacing="someone-else"
    )
    assert links.put(IdentityLink(ISSUER, "sub-1", "corp", "ann", "ann-2"), replacing="ann-sub")
    found = links.get(ISSUER, "sub-1")
    assert found is not None and found.user_sub == "ann-2"


def test_a_users_links_are_listed_and_deleted(aws: Settings) -> None:
    links = DynamoIdentityLinkStore(aws.grants_table)
    links.put(IdentityLink(ISSUER, "sub-1", "corp", "ann", "ann-sub", 1))
    links.put(IdentityLink("https://other.example", "x", "other", "ann", "ann-sub", 2))
    links.put(IdentityLink(ISSUER, "sub-9", "corp", "bob", "bob-sub", 3))
    assert [link.provider for link in links.links_of("ann-sub")] == ["corp", "other"]
    assert links.delete(ISSUER, "sub-1")
    assert not links.delete(ISSUER, "sub-1")
    assert [link.provider for link in links.links_of("ann-sub")] == ["other"]
    # Disabling a user ends their grants and sessions by the same index: links stay.
    grants = aws_components(aws, cached=False).grants
    grants.revoke_families_of("ann-sub")
    assert [link.provider for link in links.links_of("ann-sub")] == ["other"]


def test_u5_each_providers_secret_is_a_secret_of_its_own_under_the_prefix(
    aws: Settings,
) -> None:
    secrets = SecretsManagerProviderSecrets(aws.provider_secret_prefix)
    assert secrets.client_secret("corp") is None
    secrets.set_client_secret("corp", "first")
    secrets.set_client_secret("corp", "second")
    assert secrets.client_secret("corp") == "second"
    names = [s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    assert f"{aws.provider_secret_prefix}corp" in names
    admin = aws_components(aws, cached=False).provider_admin
    admin.create(
        {
            "name": "corp2",
            "discovery_url": "https://idp2.example.org/.well-known/openid-configuration",
            "client_id": "ours",
        },
        "the secret",
    )
    registry = boto3.client("dynamodb").scan(TableName=aws.registry_table)["Items"]
    assert "the secret" not in str(registry) and "corp2" in str(registry)
    admin.delete("corp2")
    assert secrets.client_secret("corp2") is None
