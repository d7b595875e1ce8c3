"""Settings are checked at start-up; production refuses unsafe ones."""

from __future__ import annotations

import gc
import re
import runpy
import subprocess
import sys
import weakref

import pytest
from sqlalchemy import select, text

from storefront import create_app
from storefront.config import ConfigError
from storefront.extensions import db


@pytest.fixture
def production(monkeypatch, tmp_path):
    monkeypatch.setenv("STOREFRONT_ENV", "production")
    monkeypatch.setenv("STOREFRONT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.delenv("SECRET_KEY", raising=False)


@pytest.mark.parametrize("secret", [None, "", "dev", "changeme", "short", " " * 30, " changeme\n"])
def test_production_refuses_a_missing_or_placeholder_secret(production, monkeypatch, secret):
    if secret is not None:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_starts_with_a_real_secret_and_without_debug(production, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    app = create_app()
    assert app.config["DEBUG"] is False  # its Secure cookie: tests/pages/test_layout.py


def test_development_keeps_one_secret_across_restarts(monkeypatch, tmp_path):
    monkeypatch.setenv("STOREFRONT_ENV", "development")
    monkeypatch.setenv("STOREFRONT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    first = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}"})
    second = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    kept = tmp_path / "instance" / "secret_key"
    assert kept.read_text() == first.config["SECRET_KEY"]
    assert kept.stat().st_mode & 0o777 == 0o600  # the owner's alone
    assert first.debug is True


def test_a_development_secret_that_cannot_be_kept_is_one_line(development, tmp_path):
    (tmp_path / "instance" / "secret_key").mkdir(parents=True)

    result = storefront("init-db")

    assert result.exit_code == 1
    assert result.output.startswith("Error: the development SECRET_KEY cannot be kept in")


@pytest.mark.parametrize("level", ["DEBUG", "info", "Warning", "ERROR", "critical"])
def test_log_level_takes_the_five_levels_in_any_case(make_app, level):
    assert make_app(LOG_LEVEL=level).config["LOG_LEVEL"] == level.upper()


def test_the_log_level_decides_which_lines_a_served_shop_writes(development, monkeypatch):
    """In its own process, as served: the test runner's log capture would hide the effect."""
    monkeypatch.setenv("LOG_LEVEL", "warning")
    shop = (
        "import logging; from storefront import create_app; create_app(); "
        "log = logging.getLogger('storefront'); log.info('an info line'); log.warning('a warning')"
    )

    written = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", shop], capture_output=True, text=True, timeout=60, check=True
    ).stderr

    assert "WARNING storefront a warning" in written
    assert "an info line" not in written


def test_bad_values_are_refused_at_start(monkeypatch):
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "lots")
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH"):
        create_app({"TESTING": True})
    monkeypatch.delenv("MAX_CONTENT_LENGTH")
    with pytest.raises(ConfigError, match="STOREFRONT_ENV"):
        create_app({"TESTING": True, "STOREFRONT_ENV": "staging"})
    monkeypatch.setenv("TRUSTED_PROXIES", "-1")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        create_app({"TESTING": True})


@pytest.mark.parametrize(
    ("setting", "url"),
    [
        ("DATABASE_URL", "postgresql://shop:s3cret-pw@127.0.0.1:abc/x"),
        ("DATABASE_URL", "postgresql://shop:s3cret/pw@127.0.0.1:abc/x"),
        ("DATABASE_URL", "postgresql://shop:s3cret@pw@127.0.0.1:abc/x"),
        ("REDIS_URL", "redis://:s3cret-pw@127.0.0.1:abc/9"),
        ("REDIS_URL", "redis://:s3cret/pw@127.0.0.1:abc/9"),
        ("REDIS_URL", "http://:s3cret-pw@127.0.0.1/0"),
    ],
)
def test_a_refused_url_is_shown_without_its_password(development, monkeypatch, setting, url):
    """An unescaped `/` or `@` in the password is what most often makes a URL unreadable."""
    monkeypatch.setenv(setting, url)

    result = storefront("init-db")

    assert result.exit_code == 1
    assert "s3cret" not in result.output and "pw@" not in result.output
    assert ":***@127.0.0.1" in result.output


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("DATABASE_URL", "nonsense", "not a database URL"),
        ("DATABASE_URL", "mysql://shop@localhost/shop", "SQLite"),
        ("REDIS_URL", "localhost:6379", "redis://"),
    ],
)
def test_a_store_url_the_shop_cannot_use_is_refused_at_start(setting, value, said):
    with pytest.raises(ConfigError, match=said):
        create_app({"TESTING": True, setting: value})


