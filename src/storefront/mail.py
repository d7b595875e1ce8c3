"""Outgoing email: one `send_email()` over stdlib `smtplib`, or an outbox folder for local use.

With `SMTP_HOST` set, mail goes to that server (STARTTLS and login when configured). Without
it (the `make run` default) each message is written as an `.eml` file to `MAIL_OUTBOX_DIR`
and a log line names the file, so a local user can still open a confirmation link. Delivery
failures are logged and reported as `False`, never raised: callers keep their own work.

`queue_email()` hands delivery to one background thread (mail leaves in order), so a request
answers as fast whether or not it sent mail (no account enumeration by timing) and a slow
SMTP server slows nobody. Under `TESTING` it delivers before the request answers
(`MAIL_IN_BACKGROUND` off), so a test finds the mail as soon as it has the response.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app

log = logging.getLogger("storefront.mail")
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storefront-mail")
#: Each message queued and not yet sent, in the order queued, with what it is (for the log
#: should shutdown leave it unsent).
_pending: dict[Future, str] = {}
_pending_lock = threading.Lock()


def deliverable_address(address: str) -> str:
    """The address with its domain in ASCII (IDNA), the form every mail server reads:
    `ana@exämple.com` is sent to `ana@xn--exmple-cua.com`. A local part beyond ASCII
    (`josé@…`) stays, and needs a server that speaks SMTPUTF8."""
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address
    return checked.ascii_email or f"{checked.local_part}@{checked.ascii_domain}"


def plain_address(address: str) -> bool:
    """False for an address holding `=?`, which opens an RFC 2047 encoded word: a mail
    header decodes it, so the `To` line would name another mailbox, or none."""
    return "=?" not in address


def build_message(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    """A message with a plain-text body and, when given, an HTML alternative.

    An address that stays beyond ASCII, the recipient's or the sender's, is written as UTF-8
    (RFC 6531): the default policy would encode it as an RFC 2047 word, which is no address
    at all (a name beyond ASCII beside an ASCII address is such a word, as it may be).
    ValueError when the `To` header would not name exactly `to`.
    """
    to = deliverable_address(to)
    sender = current_app.config["MAIL_FROM"]
    plain = to.isascii() and parseaddr(sender)[1].isascii()
    message = EmailMessage(policy=policy.default if plain else policy.SMTPUTF8)
    message["From"] = sender
    message["To"] = to
    if [address.addr_spec for address in message["To"].addresses] != [to]:
        raise ValueError(f"the To header would not name {to!r}")
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # Message-ID and MIME boundary from uuid4, not the stdlib's use of the global `random`
    # (whose state a background thread must not disturb, e.g. under hypothesis).
    message["Message-ID"] = f"<{uuid.uuid4().hex}@storefront.local>"
    # 8bit, not quoted-printable: a link stays on one line, whole, in the raw message too.
    message.set_content(text, cte="8bit")
    if html is not None:
        message.add_alternative(html, subtype="html")
        message.set_boundary(f"=={uuid.uuid4().hex}==")
    return message


def _deliver_smtp(message: EmailMessage) -> None:
    """Send to the one address of the `To` header, as `message` reads: `send_message` would
    write a line starting "From " in the text as ">From "."""
    cfg = current_app.config
    timeout = cfg["SMTP_TIMEOUT_SECONDS"]
    [recipient] = message["To"].addresses
    sender = message["From"].addresses[0].addr_spec
    international = not (recipient.addr_spec.isascii() and sender.isascii())
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=timeout) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls()
        if cfg["SMTP_USERNAME"]:
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"] or "")
        options = []
        if international:  # as `send_message` does
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("the server does not take SMTPUTF8 addresses")
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        wire = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        smtp.sendmail(sender, [recipient.addr_spec], wire, mail_options=options)


def _write_outbox(message: EmailMessage) -> Path:
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    # Named to sort in the order written; lines end as the folder's other files do.
    path = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S.%f}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes(policy=message.policy.clone(linesep="\n")))
    return path


def send_email(to: str, subject: str, text: str, html: str | None = None) -> bool:
    """Send one message; True when the SMTP server (or the outbox folder) took it."""
    try:
        message = build_message(to, subject, text, html)
    except ValueError as error:
        log.warning("mail to=%r subject=%r not sent: %s", to, subject, error)
        return False
    if not current_app.config.get("SMTP_HOST"):
        try:
            path = _write_outbox(message)
        except OSError as error:
            log.warning("mail to=%s subject=%r not written to the outbox: %s", to, subject, error)
            return False
        log.info("mail to=%s subject=%r written to %s (no SMTP_HOST set)", to, subject, path)
        return True
    try:
        _deliver_smtp(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail to=%s subject=%r not delivered: %s", to, subject, error)
        return False
    log.info("mail to=%s subject=%r sent", to, subject)
    return True


def _deliver_in_background(app: Flask, to: str, subject: str, text: str, html: str | None) -> bool:
    with app.app_context():
        return send_email(to, subject, text, html)


def queue_email(to: str, subject: str, text: str, html: str | None = None) -> Future:
    """Send one message from a background thread (at once while `MAIL_IN_BACKGROUND` is off);
    the future tells whether it went out."""
    if not current_app.config["MAIL_IN_BACKGROUND"]:
        sent: Future = Future()
        sent.set_result(send_email(to, subject, text, html))
        return sent
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    future = _executor.submit(_deliver_in_background, app, to, subject, text, html)
    with _pending_lock:
        _pending[future] = f"to={to} subject={subject!r}"
    future.add_done_callback(_forget)
    return future


def _forget(future: Future) -> None:
    """Drop a delivered message from the pending ones; a bug in delivery is logged, not lost
    in a future nobody reads."""
    with _pending_lock:
        _pending.pop(future, None)
    if not future.cancelled() and (error := future.exception()) is not None:
        log.error("mail delivery failed", exc_info=error)


def finish_queued_mail(timeout: float) -> None:
    """At shutdown: let queued mail go out for up to `timeout` seconds, then give up on the
    rest, naming each message left unsent in the log (the server would otherwise kill the
    process with them, silently). gunicorn calls this as a worker exits (`gunicorn_conf`)."""
    wait_for_queued_mail(timeout)
    with _pending_lock:
        unsent = list(_pending.items())
    for future, what in unsent:
        if future.cancel():
            log.warning("mail %s not sent: the server stopped before it went out", what)
        elif not future.done():
            log.warning("mail %s still going out as the server stops: it may be lost", what)


def wait_for_queued_mail(timeout: float = 30) -> None:
    """Block until every queued message has been delivered or has failed (tests, shutdown)."""
    with _pending_lock:
        pending = list(_pending)
    wait(pending, timeout=timeout)
