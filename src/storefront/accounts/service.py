"""Account rules: registration, confirmation, credentials, reset, profile changes.

No `request` in here: the routes pass plain values in and shape the answers.
"""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from limits import parse
from sqlalchemy import Select, case, func, inspect, select, update
from sqlalchemy.exc import IntegrityError

from .. import mail
from ..apikit import ApiError, Conflict
from ..auth import STAFF_ROLES
from ..extensions import (
    begin_write_transaction,
    commits_keep_what_was_read,
    db,
    delete_row,
    limiter,
    utcnow,
)
from ..sessions import end_current_session, end_user_sessions, start_user_session
from .models import User
from .passwords import canonical_password, check_password_policy
from .tokens import Purpose, TokenError, make_token, new_nonce, read_token

#: Stand-in verified against when the account does not exist, so timing reveals nothing.
_DUMMY_PASSWORD = "not-a-real-password-only-for-timing"  # noqa: S105


class WrongPassword(ApiError):
    """The `current_password` given with a change is not the user's."""


class NotConfirmed(ApiError):
    """Right credentials, but the email address has not been confirmed yet."""

    status = 403


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
    return password_hasher().hash(canonical_password(password))


def check_password(user: User | None, password: str) -> bool:
    """True when `password` is the user's; costs one argon2 verify even without a user."""
    return _verified_hash(user, password) is not None