@pytest.mark.parametrize(
    "key", ["DATABASE_URI", "SQLALCHEMY_DATABASE_URL", "database_url", "DB_URL", "db_uri"]
)
def test_a_database_named_under_another_spelling_is_refused_not_ignored(key, tmp_path):
    """Taken as any other key, it was never read: the app ran on instance/storefront.db."""
    with pytest.raises(ConfigError, match=f"{key} is not a setting: .*DATABASE_URL"):
        create_app({"TESTING": True, key: f"sqlite:///{tmp_path / 'meant.db'}"})


@pytest.mark.parametrize("spelt", ["false", "0", "off"])
def test_testing_spelt_false_is_a_real_shop_that_needs_its_secret(monkeypatch, spelt):
    """A string "false" for TESTING was true: a production shop then ran without SECRET_KEY,
    with hashing at its cheapest."""
    monkeypatch.setenv("STOREFRONT_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)

    with pytest.raises(ConfigError, match="SECRET_KEY is missing"):
        create_app({"TESTING": spelt, "DATABASE_URL": "sqlite://"})


def test_a_secret_key_of_spaces_given_as_bytes_is_missing(production):
    with pytest.raises(ConfigError, match="SECRET_KEY is missing"):
        create_app({"SECRET_KEY": b" " * 30})


def test_testing_or_debug_given_as_none_is_left_unset(make_app):
    """As unset: debug follows STOREFRONT_ENV (make exports development), and TESTING is
    Flask's default, off."""
    assert make_app(DEBUG=None).debug is make_app().debug
    assert make_app(TESTING=None).testing is False


def test_debug_spelt_false_is_off(make_app):
    assert make_app(DEBUG="false").debug is False
    assert make_app(DEBUG="1").debug is True
    with pytest.raises(ConfigError, match="DEBUG must be a boolean"):
        make_app(DEBUG="sometimes")


def test_the_mapping_reads_switches_and_lists_spelt_as_in_the_environment(tmp_path, own_apps):
    """A string "false" was a true value (confirmation stayed required, a test cookie became
    Secure) and a string of types allowed any type it contained a piece of."""
    built = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "spelt.db"),
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),  # not the checkout's outbox/
            "REQUIRE_EMAIL_CONFIRMATION": "false",
            "RATELIMIT_ENABLED": "0",
            "SESSION_COOKIE_SECURE": "off",
            "UPLOAD_ALLOWED_TYPES": "text/plain, application/pdf",
        }
    )
    assert built.config["UPLOAD_ALLOWED_TYPES"] == ("text/plain", "application/pdf")
    assert built.config["RATELIMIT_ENABLED"] is False
    assert built.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    client = built.test_client()
    account = {"username": "sam", "email": "sam@example.com", "password": "a-long-password!"}
    assert client.post("/api/users", json=account).status_code == 201
    login = client.post("/api/login", json={"username": "sam", "password": account["password"]})
    assert login.status_code == 200, login.get_json()
    assert "Secure" not in login.headers["Set-Cookie"]
    with built.app_context():
        db.engine.dispose()
    with pytest.raises(ConfigError, match="SMTP_STARTTLS must be a boolean"):
        create_app({"TESTING": True, "SMTP_STARTTLS": "maybe"})


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg2"])
def test_postgres_urls_use_psycopg3(scheme):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"{scheme}://u@h/db"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_production_hashes_passwords_with_owasp_argon2id_parameters(production, monkeypatch):
    """19 MiB per hash keeps a worker's memory bounded; still OWASP's recommended strength."""
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    app = create_app()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    created = runner.invoke(
        args=["create-user", "olga", "olga@example.com", "--password", "p" * 14]
    )
    assert created.exit_code == 0, created.output
    with app.app_context():
        from storefront.accounts.models import User

        stored = db.session.scalar(select(User.password_hash).where(User.username == "olga"))
        db.engine.dispose()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.parametrize(
    ("setting", "value", "warning"),
    [
        ("PUBLIC_BASE_URL", "https://shop.example.com", "PUBLIC_BASE_URL is not set: links in"),
        ("SMTP_HOST", "mail.example.com", "SMTP_HOST is not set: mail is written to outbox"),
    ],
)
def test_the_served_shop_warns_of_a_production_setting_left_out(
    production, monkeypatch, caplog, setting, value, warning
):
    """Said by the app gunicorn serves (`storefront.wsgi`), not by each maintenance command:
    emails' links pointing at localhost, mail only written to a folder."""
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.delenv(setting, raising=False)
    storefront("sessions-cleanup")
    assert setting not in caplog.text
    runpy.run_module("storefront.wsgi")
    assert warning in caplog.text

    caplog.clear()
    monkeypatch.setenv(setting, value)
    runpy.run_module("storefront.wsgi")
    assert setting not in caplog.text


