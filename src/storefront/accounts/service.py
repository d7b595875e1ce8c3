"""Account rules: registration, credentials, profile changes. No `request` in here."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..apikit import ApiError
from ..extensions import db
from .models import User

#: Stand-in verified against when the account does not exist, so timing reveals nothing.
_DUMMY_PASSWORD = "not-a-real-password-only-for-timing"  # noqa: S105


class Conflict(ApiError):
    status = 409


def password_hasher() -> PasswordHasher:
    """The argon2id hasher with this app's cost parameters (cached per app)."""
    hasher = current_app.extensions.get("storefront.hasher")
    if hasher is None:
        cfg = current_app.config
        hasher = PasswordHasher(
            time_cost=cfg["PASSWORD_HASH_TIME_COST"],
            memory_cost=cfg["PASSWORD_HASH_MEMORY_COST"],
            parallelism=cfg["PASSWORD_HASH_PARALLELISM"],
        )
        current_app.extensions["storefront.hasher"] = hasher
        current_app.extensions["storefront.dummy_hash"] = hasher.hash(_DUMMY_PASSWORD)
    return hasher


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def check_password(user: User | None, password: str) -> bool:
    """True when `password` is the user's; costs one argon2 verify even without a user.

    A hash made with older cost parameters is upgraded on a successful check.
    """
    hasher = password_hasher()
    stored = user.password_hash if user else current_app.extensions["storefront.dummy_hash"]
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None:
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.session.commit()
    return True


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_by_login(login: str) -> User | None:
    """The user whose username, or email when `login` has an @, is `login`."""
    if "@" in login:
        return db.session.scalar(select(User).where(User.email == normalize_email(login)))
    return db.session.scalar(select(User).where(User.username == login))


def _ensure_free(username: str | None = None, email: str | None = None) -> None:
    if username is not None and db.session.scalar(
        select(func.count()).select_from(User).where(User.username == username)
    ):
        raise Conflict("That username is taken.", fields={"username": "already taken"})
    if email is not None and db.session.scalar(
        select(func.count()).select_from(User).where(User.email == email)
    ):
        raise Conflict("That email is already registered.", fields={"email": "already registered"})


def create_user(
    username: str, email: str, password: str, *, role: str = "customer", confirmed: bool = False
) -> User:
    """Create an account; 409 when the username or email is taken."""
    email = normalize_email(email)
    _ensure_free(username=username, email=email)
    user = User(
        username=username,
        email=email,
        password_hash=hash_password(password),
        role=role,
        confirmed=confirmed,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("That username or email is taken.") from None
    return user


def authenticate(login: str, password: str) -> User | None:
    """The user these credentials belong to, or None (same cost either way)."""
    user = find_by_login(login)
    return user if check_password(user, password) else None


def update_user(
    user: User,
    *,
    acting: User,
    email: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
    role: str | None = None,
) -> User:
    """Change email, password or role; only admins change roles or skip `current_password`."""
    acting_is_admin = acting.role == "admin"
    if role is not None and not acting_is_admin:
        raise ApiError("Only an admin can change roles.", status=403)
    needs_current = password is not None and not (acting_is_admin and acting.id != user.id)
    if needs_current and (current_password is None or not check_password(user, current_password)):
        raise ApiError(
            "The current password is wrong.",
            fields={"current_password": "does not match your password"},
        )
    if email is not None:
        email = normalize_email(email)
        if email != user.email:
            _ensure_free(email=email)
            user.email = email
    if password is not None:
        user.password_hash = hash_password(password)
    if role is not None:
        user.role = role
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("That email is already registered.") from None
    return user


def delete_user(user: User) -> None:
    db.session.delete(user)
    db.session.commit()