def _verified_hash(user: User | None, password: str) -> str | None:
    """The user's stored hash when `password` matches it, else None.

    The password is checked in its canonical (NFKC) form, and, when that differs, as it
    was typed, which is how hashes made before passwords were normalised hold it: one or
    two argon2 verifies, by the text only, so an unknown user still costs what a known one
    does.
    A hash made with older cost parameters, or of a password not yet normalised, is
    upgraded first (unless the password changed meanwhile) and the upgraded one returned.
    The open transaction is ended before the deliberately slow verify, so no database lock
    (SQLite's single writer above all) is held while it runs.
    """
    hasher = password_hasher()
    stored = user.password_hash if user else current_app.extensions["storefront.dummy_hash"]
    user_id = user.id if user else None
    db.session.commit()
    canonical = canonical_password(password)
    matched = None
    for candidate in dict.fromkeys((canonical, password)):
        try:
            hasher.verify(stored, candidate)
        except (VerificationError, InvalidHashError):
            continue
        matched = candidate
        break
    if matched is None or user_id is None:
        return None
    if matched == canonical and not hasher.check_needs_rehash(stored):
        return stored
    upgraded = hasher.hash(canonical)
    changed = db.session.execute(
        update(User)
        .where(User.id == user_id, User.password_hash == stored)
        .values(password_hash=upgraded)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return upgraded if changed else None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _same_username(username: str):
    """Usernames are one name regardless of case; this is the unique index's expression."""
    return func.lower(User.username) == username.lower()


def visible_user(viewer: User, user_id: int) -> User | None:
    """The account if `viewer` may see it (their own, or any for an admin); None otherwise,
    so that another's account looks as absent as one that never was."""
    user = db.session.get(User, user_id)
    if user is None or (viewer.id != user.id and viewer.role != "admin"):
        return None
    return user


def accounts_oldest_first() -> Select:
    """Every account, in the order they were made."""
    return select(User).order_by(User.id)


def find_by_email(email: str) -> User | None:
    """The user whose address is `email`, in any case, with spaces around it ignored."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def find_by_login(login: str) -> User | None:
    """The user whose username (in any case), or email when `login` has an @, is `login`.

    Spaces around it are ignored for both, as autocomplete leaves them; no name holds one.
    """
    login = login.strip()
    if "@" in login:
        return find_by_email(login)
    return db.session.scalar(select(User).where(_same_username(login)))


def _ensure_free(username: str | None = None, email: str | None = None) -> None:
    if username is not None and db.session.scalar(
        select(func.count()).select_from(User).where(_same_username(username))
    ):
        raise Conflict("That username is taken.", fields={"username": "already taken"})
    if email is not None and db.session.scalar(
        select(func.count()).select_from(User).where(User.email == email)
    ):
        raise Conflict("That email is already registered.", fields={"email": "already registered"})


def create_user(
    username: str, email: str, password: str, *, role: str = "customer", confirmed: bool = False
) -> User:
    """Create an account; 409 when taken, 400 when the password policy refuses it.

    An unconfirmed account is sent a confirmation link right away.
    """
    email = normalize_email(email)
    check_password_policy(password, username=username, email=email)
    password_hash = hash_password(password)  # before any query: not inside a write lock
    _ensure_free(username=username, email=email)
    user = User(
        username=username,
        email=email,
        password_hash=password_hash,
        role=role,
        confirmed=confirmed,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _ensure_free(username=username, email=email)  # now sees the other writer's account
        raise
    if not confirmed:
        send_confirmation(user)
    return user


def _link(path: str, token: str) -> str:
    """An absolute link built from `PUBLIC_BASE_URL`, never from the request's Host header."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/{path}/{token}"


def _render_mail(name: str, **context: Any) -> str:
    """A mail template filled with `context` alone.

    Not `render_template`: its context processors read the requester's session, which
    marks the answer `Vary: Cookie`, so a reset or resend request for an address with an
    account would answer with one header more than for an unknown address.
    """
    return current_app.jinja_env.get_template(name).render(**context)


def _mail(to: str, template: str, subject: str, **context: Any) -> None:
    """Queue a mail whose text and HTML parts are the two `mail/<template>` files."""
    mail.queue_email(
        to,
        subject,
        _render_mail(f"mail/{template}.txt", **context),
        _render_mail(f"mail/{template}.html", **context),
    )


def _lifetime(seconds: int) -> str:
    """How long a link lasts, in words: "24 hours", "1 hour", "90 minutes", "30 seconds"."""
    unit, size = next(
        ((unit, size) for unit, size in (("hour", 3600), ("minute", 60)) if seconds % size == 0),
        ("second", 1),
    )
    count = seconds // size
    return f"{count} {unit}" + ("" if count == 1 else "s")


def _mail_link(user: User, template: str, subject: str, link: str) -> None:
    lifetime = _lifetime(current_app.config["ACCOUNT_TOKEN_MAX_AGE_SECONDS"])
    _mail(user.email, template, subject, user=user, link=link, lifetime=lifetime)


def send_confirmation(user: User) -> None:
    """Mail a fresh confirmation link; any earlier link stops working."""
    user.confirm_nonce = new_nonce()
    db.session.commit()
    token = make_token(Purpose.CONFIRM, user.id, user.confirm_nonce)
    _mail_link(user, "confirm", "Confirm your Storefront account", _link("confirm", token))


def _mail_budget_left(address: str) -> bool:
    """Whether `address` may get one more requested link (`RATELIMIT_MAIL_PER_ADDRESS`).

    Asking for a reset or confirmation link answers 202 whoever asks, for any address; past
    this many links to one address in the window nothing more is sent (the last link keeps
    working), so requests from many places cannot flood one inbox, and the answer still
    tells nothing.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    budget = parse(current_app.config["RATELIMIT_MAIL_PER_ADDRESS"])
    return limiter.limiter.hit(budget, "account-mail", address)


def resend_confirmation(email: str) -> None:
    """Send a new link if `email` belongs to an unconfirmed account; silent otherwise."""
    user = find_by_email(email)
    if user is not None and not user.confirmed and _mail_budget_left(user.email):
        send_confirmation(user)


#: A token that is genuine and unexpired, but no longer its account's: used, or superseded.
LINK_USED = "This link has already been used or a newer one was sent."


def _use_token(purpose: Purpose, token: str, nonce_column, **changes) -> User:
    """Check `token` and apply `changes` to its user in one conditional UPDATE.

    The UPDATE only matches while the user's nonce is still the token's, and clears it,
    so of two concurrent uses exactly one succeeds and a used link never works again.
    """
    user_id, nonce = read_token(purpose, token)
    result = db.session.execute(
        update(User)
        .where(User.id == user_id, nonce_column.is_not(None), nonce_column == nonce)
        .values({nonce_column.key: None, **changes})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise TokenError(LINK_USED)
    db.session.commit()
    user = db.session.get(User, user_id)
    assert user is not None
    db.session.refresh(user)
    return user


def confirm_email(token: str) -> User:
    """Confirm the account a confirmation token was sent to; TokenError if it is no good.

    The email's link reaches this with a GET, which takes no write lock by itself.
    """
    begin_write_transaction()
    return _use_token(Purpose.CONFIRM, token, User.confirm_nonce, confirmed=True)


def _user_of_live_token(purpose: Purpose, token: str, nonce_column) -> User:
    """The user a still-usable token of `purpose` belongs to; TokenError if there is none.
    Nothing is written: `_use_token` uses a token up."""
    user_id, nonce = read_token(purpose, token)
    user = db.session.get(User, user_id)
    live = getattr(user, nonce_column.key) if user is not None else None
    if live is None or live != nonce:
        raise TokenError(LINK_USED)
    return user


def check_confirmation(token: str) -> None:
    """TokenError unless `token` would confirm its account now; nothing is written."""
    _user_of_live_token(Purpose.CONFIRM, token, User.confirm_nonce)


def confirmed_by(token: str) -> bool:
    """Whether `token` is a genuine, unexpired confirmation link of an account that is
    confirmed now, by this link or otherwise."""
    try:
        user_id, _nonce = read_token(Purpose.CONFIRM, token)
    except TokenError:
        return False
    user = db.session.get(User, user_id)
    return user is not None and user.confirmed


def request_password_reset(email: str) -> None:
    """Mail a reset link if `email` has an account; silent otherwise (no enumeration)."""
    user = find_by_email(email)
    if user is None or not _mail_budget_left(user.email):
        return
    user.reset_nonce = new_nonce()
    db.session.commit()
    token = make_token(Purpose.RESET, user.id, user.reset_nonce)
    _mail_link(user, "reset", "Reset your Storefront password", _link("reset", token))


def user_of_reset_token(token: str) -> User:
    """The user a still-usable reset token belongs to (the token is not used up)."""
    return _user_of_live_token(Purpose.RESET, token, User.reset_nonce)


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link; every session of that user ends.

    Following the link proves the mailbox is the user's, so it also confirms the account,
    and uses up any confirmation link: it has nothing left to do.
    """
    user_id, _nonce = read_token(Purpose.RESET, token)
    user = db.session.get(User, user_id)
    if user is None:
        raise TokenError("This link is invalid.")
    check_password_policy(password, username=user.username, email=user.email)
    user = _use_token(
        Purpose.RESET,
        token,
        User.reset_nonce,
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
        confirmed=True,
        confirm_nonce=None,
    )
    end_user_sessions(user.id)
    return user


def log_in(login: str, password: str) -> User | None:
    """Start a session for these credentials; None when they are wrong (same cost either way).

    Raises NotConfirmed for right credentials of an unconfirmed account while
    `REQUIRE_EMAIL_CONFIRMATION` is on; wrong credentials never reveal that state.
    A password changed while the login was being checked voids it: the session is
    registered first and the password read again after, so either the change ends this
    session with the others, or this login sees the change and ends its own.
    """
    user = find_by_login(login)
    confirmed = user is not None and user.confirmed
    verified = _verified_hash(user, password)
    if user is None or verified is None:
        return None
    if current_app.config["REQUIRE_EMAIL_CONFIRMATION"] and not confirmed:
        raise NotConfirmed(
            "Confirm your email address before logging in: follow the link we sent you, "
            "or ask for a new one (POST /api/confirm/resend, or the page /confirm/resend)."
        )
    user_id = inspect(user).identity[0]  # the row may be gone by now: do not load it
    with commits_keep_what_was_read():
        start_user_session(user_id)
    current = db.session.scalar(select(User.password_hash).where(User.id == user_id))
    if current != verified:
        end_current_session()
        return None
    return user


def update_user(
    user: User,
    *,
    acting: User,
    email: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
    role: str | None = None,
    keep_session_id: int | None = None,
) -> User:
    """Change email, password or role; only admins change roles or skip `current_password`.

    `current_password` is the acting user's: needed for a new password (unless an admin
    sets someone else's), and checked whenever it is given, so a wrong one is never
    ignored. A new password ends every session of the user except `keep_session_id` (the
    caller's). A new email address is told to the old one, so an owner learns of a change
    they did not make (someone holding their session could otherwise take the account
    quietly).
    """
    user_id = user.id  # before the password check's commit expires the row
    acting_is_admin = acting.role == "admin"
    if role is not None and not acting_is_admin:
        raise ApiError("Only an admin can change roles.", status=403)
    needs_current = password is not None and not (acting_is_admin and acting.id != user.id)
    if needs_current and current_password is None:
        raise ApiError(
            "Give your current password to set a new one.",
            fields={"current_password": "required to set a new password"},
        )
    if current_password is not None and not check_password(acting, current_password):
        raise WrongPassword(
            "The current password is wrong.",
            fields={"current_password": "does not match your password"},
        )
    if role is not None and role != "admin":
        keep_an_admin(user_id)
    user = hold_account(user_id)
    if user is None:
        raise ApiError("No such user.", status=404)
    old_email = user.email
    if email is not None:
        email = normalize_email(email)
        if email != user.email:
            _ensure_free(email=email)
            user.email = email
            user.confirm_nonce = None
            user.reset_nonce = None  # a link mailed to the old address must not outlive it
    if password is not None:
        check_password_policy(password, username=user.username, email=user.email)
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
        user.reset_nonce = None
    if role is not None:
        user.role = role
    with commits_keep_what_was_read():
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            _ensure_free(email=email)  # now sees the other writer's account
            raise
        if password is not None:
            end_user_sessions(user_id, keep_session_id=keep_session_id)
    if user.email != old_email:
        _mail(old_email, "email_changed", "Your Storefront email address changed", user=user)
    return user


def keep_an_admin(user_id: int) -> None:
    """A 409 when the account is the shop's last admin, about to be deleted or demoted:
    no one could then manage users and roles through the shop.

    The admins' rows are held until the transaction ends (PostgreSQL `FOR NO KEY UPDATE`,
    taken in id order), so two admins demoting each other at once cannot both succeed.
    """
    admins = db.session.scalars(
        select(User.id)
        .where(User.role == "admin")
        .order_by(User.id)
        .with_for_update(key_share=True)
    ).all()
    if admins == [user_id]:
        raise Conflict("This is the shop's last admin: make another admin first.")


def hold_account(user_id: int) -> User | None:
    """The account's row, held until the transaction ends; None once it has been deleted.

    Whatever changes the account or what hangs on it (its cart, its files) starts here, so
    those changes run one after the other and a concurrent delete waits for them, or they
    find the account gone, rather than write to rows that vanished. PostgreSQL
    `FOR NO KEY UPDATE`, which still lets rows that point at the user be written; on
    SQLite the write transaction already holds everything.
    """
    return db.session.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def hold_own_account(user: User) -> None:
    """Hold the logged-in user's account (`hold_account`) before changing what hangs on it
    (a cart, files): a 401 once the account has been deleted, as its sessions went with it.
    """
    user_id = inspect(user).identity[0]  # the row may be gone: do not load it
    if hold_account(user_id) is None:
        raise ApiError("Log in first.", status=401)


def delete_user(user: User, *, acting: User | None = None) -> None:
    """Delete the account; a 404 when another request deleted it first.

    Its sessions, cart and own files go with it, the files' bytes too once no other file
    shares them; its orders stay, without a buyer. The product pictures it uploaded are
    the shop's, not its own: they pass to another staff account (`_picture_heir`) instead
    of vanishing from the catalogue.
    """
    from ..media.service import delete_unreferenced, hand_over_pictures, referenced_keys

    user_id = user.id
    if user.role == "admin":
        keep_an_admin(user_id)
    if hold_account(user_id) is None:  # an upload of its own finishes first, or sees it gone
        db.session.rollback()
        raise ApiError("No such user.", status=404)
    hand_over_pictures(user_id, _picture_heir(user_id, acting))
    keys = referenced_keys(user_id)
    deleted = delete_row(user)
    db.session.commit()
    if not deleted:
        raise ApiError("No such user.", status=404)
    delete_unreferenced(keys)


def _picture_heir(user_id: int, acting: User | None) -> int | None:
    """Who keeps the product pictures of a deleted account: the admin or staff member
    deleting it, else the oldest other admin, else the oldest other staff member; None
    when there is no one left to keep them.

    The heir's row is kept from being deleted until the transaction ends (PostgreSQL
    `FOR KEY SHARE`), so the pictures are not handed to an account that is going.
    """
    acting_id = acting.id if acting is not None else None
    return db.session.scalar(
        select(User.id)
        .where(User.id != user_id, User.role.in_(STAFF_ROLES))
        .order_by(
            case((User.id == acting_id, 0), else_=1),
            case((User.role == "admin", 0), else_=1),
            User.id,
        )
        .limit(1)
        .with_for_update(read=True, key_share=True)
    )
