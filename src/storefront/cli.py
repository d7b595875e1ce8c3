"""Command line: `storefront init-db | create-user | demo | serve | sessions-cleanup | media`.

`storefront` is the Flask CLI bound to `create_app`, so `storefront db ...` (Flask-Migrate)
and `storefront routes` work too, and tests drive it with `app.test_cli_runner()`.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, NoAppException, with_appcontext
from pydantic import ValidationError

from .auth import ROLES
from .config import in_production


class SettingsProblem(NoAppException):
    """Settings that stop the app: one line, exit code 1.

    A `NoAppException`, so that `storefront --help` says it in that line too, where any
    other error would be a traceback, and still lists the commands.
    """

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.ClickException.show(self, file)


def _create_app():
    """The app for `storefront ...`; a settings problem is one line, not a traceback."""
    from . import create_app
    from .config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        raise SettingsProblem(str(error)) from None


#: PostgreSQL's words for a database that was never created: `init-db` makes tables, not it.
_MISSING_DATABASE = re.compile(r'database "([^"]+)" does not exist')


def needs_database(command: Callable[..., None]) -> Callable[..., None]:
    """Report "cannot connect", "no such table" and the like in one line saying what to do."""
    from sqlalchemy.exc import DatabaseError

    from .extensions import database_busy

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except DatabaseError as error:  # no server, no such table, a file that is no database
            reason = str(error.orig).strip().splitlines()[0]
            if database_busy(error):
                raise click.ClickException(
                    "the database is busy: another process kept it locked longer than a "
                    "command waits; try again once it is done"
                ) from None
            missing = _MISSING_DATABASE.search(reason)
            step = (
                f"create it first (`createdb {missing.group(1)}`)"
                if missing
                else "check DATABASE_URL"
            )
            raise click.ClickException(
                f"the database is not reachable or not set up ({reason}); "
                f"{step}, then run `storefront init-db`"
            ) from None

    run.reports_database_errors = True  # type: ignore[attr-defined]
    return run


#: Alembic's record of the migrations applied to a database.
VERSION_TABLE = "alembic_version"


@click.command("init-db")
@click.option("--drop", is_flag=True, help="Drop every table of the shop first: all data is lost.")
@click.option("--yes", is_flag=True, help="With --drop in production: do not ask first.")
@with_appcontext
@needs_database
def init_db_command(drop: bool, yes: bool) -> None:
    """Create or upgrade the database schema by applying every migration.

    Safe to run again: data is kept, and a database at an older migration is upgraded. A
    database whose tables were all dropped behind Alembic's back (only `alembic_version`
    left) is built anew; one still lacking some tables once every migration is applied is
    refused, since no migration can bring them back: use `--drop`. So is one holding tables
    of the shop's names that no migration made (another app's), before anything is written.
    """
    from sqlalchemy import inspect

    from .extensions import db

    if drop and in_production(current_app.config) and not yes:
        where = db.engine.url.render_as_string(hide_password=True)
        click.confirm(f"Drop every table of {where}, all data included?", abort=True)
    existing = set(inspect(db.engine).get_table_names())
    shop_tables = set(db.metadata.tables)
    clashing = existing & shop_tables
    if clashing and VERSION_TABLE not in existing and not drop:
        raise click.ClickException(
            f"the database holds tables this shop's migrations did not make "
            f"({', '.join(sorted(clashing))}): give the shop a database of its own, "
            "or run init-db --drop to replace them, their data included"
        )
    if VERSION_TABLE in existing and not drop:
        _refuse_unknown_migrations()
    if drop or (VERSION_TABLE in existing and not clashing):
        _drop_schema()
    apply_migrations()
    missing = shop_tables - set(inspect(db.engine).get_table_names())
    if missing:
        tables = ", ".join(sorted(missing))
        click.echo(f"Error: the database lacks tables ({tables}); use init-db --drop.", err=True)
        sys.exit(1)
    # Flask's tutorial prints "Initialized the database.", and its test looks for it.
    click.echo("Initialized the database: every migration is applied.")


def apply_migrations() -> None:
    """Apply every migration; one that refuses to run (it names the rows to fix first) is
    its message on stderr and exit code 1.

    Flask-Migrate's `upgrade` only logs that message, so the command's own output lacked
    it wherever the log goes elsewhere (pytest's `caplog`, a log file).
    """
    from alembic import command
    from alembic.util import CommandError

    migrate = current_app.extensions["migrate"]
    try:
        command.upgrade(migrate.migrate.get_config(migrate.directory), "heads")
    except (CommandError, RuntimeError) as error:
        unknown = _UNKNOWN_REVISION.search(str(error))
        message = _unknown_migration(unknown.group(1)).message if unknown else str(error)
        click.echo(f"Error: {message}", err=True)
        sys.exit(1)


#: Alembic's words for a database stamped with a migration this code does not have.
_UNKNOWN_REVISION = re.compile(r"Can't locate revision identified by '([^']+)'")


def _unknown_migration(revision: str) -> click.ClickException:
    return click.ClickException(
        f"the database is at migration {revision}, which this release does not know: a newer "
        "release of the shop migrated it (run that release), or it is another app's database "
        "(give the shop one of its own)"
    )


def _refuse_unknown_migrations() -> None:
    """Stop before anything is written when Alembic's record names a migration this code
    lacks: with none of the shop's tables beside it, it would be taken for a schema dropped
    behind Alembic's back, and another app's record rebuilt as the shop's."""
    from .extensions import db
    from .ops import unknown_migrations

    unknown = sorted(unknown_migrations())
    db.session.rollback()
    if unknown:
        raise _unknown_migration(unknown[0])


def _drop_schema() -> None:
    """Drop the shop's tables and Alembic's record of the migrations applied."""
    from sqlalchemy import text

    from .extensions import db

    with db.engine.begin() as connection:
        db.metadata.drop_all(connection)
        connection.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    db.engine.dispose()


def _argument_or_option(name: str, argument: str | None, option: str | None) -> str:
    """One value given either way (`create-user NAME EMAIL` or `--username/--email`)."""
    if argument is not None and option is not None and argument != option:
        raise click.UsageError(f"{name} given twice, as {argument!r} and as {option!r}")
    value = argument if argument is not None else option
    if value is None:
        raise click.UsageError(f"missing the {name}: give it as an argument or as --{name}")
    return value


@click.command("create-user")
@click.argument("username", required=False)
@click.argument("email", required=False)
@click.option("--username", "username_option", metavar="NAME", help="instead of USERNAME")
@click.option("--email", "email_option", metavar="EMAIL", help="instead of EMAIL")
@click.option("--password", help="asked for (twice, hidden) when not given")
@click.option("--role", default="customer", show_default=True, help="customer, staff or admin")
@with_appcontext
@needs_database
def create_user_command(
    username: str | None,
    email: str | None,
    username_option: str | None,
    email_option: str | None,
    password: str | None,
    role: str,
) -> None:
    """Create a confirmed user; exits with 1 on a duplicate or bad input.

    `create-user NAME EMAIL` and `create-user --username NAME --email EMAIL` are the same,
    and so are the mixed `NAME --email EMAIL` and `--username NAME EMAIL`.
    """
    from .accounts import service
    from .accounts.schemas import UserCreate
    from .apikit import ApiError
    from .errors import field_message
    from .extensions import begin_write_transaction

    if email is None and username_option is not None and email_option is None:
        username, email = None, username  # `--username NAME EMAIL`: the argument is the email
    username = _argument_or_option("username", username, username_option)
    email = _argument_or_option("email", email, email_option)
    if role not in ROLES:
        click.echo(f"Error: role must be one of {', '.join(ROLES)}, got {role!r}", err=True)
        sys.exit(1)
    try:
        if password is None:  # asked only once the rest is known to be complete and valid
            UserCreate(username=username, email=email, password=_NOT_YET_ASKED)
            password = _ask_password()
        data = UserCreate(username=username, email=email, password=password)
        begin_write_transaction()  # SQLite: wait for another writer, as a request does
        user = service.create_user(
            data.username, data.email, data.password, role=role, confirmed=True
        )
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(p) for p in problem["loc"]) or "input"
            click.echo(f"Error: {field}: {field_message(problem['msg'])}", err=True)
        sys.exit(1)
    except ApiError as error:
        fields = (error.extra.get("fields") or {}) if error.status == 400 else {}
        for field, why in fields.items():
            click.echo(f"Error: {field}: {why}", err=True)
        if not fields:
            click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    click.echo(f"Created {user.role} {user.username!r} <{user.email}> with id {user.id}.")