def test_the_served_shop_says_to_run_init_db_on_a_database_without_the_schema(
    production, monkeypatch, caplog
):
    """Else every request is a 503 "database unavailable" and the log blames the server.
    The check leaves no connection open, for gunicorn `--preload` forks workers from it."""
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    served = runpy.run_module("storefront.wsgi")["app"]
    assert "run `storefront init-db`" in caplog.text
    with served.app_context():
        assert db.engine.pool.checkedin() == 0

    assert storefront("init-db").exit_code == 0
    caplog.clear()
    runpy.run_module("storefront.wsgi")
    assert "init-db" not in caplog.text


def test_the_mapping_takes_database_url_as_the_environment_does(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'given.db'}"})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()
    assert (tmp_path / "given.db").stat().st_size > 0


def test_the_mapping_takes_flaskrs_database_path(tmp_path, own_apps):
    """`create_app({"TESTING": True, "DATABASE": path})`, as Flask's tutorial writes it."""
    path = tmp_path / "flaskr.db"
    built = create_app({"TESTING": True, "DATABASE": str(path), "RATELIMIT_ENABLED": False})
    runner = built.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    password = "a-long-password!"
    made = runner.invoke(args=["create-user", "flo", "flo@example.com", "--password", password])
    assert made.exit_code == 0, made.output
    login = {"username": "flo", "password": password}
    assert built.test_client().post("/api/login", json=login).status_code == 200
    with built.app_context():
        assert db.engine.url.database == str(path.resolve())
        db.engine.dispose()
    for memory in ("sqlite://", ":memory:"):
        in_memory = create_app({"TESTING": True, "DATABASE": memory, "RATELIMIT_ENABLED": False})
        # In memory means a private file, gone with the app (see _private_sqlite_file).
        assert "storefront-memory-" in in_memory.config["SQLALCHEMY_DATABASE_URI"]
        memory_runner = in_memory.test_cli_runner()
        assert memory_runner.invoke(args=["init-db"]).exit_code == 0
        memory_runner.invoke(args=["create-user", "flo", "flo@example.com", "--password", password])
        assert in_memory.test_client().post("/api/login", json=login).status_code == 200


