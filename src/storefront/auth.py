"""Who is asking, and may they: `current_user`, `role_required` and its two common cases,
`login_required` and `staff_required`.

Every protected route, API or page, goes through `role_required`. The session
holds `session["user_id"]` (and a flag that it is registered, see sessions.py); the user
is loaded once per request, together with the session's registry row, and cached on `g`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, g

from .sessions import resolve_session_user

if TYPE_CHECKING:
    from .accounts.models import User

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ("customer", "staff", "admin")
#: Those who manage the catalogue and see every order and file.
STAFF_ROLES = ("staff", "admin")


def current_user() -> User | None:
    """The logged-in user of this request, or None; a stale session id logs nobody in."""
    if "current_user" not in g:
        g.current_user = resolve_session_user()
    return g.current_user


def require_role(roles: tuple[str, ...]) -> None:
    """401 for anonymous users, 403 for logged-in users whose role is not in `roles`."""
    user = current_user()
    if user is None:
        abort(401, description="Log in first.")
    if user.role not in roles:
        abort(403, description="You are not allowed to do this.")


@dataclass(frozen=True)
class RoleRule:
    """A view's access rule: callable to enforce it, readable to document it (openapi.py)."""

    roles: tuple[str, ...]

    def __call__(self) -> None:
        require_role(self.roles)


def role_required(*roles: str) -> Callable[[F], F]:
    """Only users with one of `roles` get past: 401 for anonymous users, 403 for others.

    The view carries its check as `access_check`, so the API's request guard can refuse an
    unauthorised request before judging its body (a 401, not a 400, for a bad anonymous POST).
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require_role(roles)
            return view(*args, **kwargs)

        wrapped.access_check = RoleRule(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


#: 401 unless someone is logged in.
login_required = role_required(*ROLES)
#: 401 for anonymous users, 403 for customers.
staff_required = role_required(*STAFF_ROLES)


def is_staff(user: User | None) -> bool:
    """Staff and admins manage the catalogue and see every order and file."""
    return user is not None and user.role in STAFF_ROLES
