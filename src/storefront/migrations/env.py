import logging
from contextlib import contextmanager

from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Logging is the app's (`create_app` sets it up; migrations only run through the app): the
# template's `fileConfig(alembic.ini)` here replaced the process's root handlers and level,
# so an `init-db` run in a test's own process (`app.test_cli_runner()`) silenced the app's
# log, and pytest's `caplog`, for the rest of that process.
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def render_item(type_, obj, autogen_context):
    """Write our UTC timestamp type as a plain timezone-aware DateTime in migrations."""
    from storefront.extensions import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("render_item", render_item)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        options = dict(conf_args)
        if connection.dialect.name == "sqlite":
            options["on_version_apply"] = [refuse_dangling_references]
        context.configure(connection=connection, target_metadata=get_metadata(), **options)

        with foreign_keys_off_on_sqlite(connection):
            with context.begin_transaction():
                context.run_migrations()


@contextmanager
def foreign_keys_off_on_sqlite(connection):
    """On SQLite, migrate with foreign keys off, then switch them back on.

    A table that SQLite cannot alter is rebuilt: the old one is dropped, and with foreign
    keys on that drop would cascade into every table pointing at it
    (https://www.sqlite.org/lang_altertable.html). SQLite heeds the pragma only outside a
    transaction, so it goes straight to the driver, before the migrations' transaction.
    Each migration's references are checked by `refuse_dangling_references`.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        if connection.in_transaction():  # Alembic's read of its version table, for one
            connection.commit()
    finally:
        if connection.in_transaction():
            connection.rollback()
        driver.execute("PRAGMA foreign_keys=ON")


def refuse_dangling_references(ctx, step, heads, run_args):
    """Fail a SQLite migration that leaves a row pointing at nothing (foreign keys are off
    meanwhile), inside its own transaction: it is undone, not committed and then reported.
    """
    broken = ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(
            f"{step.up_revision_id} would leave rows pointing at nothing: {broken[:5]}"
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
