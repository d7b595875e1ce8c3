"""A real SMTP server for tests (aiosmtpd) and the outbox view the `mail_outbox` fixture gives.

Mail is delivered over a real socket by the shop's own `send_email()`, so a test sees what
a user's mailbox would: headers, the text and HTML parts, the links.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from storefront.mail import wait_for_queued_mail

_LINK = re.compile(r"https?://[^\s<>\"']+")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Collector:
    """aiosmtpd handler keeping every received message, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 at a fixed free port; can be stopped and started again.

    `handler` takes the place of the collector, for a test that must see the bytes as they
    came over the wire, or a server that is slow to answer.
    """

    def __init__(self, handler: Any = None) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.collector = _Collector()
        self._handler = handler or self.collector
        self._controller: Controller | None = None

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(
                self._handler, hostname=self.host, port=self.port, enable_SMTPUTF8=True
            )
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def text_of(message: EmailMessage) -> str:
    """The plain-text part of `message`."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_of(message: EmailMessage) -> str:
    """The HTML part of `message` ("" when it has none)."""
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


class MailOutbox:
    """What the SMTP server received during one test."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        server.start()
        with server.collector.lock:
            server.collector.messages.clear()

    @property
    def settings(self) -> dict[str, Any]:
        """App settings that send mail to this server."""
        return {
            "SMTP_HOST": self.server.host,
            "SMTP_PORT": self.server.port,
            "SMTP_STARTTLS": False,
            "SMTP_USERNAME": None,
            "SMTP_PASSWORD": None,
        }

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, once background deliveries have finished."""
        wait_for_queued_mail()
        with self.server.collector.lock:
            return list(self.server.collector.messages)

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to `address`, oldest first."""
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def last_to(self, address: str) -> EmailMessage:
        """The newest message to `address`; AssertionError when there is none."""
        received = self.to(address)
        if not received:
            raise AssertionError(f"no mail to {address}; received: {len(self.messages)}")
        return received[-1]

    @staticmethod
    def link_in(message: EmailMessage, path_part: str = "/") -> str:
        """The first link in the text part whose path contains `path_part`."""
        for link in _LINK.findall(text_of(message)):
            if path_part in urlsplit(link).path:
                return link
        raise AssertionError(f"no link containing {path_part!r} in:\n{text_of(message)}")

    @classmethod
    def token_in(cls, message: EmailMessage, path_part: str) -> str:
        """The token at the end of the link containing `path_part` (e.g. "/confirm/")."""
        return urlsplit(cls.link_in(message, path_part)).path.rsplit("/", 1)[-1]

    def last_token(self, address: str, path_part: str) -> str:
        """The token of the newest mail to `address` with a link containing `path_part`."""
        for message in reversed(self.to(address)):
            if any(path_part in urlsplit(link).path for link in _LINK.findall(text_of(message))):
                return self.token_in(message, path_part)
        raise AssertionError(f"no mail to {address} with a link containing {path_part!r}")

    def clear(self) -> None:
        wait_for_queued_mail()
        with self.server.collector.lock:
            self.server.collector.messages.clear()

    def stop(self) -> None:
        """Take the SMTP server down (deliveries fail until `start()`)."""
        wait_for_queued_mail()
        self.server.stop()

    def start(self) -> None:
        """Bring the SMTP server back on the same port."""
        self.server.start()

    def close(self) -> None:
        wait_for_queued_mail()
        self.server.start()


__all__ = ["MailOutbox", "SmtpServer", "html_of", "text_of"]
