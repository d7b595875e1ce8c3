"""Request and response shapes of the accounts API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr
from pydantic.networks import validate_email

from ..apikit import InputModel, OutputModel, Text, Timestamp, UpdateModel
from ..mail import plain_address

Username = Text(
    max_length=64,
    min_length=3,
    pattern=(r"^[A-Za-z0-9_.-]+$", "may hold only letters A-Z, digits, '.', '-' and '_'"),
)
Password = Text(max_length=256, min_length=1)
#: What a login names: a username or an email address.
LoginName = Text(max_length=254, min_length=1)


def _as_registered(text: str) -> str:
    """The address as registration stores it (Unicode NFC, the domain decoded, no display
    name), when the text is one; else the text, which then matches no account."""
    try:
        return validate_email(text)[1]
    except ValueError:
        return text


#: Text looked up as an account's email address, never mailed to as it was typed.
EmailLookup = Annotated[Text(max_length=254, min_length=1), AfterValidator(_as_registered)]
Role = Literal["customer", "staff", "admin"]


def _mailable(address: str) -> str:
    if not plain_address(address):
        raise ValueError("must not contain '=?' (mail would not reach it)")
    return address


#: An address an account's mail is sent to.
AccountEmail = Annotated[EmailStr, AfterValidator(_mailable)]


class UserCreate(InputModel):
    username: Username  # type: ignore[valid-type]
    email: AccountEmail
    password: Password  # type: ignore[valid-type]


class UserUpdate(UpdateModel):
    email: AccountEmail | None = None
    password: Password | None = None  # type: ignore[valid-type]
    current_password: Password | None = None  # type: ignore[valid-type]
    role: Role | None = None


class LoginIn(InputModel):
    username: LoginName  # type: ignore[valid-type]
    password: Password  # type: ignore[valid-type]


class UserOut(OutputModel):
    id: int
    username: str
    email: str
    role: str
    confirmed: bool
    created_at: Timestamp


class MessageWithUserOut(OutputModel):
    """A login's or a confirmation's answer: what happened, and to whom."""

    message: str
    user: UserOut


class MessageOut(OutputModel):
    message: str


Token = Text(max_length=512, min_length=1)


class TokenIn(InputModel):
    token: Token  # type: ignore[valid-type]


class EmailIn(InputModel):
    """A reset or confirmation link request: "202 always", so any address-sized text is
    taken, and one that is no address simply matches no account."""

    email: EmailLookup  # type: ignore[valid-type]


class ResetConfirmIn(InputModel):
    token: Token  # type: ignore[valid-type]
    password: Password  # type: ignore[valid-type]


class SessionOut(OutputModel):
    id: int
    created_at: Timestamp
    last_seen_at: Timestamp
    user_agent: str
    current: bool


class LogoutQuery(BaseModel):
    """`?all=1` ends every session of the user, not just this one."""

    model_config = ConfigDict(extra="ignore")

    all: bool = False
