"""Rules behind the plain pages."""

from __future__ import annotations

from ..extensions import db
from .models import ContactMessage


def save_contact_message(name: str, email: str, message: str) -> ContactMessage:
    """Store a message from the contact form."""
    record = ContactMessage(name=name.strip(), email=email.strip(), message=message or "")
    db.session.add(record)
    db.session.commit()
    return record
