"""The local stack's e-mail: what the server sent through moto's SES, which keeps every message
instead of delivering it. For people (`python -m local_stack.mailbox`, with AWS_ENDPOINT_URL
set as the banner says) and for the tests, which follow the links in it.

Moto's server lists its models at /moto-api/data.json: the messages sent as raw MIME are its
SES `RawMessage`s, in the order they were sent.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import sys
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default


@dataclass(frozen=True)
class Mail:
    sender: str
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def parse(raw: str) -> Mail:
    message = email.message_from_string(raw, policy=default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return Mail(
        sender=str(message["From"]),
        to=str(message["To"]),
        subject=str(message["Subject"]),
        text=text.get_content() if text is not None else "",
        html=html.get_content() if html is not None else "",
        headers={name: str(value) for name, value in message.items()},
    )


def messages(aws_endpoint: str) -> list[Mail]:
    """Every message sent so far, oldest first."""
    url = f"{aws_endpoint.rstrip('/')}/moto-api/data.json"
    if not url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise ValueError("the mailbox is the local stack's: a loopback AWS endpoint")
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback, checked
        data = json.load(answer)
    return [parse(item["raw_data"]) for item in data.get("ses", {}).get("RawMessage", [])]


def to(aws_endpoint: str, address: str) -> list[Mail]:
    """The messages sent to one address, oldest first."""
    return [mail for mail in messages(aws_endpoint) if mail.to.lower() == address.lower()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_stack.mailbox", description=__doc__)
    parser.add_argument("--to", help="only the messages to this address")
    parser.add_argument("--last", type=int, default=5, help="how many (default 5, newest last)")
    args = parser.parse_args(argv)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        print("error: set AWS_ENDPOINT_URL as the local stack's banner says", file=sys.stderr)
        return 2
    found = to(endpoint, args.to) if args.to else messages(endpoint)
    for mail in found[-args.last :]:
        print(f"From: {mail.sender}\nTo: {mail.to}\nSubject: {mail.subject}\n\n{mail.text}")
        print("-" * 72)
    if not found:
        print("(no e-mail yet)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
