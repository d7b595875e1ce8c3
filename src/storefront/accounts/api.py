"""Accounts API: users, login, logout, the current user."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import abort, current_app, session
from sqlalchemy import select

from ..apikit import PageQuery, created_headers, empty_response, page_headers, paginate
from ..auth import current_user, load_current_user, login_required, role_required
from ..extensions import db
from . import service
from .models import User
from .schemas import LoginIn, LoginOut, MessageOut, UserCreate, UserOut, UserUpdate

bp = APIBlueprint("accounts_api", __name__, url_prefix="/api", tag="Accounts")


def _visible_user(user_id: int) -> User:
    """The user record if the caller may see it; 404 otherwise so existence does not leak."""
    me = load_current_user()
    assert me is not None
    user = db.session.get(User, user_id)
    if user is None or (me.id != user.id and me.role != "admin"):
        abort(404, description="No such user.")
    return user


@bp.post("/users")
@bp.input(UserCreate, arg_name="body")
@bp.output(UserOut, status_code=201)
def register(body: UserCreate):
    """Register a customer account."""
    user = service.create_user(body.username, body.email, body.password)
    return user, 201, created_headers("accounts_api.get_user", user_id=user.id)


@bp.get("/users")
@role_required("admin")
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(list[UserOut])
def list_users(query: PageQuery):
    """Every account, oldest first (admins only)."""
    users, total = paginate(select(User).order_by(User.id), query)
    return users, 200, page_headers(total, query)


@bp.get("/users/<int:user_id>")
@login_required
@bp.output(UserOut)
def get_user(user_id: int):
    """One account: your own, or any for an admin."""
    return _visible_user(user_id)


@bp.patch("/users/<int:user_id>")
@login_required
@bp.input(UserUpdate, arg_name="body")
@bp.output(UserOut)
def update_user(user_id: int, body: UserUpdate):
    """Change email or password (with `current_password`); admins may also change `role`."""
    user = _visible_user(user_id)
    return service.update_user(user, acting=current_user, **body.model_dump(exclude_unset=True))


@bp.delete("/users/<int:user_id>")
@login_required
@bp.output({}, status_code=204)
def delete_user(user_id: int):
    """Delete an account: your own, or any for an admin."""
    user = _visible_user(user_id)
    own = user.id == current_user.id
    service.delete_user(user)
    if own:
        session.clear()
    return empty_response()


@bp.post("/login")
@bp.input(LoginIn, arg_name="body")
@bp.output(LoginOut)
def login(body: LoginIn):
    """Log in with username (or email) and password; starts a fresh session."""
    user = service.authenticate(body.username, body.password)
    if user is None:
        abort(401, description="Wrong username or password.")
    session.clear()
    session["user_id"] = user.id
    current_app.session_interface.regenerate(session)
    return {"message": "Login successful", "user": user}


@bp.post("/logout")
@bp.output(MessageOut)
def logout():
    """End this session; its cookie is worthless afterwards."""
    session.clear()
    return {"message": "Logged out"}


@bp.get("/me")
@login_required
@bp.output(UserOut)
def me():
    """The logged-in user."""
    return current_user._get_current_object()


@bp.get("/protected")
@login_required
@bp.output(MessageOut)
def protected():
    """The tutorial's protected route: greets the logged-in user."""
    return {"message": f"Hello, {current_user.username}!"}
