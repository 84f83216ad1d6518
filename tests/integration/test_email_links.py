"""The DynamoDB and SES adapters of recovery by e-mail, against moto: a link is used once by a
conditional delete, not after it expires, not for another purpose (parallel takes: the unit
tests' and the local stack's, since moto in-process is not thread-safe); the by-email index
holds verified addresses only; SES is handed one MIME message with a text and an HTML part."""

from __future__ import annotations

import email
from email.message import Message

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from oauth_core.admin.users import UserDirectory
from oauth_core.clock import FixedClock
from oauth_core.config import Settings
from oauth_core.emails import RESET, VERIFY, EmailLink
from oauth_core.errors import StorageError
from oauth_core.storage.dynamodb import DynamoUserStore
from oauth_core.storage.dynamodb_email_links import DynamoEmailLinkStore
from oauth_core.storage.ses import SesMailer

NOW = 1_700_000_000
SENDER = "no-reply@example.com"


def link(link_hash: str = "h" * 64, purpose: str = RESET, expires_at: int = NOW + 900) -> EmailLink:
    return EmailLink(
        link_hash=link_hash,
        purpose=purpose,
        email="ann@example.org",
        expires_at=expires_at,
        username="ann",
        sub="sub-1",
        binding="b" * 32,
    )


@pytest.fixture
def store(aws: Settings) -> DynamoEmailLinkStore:
    return DynamoEmailLinkStore(aws.grants_table)


def test_r2_a_link_is_taken_once_and_only_for_its_purpose(store: DynamoEmailLinkStore) -> None:
    store.put_email_link(link())
    assert store.get_email_link("h" * 64, NOW) == link()
    assert store.take_email_link("h" * 64, VERIFY, NOW) is None  # another purpose: kept
    assert store.take_email_link("h" * 64, RESET, NOW) == link()
    assert store.take_email_link("h" * 64, RESET, NOW) is None
    assert store.get_email_link("h" * 64, NOW) is None


def test_r2_an_expired_link_is_not_taken_while_its_item_still_exists(
    store: DynamoEmailLinkStore,
) -> None:
    store.put_email_link(link(expires_at=NOW + 900))
    assert store.get_email_link("h" * 64, NOW + 900) is None
    assert store.take_email_link("h" * 64, RESET, NOW + 900) is None


def test_r2_the_item_holds_the_hash_and_expires_by_ttl(aws: Settings) -> None:
    DynamoEmailLinkStore(aws.grants_table).put_email_link(link())
    item = boto3.client("dynamodb").get_item(
        TableName=aws.grants_table, Key={"pk": {"S": "mail#" + "h" * 64}}
    )["Item"]
    assert item["purge_at"] == {"N": str(NOW + 900)}
    assert item["purpose"] == {"S": RESET}


def test_r5_the_by_email_index_holds_verified_addresses_only(aws: Settings) -> None:
    users = DynamoUserStore(aws.users_table)
    directory = UserDirectory(users, FixedClock())
    directory.create(
        "ann", "ann's password 1", {"email": "Ann@Example.org", "email_verified": True}
    )
    directory.create("bea", "bea's password 1", {"email": "bea@example.org"})
    assert [u.username for u in users.users_with_email("ann@example.org")] == ["ann"]
    assert users.users_with_email("bea@example.org") == []
    directory.update("ann", {"email": "ann@elsewhere.example"})  # unverified now
    assert users.users_with_email("ann@example.org") == []
    assert users.users_with_email("ann@elsewhere.example") == []


def sent_message() -> Message:
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return email.message_from_string(backend.sent_messages[-1].raw_data)


def test_ses_gets_one_message_with_a_text_and_an_html_part(aws: Settings) -> None:
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    mailer = SesMailer(f"Example <{SENDER}>")
    mailer.send("ann@example.org", "Reset your password", "the text", "<p>the html</p>")
    message = sent_message()
    assert message["From"] == f"Example <{SENDER}>"
    assert message["To"] == "ann@example.org"
    assert message["Subject"] == "Reset your password"
    assert message["Auto-Submitted"] == "auto-generated"
    parts = {part.get_content_type(): part.get_payload(decode=True) for part in message.walk()}
    assert parts["text/plain"] == b"the text\r\n"
    assert parts["text/html"] == b"<p>the html</p>\r\n"


def test_ses_refusing_the_sender_is_a_storage_error(aws: Settings) -> None:
    with pytest.raises(StorageError):
        SesMailer("not-verified@example.net").send("ann@example.org", "s", "t", "<p>h</p>")