#: Stands in for the password while the name and email are checked before it is asked for.
_NOT_YET_ASKED = "-"


def _ask_password() -> str:
    """The password, typed twice and hidden on a terminal; from a pipe (`printf '%s\\n' "$PW" |
    storefront create-user ...`), its first line."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException(
            "no password: give --password, pipe it in, or run the command in a terminal to type it"
        )
    return line.removesuffix("\n").removesuffix("\r")  # a line from Windows ends in CRLF


@click.command("sessions-cleanup")
@with_appcontext
@needs_database
def sessions_cleanup_command() -> None:
    """Delete expired sessions: the database store's, and logins past their lifetimes."""
    from .sessions import delete_dead_user_sessions

    current_app.session_interface._delete_expired_sessions()
    ended = delete_dead_user_sessions()
    click.echo(f"Expired sessions removed ({ended} logins past their idle or absolute lifetime).")


#: The port and worker count `serve` and `demo` take.
PORT = click.IntRange(1, 65535)
WORKERS = click.IntRange(1, 64)


@click.command("demo")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=PORT)
@click.option("--workers", default=2, show_default=True, type=WORKERS)
@click.option("--no-serve", is_flag=True, help="Only prepare the database and demo data.")
@click.pass_context
@needs_database
def demo_command(ctx: click.Context, host: str, port: int, workers: int, no_serve: bool) -> None:
    """Migrate, load demo data (once), print the demo logins, then serve."""
    from .demo import DEMO_USERS, load_demo_data

    if in_production(current_app.config):
        raise click.ClickException(
            "demo makes accounts whose passwords the README publishes: run it with "
            "STOREFRONT_ENV=development (as `make run` does), never on a real shop"
        )

    apply_migrations()
    logins = load_demo_data()
    click.echo("Demo logins (username / password / role):")
    for username, _email, password, role in logins:
        click.echo(f"  {username:<10} {password:<24} {role}")
    if len(logins) < len(DEMO_USERS):
        click.echo("  (the other demo accounts have other passwords, or their emails are taken)")
    if not no_serve:
        # Links in the demo's emails lead back to this server, whatever its port.
        os.environ.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
        click.echo(f"Serving on http://{host}:{port}/")
        ctx.invoke(serve_command, host=host, port=port, workers=workers)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=PORT)
