"""Demo data for `storefront demo` / `make run`: loaded once, printed on the console."""

from __future__ import annotations

from sqlalchemy import select

from .accounts import service as accounts
from .accounts.models import User
from .extensions import db

DEMO_USERS = (
    ("admin", "admin@example.com", "demo-admin-password", "admin"),
    ("staff", "staff@example.com", "demo-staff-password", "staff"),
    ("customer", "customer@example.com", "demo-customer-password", "customer"),
)


def load_demo_data() -> list[tuple[str, str, str, str]]:
    """Create the demo accounts that are missing; returns every demo login."""
    for username, email, password, role in DEMO_USERS:
        if db.session.scalar(select(User).where(User.username == username)) is None:
            accounts.create_user(username, email, password, role=role, confirmed=True)
    return list(DEMO_USERS)