def _server_connections(app) -> int:
    """How many connections the PostgreSQL server has open to the app's database."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
    with app.app_context():
        count = db.session.scalar(query)
        db.session.remove()
    return count


def test_an_app_let_go_closes_its_database_connections(app, own_apps, database_url, tmp_path):
    """A test's own app, never disposed, kept its pooled connections open on the server
    until something collected them: psycopg then reports a ResourceWarning, an error under
    `filterwarnings = error` in whichever test happens to run."""
    if not database_url.startswith("postgresql"):
        pytest.skip("counts the PostgreSQL server's connections")

    def used_app() -> weakref.ref:
        built = create_app(
            {"TESTING": True, "DATABASE_URL": database_url, "UPLOAD_FOLDER": str(tmp_path / "up")}
        )
        status = built.test_client().get("/readyz").status_code
        assert status == 200
        return weakref.ref(built)

    before = _server_connections(app)
    let_go = used_app()
    gc.collect()
    assert let_go() is None
    assert _server_connections(app) == before


def test_mail_goes_out_in_the_background_except_under_testing(production, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    assert create_app().config["MAIL_IN_BACKGROUND"] is True
    assert create_app({"TESTING": True}).config["MAIL_IN_BACKGROUND"] is False
    kept = create_app({"TESTING": True, "MAIL_IN_BACKGROUND": True})
    assert kept.config["MAIL_IN_BACKGROUND"] is True


@pytest.fixture
def development(monkeypatch, tmp_path):
    """`storefront` as a newcomer runs it: development settings, nothing else set."""
    monkeypatch.setenv("STOREFRONT_ENV", "development")
    monkeypatch.setenv("STOREFRONT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    monkeypatch.delenv("SECRET_KEY", raising=False)


def storefront(*args):
    """Run the `storefront` command itself (the app built from the environment)."""
    from click.testing import CliRunner

    from storefront.cli import main

    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("LOG_LEVEL", "verbose", "LOG_LEVEL must be one of DEBUG, INFO"),
        ("LOG_LEVEL", "notset", "LOG_LEVEL must be one of DEBUG, INFO"),
        ("LOG_LEVEL", "warn", "LOG_LEVEL must be one of DEBUG, INFO"),
        ("LOG_LEVEL", "fatal", "LOG_LEVEL must be one of DEBUG, INFO"),
        ("RATELIMIT_LOGIN_PER_ACCOUNT", "5 every 15 minutes", "RATELIMIT_LOGIN_PER_ACCOUNT must"),
        ("RATELIMIT_LOGIN_PER_IP", "", "RATELIMIT_LOGIN_PER_IP must"),
        ("RATELIMIT_MAIL_PER_ADDRESS", "three", "RATELIMIT_MAIL_PER_ADDRESS must"),
        ("PASSWORD_HASH_TIME_COST", "0", "PASSWORD_HASH_TIME_COST must"),
        ("PASSWORD_HASH_PARALLELISM", "0", "PASSWORD_HASH_PARALLELISM must"),
        ("PASSWORD_HASH_MEMORY_COST", "7", "PASSWORD_HASH_MEMORY_COST (KiB) must be at least 8"),
        ("PASSWORD_HASH_MEMORY_COST", str(2**40), "PASSWORD_HASH_MEMORY_COST must be a whole"),
        ("SESSION_LIFETIME_SECONDS", "9" * 20, "SESSION_LIFETIME_SECONDS must be a whole"),
        ("MAX_CONTENT_LENGTH", "1_000", "MAX_CONTENT_LENGTH must be a whole number in digits"),
        ("SMTP_PORT", "١٠٢٥", "SMTP_PORT must be a whole number in digits"),
        ("SESSION_IDLE_TIMEOUT_SECONDS", str(10**30), "SESSION_IDLE_TIMEOUT_SECONDS must"),
        ("SMTP_TIMEOUT_SECONDS", "0", "SMTP_TIMEOUT_SECONDS must be a number of seconds"),
        ("SMTP_PORT", "99999", "SMTP_PORT must be a whole number"),
        ("DATABASE_URL", "postgresql://postgres@127.0.0.1:abc/x", "DATABASE_URL is not a"),
        ("REDIS_URL", "redis://127.0.0.1:abc/9", "REDIS_URL is not a Redis URL"),
        ("REDIS_URL", "redis://127.0.0.1:6379/x", "REDIS_URL names the database 'x'"),
        ("STOREFRONT_INSTANCE_PATH", "{file}", "STOREFRONT_INSTANCE_PATH must be a folder"),
        ("STOREFRONT_INSTANCE_PATH", "{file}/sub", "STOREFRONT_INSTANCE_PATH must be a folder"),
        ("STOREFRONT_INSTANCE_PATH", "/proc/none/x", "STOREFRONT_INSTANCE_PATH cannot be made"),
        ("UPLOAD_FOLDER", "{file}", "UPLOAD_FOLDER must be a folder"),
        ("UPLOAD_FOLDER", "{file}/uploads", "UPLOAD_FOLDER must be a folder"),
        ("MAIL_OUTBOX_DIR", "{file}", "MAIL_OUTBOX_DIR must be a folder"),
        ("UPLOAD_ALLOWED_TYPES", "image/svg+xml", "UPLOAD_ALLOWED_TYPES must name some of"),
        ("PUBLIC_BASE_URL", "shop.example.com", "PUBLIC_BASE_URL must be the shop's address"),
        ("PUBLIC_BASE_URL", "http://localhost:99999", "PUBLIC_BASE_URL must be the shop's"),
        ("PUBLIC_BASE_URL", "http://[::1", "PUBLIC_BASE_URL must be the shop's"),
        ("PUBLIC_BASE_URL", "https://shop.example:0", "PUBLIC_BASE_URL must be the shop's"),
        ("PUBLIC_BASE_URL", "https://shop.example/s?x=1", "PUBLIC_BASE_URL must be the shop's"),
        ("PUBLIC_BASE_URL", "https://shop.example/#top", "PUBLIC_BASE_URL must be the shop's"),
        ("PUBLIC_BASE_URL", "https://shop.example/?", "PUBLIC_BASE_URL must be the shop's"),
        ("PUBLIC_BASE_URL", "https://shop.example#", "PUBLIC_BASE_URL must be the shop's"),
        ("PUBLIC_BASE_URL", "https://shop.example/a b", "PUBLIC_BASE_URL must be the shop's"),
        ("PUBLIC_BASE_URL", "https://u:pw@shop.example", "PUBLIC_BASE_URL must be the shop's"),
        ("MAIL_FROM", "no-reply", "MAIL_FROM must be an address"),
        ("MAIL_FROM", "a@shop.example\r\nBcc: x@y.example", "MAIL_FROM must be an address"),
        ("MAIL_FROM", "Shop\n<a@shop.example>", "MAIL_FROM must be an address"),
        ("RATELIMIT_LOGIN_PER_IP", "0 per minute", "RATELIMIT_LOGIN_PER_IP must"),
        ("RATELIMIT_CONTACT_PER_IP", "5 per hour; 0 per day", "RATELIMIT_CONTACT_PER_IP must"),
    ],
)
def test_a_setting_that_would_fail_later_is_refused_at_start_in_one_line(
    development, monkeypatch, tmp_path, setting, value, said
):
    """A bad log level was a traceback at every start; a rate limit Flask-Limiter cannot read
    switched that limit off (an error logged per request); argon2 parameters below its
    minimums made every registration, login and create-user fail with a HashingError; a
    folder that is a file, a timeout of 0 or a limit past the largest date failed each
    upload, mail or login with a 500."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    monkeypatch.setenv(setting, value.format(file=a_file))
    result = storefront("init-db")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {said}"), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        (["not", "a", "mapping"], "the settings must be a mapping"),
        ({"SECRET_KEY": 12345678901234567890123456}, "SECRET_KEY must be text"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be a database URL"),
        ({"SQLALCHEMY_DATABASE_URI": 5}, "DATABASE_URL must be a database URL"),
        ({"MAX_CONTENT_LENGTH": True}, "MAX_CONTENT_LENGTH must be a whole number"),
        ({"SMTP_PORT": "twenty-five"}, "SMTP_PORT must be a whole number"),
        ({"SMTP_HOST": 5}, "SMTP_HOST must be a host name"),
        ({"UPLOAD_FOLDER": 5}, "UPLOAD_FOLDER must be a folder's path"),
        ({"UPLOAD_ALLOWED_TYPES": 5}, "UPLOAD_ALLOWED_TYPES must name some of"),
        ({"UPLOAD_ALLOWED_TYPES": []}, "UPLOAD_ALLOWED_TYPES must name some of"),
        ({"SMTP_TIMEOUT_SECONDS": "soon"}, "SMTP_TIMEOUT_SECONDS must be a number of seconds"),
    ],
)
def test_create_app_refuses_settings_of_the_wrong_kind_with_a_config_error(settings, said):
    if isinstance(settings, dict):
        settings = {"TESTING": True, **settings}
    with pytest.raises(ConfigError, match=re.escape(said)):
        create_app(settings)