@click.option("--workers", default=2, show_default=True, type=WORKERS)
@with_appcontext
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the shop with gunicorn.

    The app is built here first, so settings that stop it are one line, not a traceback
    from every worker. The shop logs one line per request itself; gunicorn's access log
    would repeat it, with the tokens of confirmation and reset links in its paths, so it
    stays off.
    """
    gunicorn = _gunicorn()
    args = [
        gunicorn,
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--config",
        "python:storefront.gunicorn_conf",
        "storefront.wsgi:app",
    ]
    os.execv(gunicorn, args)  # noqa: S606 - replaces this process with gunicorn


def _gunicorn() -> str:
    """The gunicorn installed beside this Python (the shop's venv), else the one on PATH.

    `.venv/bin/storefront serve` runs without the venv activated: PATH may name another
    environment's gunicorn, which would import another `storefront`, or none at all.
    """
    beside = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("gunicorn") or beside


def shop_commands() -> list[click.Command]:
    """The shop's own commands, for each app's `app.cli` and for `storefront` itself."""
    from .media.cli import media_cli  # here: media.cli takes `needs_database` from this module

    return [
        init_db_command,
        create_user_command,
        demo_command,
        sessions_cleanup_command,
        serve_command,
        media_cli,
    ]


def register_commands(app) -> None:
    """Attach the shop's commands to `app.cli` (what `app.test_cli_runner()` runs)."""
    for command in shop_commands():
        app.cli.add_command(command)


class ShopGroup(FlaskGroup):
    """Flask's command group, without the commands of installed packages the shop does not
    support: Flask-Limiter's `limiter` needs an extra it does not install, and only failed."""

    unsupported = frozenset({"limiter"})

    def __init__(self, **extra: Any) -> None:
        super().__init__(add_version_option=False, **extra)
        # `-A/--app` names another app to load; the shop's commands always build the shop.
        self.params = [param for param in self.params if param.name != "app"]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name not in self.unsupported]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.unsupported:
            return None
        command = super().get_command(ctx, name)
        if name == "db" and isinstance(command, click.Group):
            # Flask-Migrate's commands: a database that is down is one line there too.
            for subcommand in command.commands.values():
                callback = subcommand.callback
                if callback is not None and not hasattr(callback, "reports_database_errors"):
                    subcommand.callback = needs_database(callback)
        return command


@click.group(cls=ShopGroup, create_app=_create_app, load_dotenv=False)
@click.version_option(package_name="storefront", message="Storefront %(version)s")
def main() -> None:
    """Storefront management commands.

    Settings come from the environment, or from a file given with `-e FILE` (lines of
    `NAME=value`); a `.env` file nearby is not read unless named so.
    """


# Listed by `storefront --help` even when the settings stop the app from being built.
for _command in shop_commands():
    main.add_command(_command)
