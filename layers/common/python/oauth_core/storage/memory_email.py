"""In-memory stand-ins for sending e-mail and keeping the links it carries: the unit tests'
fakes (oauth_core.storage.ses and .dynamodb_email_links are the real ones)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from oauth_core.emails import EmailLink
from oauth_core.errors import StorageError


@dataclass(frozen=True)
class SentEmail:
    to: str
    subject: str
    text: str
    html: str


class MemoryMailer:
    """Keeps what it is asked to send; `failing` makes every send fail as SES might."""

    def __init__(self) -> None:
        self.sent: list[SentEmail] = []
        self.failing = False
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, text: str, html: str) -> None:
        if self.failing:
            raise StorageError("send e-mail: MessageRejected")
        with self._lock:
            self.sent.append(SentEmail(to, subject, text, html))

    def to(self, address: str) -> list[SentEmail]:
        return [message for message in self.sent if message.to == address]


class MemoryEmailLinkStore:
    """The same single use as the DynamoDB adapter, under one lock."""

    def __init__(self) -> None:
        self.links: dict[str, EmailLink] = {}
        self._lock = threading.Lock()

    def put_email_link(self, link: EmailLink) -> None:
        with self._lock:
            self.links[link.link_hash] = link

    def get_email_link(self, link_hash: str, now: int) -> EmailLink | None:
        link = self.links.get(link_hash)
        return link if link is not None and link.expires_at > now else None

    def take_email_link(self, link_hash: str, purpose: str, now: int) -> EmailLink | None:
        with self._lock:
            link = self.links.get(link_hash)
            if link is None or link.purpose != purpose or link.expires_at <= now:
                return None
            del self.links[link_hash]
            return link
