"""Sending e-mail with Amazon SES (API v2, SendEmail): the Mailer port.

The message is built here as MIME (plain text with an HTML alternative) and handed to SES as
raw content, so what SES sends is exactly what this module wrote: no tracking pixel, no
rewritten link (SES adds them only to messages of a configuration set with open or click
tracking on; docs/deploy.md says to leave it off). The SES client is created on the first
message, so a container that sends none (most sign-in pages) never loads it.
"""

from __future__ import annotations

from typing import Any

from oauth_core.storage.aws import aws_errors, client


class SesMailer:
    def __init__(self, sender: str, configuration_set: str | None = None, sesv2: Any = None):
        """`sender`: the From header, an address an SES identity covers, with or without a
        display name ("Example <no-reply@example.com>")."""
        self._sender = sender
        self._from_address = address_of(sender)
        self._configuration_set = configuration_set
        self._ses = sesv2

    def send(self, to: str, subject: str, text: str, html: str) -> None:
        message = mime_message(self._sender, to, subject, text, html)
        request: dict[str, Any] = {
            "FromEmailAddress": self._from_address,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": message}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        self._ses = self._ses or client("sesv2")
        with aws_errors("send e-mail"):
            self._ses.send_email(**request)


def address_of(sender: str) -> str:
    """The address of a From value, with or without a display name (no `email.utils`: the
    e-mail modules load only when a message is built)."""
    if "<" in sender:
        return sender.rpartition("<")[2].partition(">")[0].strip()
    return sender.strip()


def mime_message(sender: str, to: str, subject: str, text: str, html: str) -> bytes:
    """One message: headers, the text part, the HTML part (multipart/alternative)."""
    # Imported here: tens of milliseconds a container pays only when it sends.
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import formatdate, make_msgid

    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=address_of(sender).rpartition("@")[2] or None)
    # Mail that is sent by a program, not a person: auto-responders should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()