def test_the_mapping_takes_values_as_the_environment_spells_them_too(development):
    shop = create_app(
        {
            "TESTING": True,
            "SMTP_PORT": "1025",
            "MAX_CONTENT_LENGTH": " 2048 ",
            "SMTP_TIMEOUT_SECONDS": 2.5,
            "SMTP_HOST": "",
            "UPLOAD_ALLOWED_TYPES": "",
            "TRUSTED_PROXIES": "1",
            "PASSWORD_HASH_MEMORY_COST": "2048",
        }
    )
    assert (shop.config["TRUSTED_PROXIES"], shop.config["PASSWORD_HASH_MEMORY_COST"]) == (1, 2048)
    assert (shop.config["SMTP_PORT"], shop.config["MAX_CONTENT_LENGTH"]) == (1025, 2048)
    assert (shop.config["SMTP_TIMEOUT_SECONDS"], shop.config["SMTP_HOST"]) == (2.5, None)
    assert "image/png" in shop.config["UPLOAD_ALLOWED_TYPES"]  # empty: the default
    listed = create_app({"TESTING": True, "UPLOAD_ALLOWED_TYPES": ["Image/PNG", " text/plain"]})
    assert listed.config["UPLOAD_ALLOWED_TYPES"] == ("image/png", "text/plain")


