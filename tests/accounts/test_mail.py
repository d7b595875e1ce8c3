"""`send_email()`: real SMTP delivery, the outbox folder without SMTP, and failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from storefront.mail import finish_queued_mail, queue_email, send_email, wait_for_queued_mail
from storefront.testing.mail import SmtpServer, html_of, text_of


def test_mail_outbox_receives_text_and_html_over_smtp(app, mail_outbox):
    with app.app_context():
        assert send_email("ann@example.com", "Hello", "plain words", "<p>html words</p>")

    message = mail_outbox.last_to("ann@example.com")
    assert message["Subject"] == "Hello"
    assert message["From"] == app.config["MAIL_FROM"]
    assert "plain words" in text_of(message)
    assert "<p>html words</p>" in html_of(message)


def test_mail_outbox_waits_for_mail_sent_in_the_background(app, mail_outbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_IN_BACKGROUND", True)
    with app.app_context():
        queue_email("bob@example.com", "Later", "sent from a thread")

    assert [m["Subject"] for m in mail_outbox.to("bob@example.com")] == ["Later"]


def test_mail_outbox_starts_empty_and_finds_links(app, mail_outbox):
    assert mail_outbox.messages == []
    with app.app_context():
        send_email("cy@example.com", "Link", "Open http://shop.test/confirm/abc.def now.")

    message = mail_outbox.last_to("cy@example.com")
    assert mail_outbox.link_in(message, "/confirm/") == "http://shop.test/confirm/abc.def"
    assert mail_outbox.token_in(message, "/confirm/") == "abc.def"


def test_without_smtp_host_mail_is_written_to_the_outbox_folder_and_logged(
    app, tmp_path, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    caplog.set_level(logging.INFO, logger="storefront.mail")
    link = "http://127.0.0.1:5000/confirm/" + "t0ken-" * 30
    with app.app_context():
        assert send_email("dee@example.com", "Local", f"Open:\n{link}\n", "<p>link</p>")

    [eml] = (tmp_path / "outbox").glob("*.eml")
    content = eml.read_text()
    assert "To: dee@example.com" in content
    assert "Subject: Local" in content
    assert f"\n{link}\n" in content  # whole on one line: it can be copied from the file
    assert str(eml) in caplog.text


def test_an_address_beyond_ascii_is_written_to_the_outbox_as_an_address(app, tmp_path, monkeypatch):
    """As UTF-8 (RFC 6531) with the domain in ASCII; RFC 2047 words are no address."""
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    with app.app_context():
        assert send_email("josé@exämple.com", "Local", "words")

    [eml] = (tmp_path / "outbox").glob("*.eml")
    assert "To: josé@xn--exmple-cua.com\n" in eml.read_text(encoding="utf-8")


def test_an_outbox_that_cannot_be_written_loses_the_mail_not_the_registration(
    client, app, tmp_path, monkeypatch, caplog
):
    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the outbox folder should be")
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(blocked))
    user = {"username": "fay", "email": "fay@example.com", "password": "a-long-password"}

    response = client.post("/api/users", json=user)

    assert response.status_code == 201
    login = {"username": "fay", "password": "a-long-password"}
    assert client.post("/api/login", json=login).status_code == 403  # there, unconfirmed
    assert "not written to the outbox" in caplog.text


@contextmanager
def _mail_server(app, monkeypatch, handler) -> Iterator[None]:
    """A real SMTP server with `handler` for `app` to send to, while the block runs."""
    server = SmtpServer(handler)
    server.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", server.host)
    monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
    try:
        yield
    finally:
        server.stop()


class _RawMail:
    """An aiosmtpd handler keeping each message's bytes as they came over the wire."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(envelope.original_content)
        return "250 OK"


@pytest.mark.parametrize(
    ("sender", "written"),
    [
        ("Bücher <shop@bücher.de>", "From: Bücher <shop@bücher.de>\r\n"),
        ("Bücher <shop@example.com>", "From: =?utf-8?q?B=C3=BCcher?= <shop@example.com>\r\n"),
    ],
)
def test_a_sender_address_beyond_ascii_is_written_as_utf8_not_encoded_words(
    app, monkeypatch, sender, written
):
    """RFC 2047 words are no address (RFC 6532 writes it in UTF-8), whoever the mail is to;
    a name beside an ASCII address may be one, and the mail then stays ASCII."""
    raw = _RawMail()
    monkeypatch.setitem(app.config, "MAIL_FROM", sender)
    with _mail_server(app, monkeypatch, raw), app.app_context():
        assert send_email("ann@example.com", "Hello", "words")

    [message] = raw.received
    assert written.encode() in message
    assert message.isascii() is sender.split("@")[1].isascii()


class _SlowMail(_RawMail):
    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await asyncio.sleep(1)
        return await super().handle_DATA(server, session, envelope)


def test_mail_still_queued_when_the_server_stops_is_named_in_the_log(app, monkeypatch, caplog):
    """gunicorn gives a stopping worker 30 s: what cannot go out by then is not lost unseen."""
    slow = _SlowMail()
    monkeypatch.setitem(app.config, "MAIL_IN_BACKGROUND", True)
    with _mail_server(app, monkeypatch, slow):
        with app.app_context():
            for name in ("uma", "vic", "wes"):
                queue_email(f"{name}@example.com", "Welcome", "words")
        finish_queued_mail(timeout=0.5)
        wait_for_queued_mail()

    assert "mail to=wes@example.com subject='Welcome' not sent" in caplog.text
    assert len(slow.received) < 3


def test_a_failed_delivery_is_logged_and_reported_not_raised(app, mail_outbox, caplog):
    mail_outbox.stop()
    with app.app_context():
        assert send_email("eve@example.com", "Lost", "nobody listens") is False

    assert "not delivered" in caplog.text
    mail_outbox.start()
    assert mail_outbox.messages == []