def test_testing_keeps_each_hashing_cost_the_mapping_names_and_cheapens_the_others():
    shop = create_app({"TESTING": True, "PASSWORD_HASH_TIME_COST": 3})

    costs = [shop.config[f"PASSWORD_HASH_{name}"] for name in ("TIME_COST", "MEMORY_COST")]
    assert costs == [3, 1024]


def test_commands_a_package_brings_but_the_shop_cannot_run_are_not_listed(development):
    """Flask-Limiter's `limiter` command needs an extra the shop does not install."""
    listed = storefront("--help")
    assert listed.exit_code == 0
    assert "limiter" not in listed.output
    assert storefront("limiter").exit_code == 2


def test_a_redis_on_a_unix_socket_is_taken_by_sessions_and_rate_limits(make_app, tmp_path):
    """The rate limits' library spells the scheme `redis+unix://`: given `unix://`, every
    start failed with its ConfigurationError."""
    socket = tmp_path / "no-redis-here.sock"
    shop = make_app(REDIS_URL=f"unix://{socket}?db=2")

    assert shop.config["RATELIMIT_STORAGE_URI"] == f"redis+unix://{socket}?db=2"
    assert shop.test_client().get("/readyz").status_code == 503  # nothing listens there


def test_settings_in_their_usual_spellings_are_taken(development, monkeypatch, own_apps):
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("RATELIMIT_LOGIN_PER_IP", "30/minute")
    monkeypatch.setenv("RATELIMIT_REGISTER_PER_IP", "50 per hour; 200 per day")
    monkeypatch.setenv("PASSWORD_HASH_MEMORY_COST", "16")
    monkeypatch.setenv("PASSWORD_HASH_PARALLELISM", "2")
    monkeypatch.setenv("UPLOAD_ALLOWED_TYPES", "IMAGE/PNG, Text/Plain")
    built = create_app()
    assert built.config["LOG_LEVEL"] == "DEBUG"
    assert built.config["UPLOAD_ALLOWED_TYPES"] == ("image/png", "text/plain")
    runner = built.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    made = runner.invoke(args=["create-user", "lou", "lou@example.com", "--password", "p" * 14])
    assert made.exit_code == 0, made.output
    with built.app_context():
        db.engine.dispose()
