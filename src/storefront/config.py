"""Settings read from environment variables and checked once, when the app is built.

`create_app(mapping)` lays the mapping over what the environment says, so tests and
embedding code can set anything without touching `os.environ`.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image
from sqlalchemy.engine import URL

#: Values that look like a secret but are not one; production refuses them.
PLACEHOLDER_SECRETS = frozenset(
    {"", "dev", "development", "secret", "changeme", "change-me", "please-change-me", "test"}
)
ENVIRONMENTS = ("production", "development")


def in_production(config: Mapping[str, Any]) -> bool:
    """Whether an app with these settings serves a real shop (not development, not tests)."""
    return config["STOREFRONT_ENV"] == "production" and not config.get("TESTING")


#: Where links in emails point unless `PUBLIC_BASE_URL` says otherwise: `make run`'s address.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"


class ConfigError(RuntimeError):
    """Raised at start-up when the settings cannot give a safe, working app."""


def _bool_setting(name: str, raw: Any) -> bool:
    """A switch: a bool, or spelt as in the environment (`1`/`0`, `true`/`false`, `on`/`off`)."""
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return _bool_setting(name, raw)


#: What `/api/upload` takes unless `UPLOAD_ALLOWED_TYPES` says otherwise.
DEFAULT_UPLOAD_TYPES = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain"


def _content_types(raw: str) -> tuple[str, ...]:
    """`image/png, Text/Plain` as a tuple of types (in lower case, as types are compared)."""
    return tuple(t.strip().lower() for t in raw.split(",") if t.strip())


def _env_int(name: str, default: int) -> int:
    """A whole number in plain digits, as the mapping takes it (`1_000` and `١٠` are not)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.removeprefix("-").isdigit()):
        raise ConfigError(f"{name} must be a whole number in digits, got {raw!r}")
    return int(text)


def normalize_database_url(url: str) -> str:
    """Point plain `postgres://` and `postgresql://` URLs, and psycopg2's, at psycopg 3.

    psycopg 3 is the driver the shop installs; psycopg2 is SQLAlchemy's default for a plain
    URL and many a `DATABASE_URL` names it. The server and the URL's meaning are the same.
    """
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _database_from_path(value: str) -> str:
    """`DATABASE` as flaskr gives it: a SQLite file path, `:memory:` (or already a URL)."""
    if value == ":memory:":
        return "sqlite://"
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


#: The database drivers the shop installs (see pyproject.toml).
DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
#: The settings that hold a Flask-Limiter rate limit ("5 per 15 minutes").
RATE_LIMIT_SETTINGS = (
    "RATELIMIT_LOGIN_PER_IP",
    "RATELIMIT_LOGIN_PER_ACCOUNT",
    "RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL",
    "RATELIMIT_REGISTER_PER_IP",
    "RATELIMIT_RESET_PER_IP",
    "RATELIMIT_RESEND_PER_IP",
    "RATELIMIT_CONTACT_PER_IP",
    "RATELIMIT_MAIL_PER_ADDRESS",
)
#: The limits counted per client address; under TESTING, out of a test suite's reach.
PER_ADDRESS_LIMITS = (
    "RATELIMIT_LOGIN_PER_IP",
    "RATELIMIT_REGISTER_PER_IP",
    "RATELIMIT_RESET_PER_IP",
    "RATELIMIT_RESEND_PER_IP",
    "RATELIMIT_CONTACT_PER_IP",
)
#: What a per-address limit is under TESTING unless the settings name one.
TESTING_PER_ADDRESS_LIMIT = "100000 per hour"
#: Argon2 at its cheapest under `TESTING`, each unless the mapping names it.
TESTING_HASH_COSTS = {
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_COST": 1024,
    "PASSWORD_HASH_PARALLELISM": 1,
}


def _shown(url: str) -> str:
    """`url` as an error may print it: with its password, if any, as `***`. The password
    runs to the last `@`: a URL is refused most often for a `/` or `@` left unescaped in it."""
    scheme, slashes, rest = url.partition("//")
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{slashes}{userinfo.split(':', 1)[0]}:***@{host}"


def _check_store_urls(settings: dict[str, Any]) -> None:
    """Refuse a database or Redis URL the shop cannot use, in one line, before any connection."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = str(settings["SQLALCHEMY_DATABASE_URI"])
    try:
        driver = make_url(url).drivername
    except (ArgumentError, ValueError):  # ValueError: a port that is no number
        raise ConfigError(f"DATABASE_URL is not a database URL: {_shown(url)!r}") from None
    if driver not in DATABASE_DRIVERS:
        raise ConfigError(
            f"DATABASE_URL uses {driver!r}: the shop runs on SQLite (sqlite:///path) "
            "or PostgreSQL (postgresql://user@host/name)"
        )
    redis_url = settings.get("REDIS_URL")
    if redis_url:
        _check_redis_url(str(redis_url))


def _check_redis_url(url: str) -> None:
    """A Redis URL redis-py reads as written: its parser takes a database that is no
    number (`/x`) for database 0 without a word."""
    from redis.connection import parse_url

    if not url.startswith(REDIS_SCHEMES):
        raise ConfigError(f"REDIS_URL must start with {', '.join(REDIS_SCHEMES)}: {_shown(url)!r}")
    try:
        parsed = parse_url(url)
    except ValueError:
        raise ConfigError(f"REDIS_URL is not a Redis URL: {_shown(url)!r}") from None
    database = "" if url.startswith("unix://") else urlsplit(url).path.strip("/")
    if database and "db" not in parsed:
        raise ConfigError(
            f"REDIS_URL names the database {database!r}: Redis numbers its databases "
            "(redis://host:6379/0)"
        )


def from_environment(instance_path: str) -> dict[str, Any]:
    """Read every setting the shop knows from the environment, with safe defaults."""
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'storefront.db'}"
    return {
        "STOREFRONT_ENV": os.environ.get("STOREFRONT_ENV") or "production",
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "REDIS_KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX") or "storefront",
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER") or str(instance / "uploads"),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 10 * 1024 * 1024),
        "UPLOAD_ALLOWED_TYPES": os.environ.get("UPLOAD_ALLOWED_TYPES", ""),
        "IMAGE_MAX_PIXELS": _env_int("IMAGE_MAX_PIXELS", 40_000_000),
        "IMAGE_DISPLAY_SIZE": _env_int("IMAGE_DISPLAY_SIZE", 1280),
        "IMAGE_THUMBNAIL_SIZE": _env_int("IMAGE_THUMBNAIL_SIZE", 320),
        "MEDIA_QUOTA_BYTES": _env_int("MEDIA_QUOTA_BYTES", 200 * 1024 * 1024),
        # argon2id at OWASP's first recommended profile (19 MiB, 2 passes, 1 lane): strong,
        # and a worker's memory stays bounded while it hashes.
        "PASSWORD_HASH_TIME_COST": _env_int("PASSWORD_HASH_TIME_COST", 2),
        "PASSWORD_HASH_MEMORY_COST": _env_int("PASSWORD_HASH_MEMORY_COST", 19456),
        "PASSWORD_HASH_PARALLELISM": _env_int("PASSWORD_HASH_PARALLELISM", 1),
        "SESSION_LIFETIME_SECONDS": _env_int("SESSION_LIFETIME_SECONDS", 14 * 24 * 3600),
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", True),
        "SESSION_IDLE_TIMEOUT_SECONDS": _env_int("SESSION_IDLE_TIMEOUT_SECONDS", 2 * 24 * 3600),
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_LOGIN_PER_IP": os.environ.get("RATELIMIT_LOGIN_PER_IP", "30 per minute"),
        "RATELIMIT_LOGIN_PER_ACCOUNT": os.environ.get(
            "RATELIMIT_LOGIN_PER_ACCOUNT", "5 per 15 minutes"
        ),
        "RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL": os.environ.get(
            "RATELIMIT_LOGIN_PER_ACCOUNT_TOTAL", "50 per hour"
        ),
        "RATELIMIT_REGISTER_PER_IP": os.environ.get("RATELIMIT_REGISTER_PER_IP", "50 per hour"),
        "RATELIMIT_RESET_PER_IP": os.environ.get("RATELIMIT_RESET_PER_IP", "20 per hour"),
        "RATELIMIT_RESEND_PER_IP": os.environ.get("RATELIMIT_RESEND_PER_IP", "20 per hour"),
        "RATELIMIT_CONTACT_PER_IP": os.environ.get("RATELIMIT_CONTACT_PER_IP", "10 per hour"),
        "RATELIMIT_MAIL_PER_ADDRESS": os.environ.get(
            "RATELIMIT_MAIL_PER_ADDRESS", "3 per 15 minutes"
        ),
        "REQUIRE_EMAIL_CONFIRMATION": _env_bool("REQUIRE_EMAIL_CONFIRMATION", True),
        "ACCOUNT_TOKEN_MAX_AGE_SECONDS": _env_int("ACCOUNT_TOKEN_MAX_AGE_SECONDS", 24 * 3600),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL),
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _env_int("SMTP_PORT", 587),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "SMTP_TIMEOUT_SECONDS": os.environ.get("SMTP_TIMEOUT_SECONDS") or 10,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Storefront <no-reply@storefront.local>"),
        "MAIL_OUTBOX_DIR": os.environ.get("MAIL_OUTBOX_DIR", "outbox"),
        "MAIL_IN_BACKGROUND": _env_bool("MAIL_IN_BACKGROUND", True),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        "CURRENCY": os.environ.get("CURRENCY", "EUR").strip().upper(),
    }


def _development_secret(instance_path: str) -> str:
    """A secret kept in the instance folder, so every dev worker and restart shares it."""
    path = Path(instance_path) / "secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
    except OSError as error:
        raise ConfigError(
            f"the development SECRET_KEY cannot be kept in {str(path)!r} ({error.strerror}): "
            "set SECRET_KEY, or STOREFRONT_INSTANCE_PATH to a folder the shop may write"
        ) from None
    return key


#: The settings that are switches (see `_bool_setting`).
BOOLEAN_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "RATELIMIT_ENABLED",
    "REQUIRE_EMAIL_CONFIRMATION",
    "SMTP_STARTTLS",
    "MAIL_IN_BACKGROUND",
)
#: The names the mapping takes for the database (see build_settings).
DATABASE_SETTINGS = ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", "DATABASE")
_DATABASE_LOOKALIKE = re.compile(r"(SQLALCHEMY_)?(DATABASE|DB)(_UR[IL])?", re.IGNORECASE)


def _check_database_setting_names(overrides: Mapping[str, Any]) -> None:
    """Refuse a database named under another spelling (`DATABASE_URI`, `database_url`, …).

    Any other key is taken as it is and never read, so the app would quietly run on the
    default database, `instance/storefront.db` beside the tests, instead of the one named.
    """
    for key in overrides:
        if key not in DATABASE_SETTINGS and _DATABASE_LOOKALIKE.fullmatch(str(key)):
            raise ConfigError(
                f"{key} is not a setting: name the database with "
                f"{', '.join(DATABASE_SETTINGS[:-1])} or DATABASE (a SQLite file's path)"
            )


def build_settings(instance_path: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge environment and overrides, then fill derived values and refuse unsafe ones."""
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ConfigError(f"the settings must be a mapping, got {type(overrides).__name__}")
    overrides = overrides or {}
    _check_database_setting_names(overrides)
    _make_folder("STOREFRONT_INSTANCE_PATH", instance_path)
    settings = from_environment(instance_path)
    settings.update(overrides)
    _read_spellings(settings)
    _apply_database_aliases(settings, overrides)
    env = settings["STOREFRONT_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"STOREFRONT_ENV must be one of {ENVIRONMENTS}, got {env!r}")
    settings.setdefault("DEBUG", env == "development")
    _resolve_secret(settings, instance_path)
    _resolve_database_url(settings)
    _check_store_urls(settings)
    _apply_local_defaults(settings, overrides)
    _check_counts(settings)
    _check_mail(settings)
    _check_folder("UPLOAD_FOLDER", settings["UPLOAD_FOLDER"])
    _check_folder("MAIL_OUTBOX_DIR", settings["MAIL_OUTBOX_DIR"])
    _check_upload_types(settings)
    if not re.fullmatch(r"[A-Z]{3}", str(settings["CURRENCY"])):
        raise ConfigError("CURRENCY must be an ISO 4217 code such as EUR or USD")
    _check_log_level(settings)
    _check_rate_limits(settings)
    _check_password_hashing(settings)
    settings["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=settings["SESSION_LIFETIME_SECONDS"])
    return settings


def _read_spellings(settings: dict[str, Any]) -> None:
    """The mapping takes values as the environment spells them too: a string "false" is
    not a true value, and a string of types is not a collection of one-letter ones."""
    for key in BOOLEAN_SETTINGS:
        settings[key] = _bool_setting(key, settings[key])
    for key in ("TESTING", "DEBUG"):  # Flask's own, which only the mapping sets
        if settings.get(key) is None:
            settings.pop(key, None)  # None leaves it unset, as Flask's default does
        else:
            settings[key] = _bool_setting(key, settings[key])
    if isinstance(settings["UPLOAD_ALLOWED_TYPES"], str):
        settings["UPLOAD_ALLOWED_TYPES"] = _content_types(
            settings["UPLOAD_ALLOWED_TYPES"] or DEFAULT_UPLOAD_TYPES
        )


def _apply_database_aliases(settings: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    """The mapping's other names for Flask-SQLAlchemy's URI: the variable's `DATABASE_URL`,
    and the file path flaskr's tests name `DATABASE` (ignoring it would run the tests on the
    instance folder's database)."""
    if "SQLALCHEMY_DATABASE_URI" in overrides:
        return
    if "DATABASE_URL" in overrides:
        settings["SQLALCHEMY_DATABASE_URI"] = overrides["DATABASE_URL"]
    elif overrides.get("DATABASE"):
        settings["SQLALCHEMY_DATABASE_URI"] = _database_from_path(str(overrides["DATABASE"]))


def _resolve_secret(settings: dict[str, Any], instance_path: str) -> None:
    """A real SECRET_KEY, or a generated one where that is safe (tests, development)."""
    env, testing = settings["STOREFRONT_ENV"], settings.get("TESTING", False)
    secret = settings.get("SECRET_KEY")
    if secret is not None and not isinstance(secret, str | bytes):
        raise ConfigError(f"SECRET_KEY must be text, got {type(secret).__name__}")
    if secret is not None:
        secret = secret.strip()  # a key of spaces is no key; one pasted with a newline is
    if not secret or secret in PLACEHOLDER_SECRETS:
        if testing:
            settings["SECRET_KEY"] = secrets.token_urlsafe(32)
        elif env == "development":
            settings["SECRET_KEY"] = _development_secret(instance_path)
        else:
            raise ConfigError(
                "SECRET_KEY is missing or a placeholder. Set SECRET_KEY to a long random value "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or STOREFRONT_ENV=development for local use."
            )
    elif env == "production" and not testing and len(secret) < 24:
        raise ConfigError("SECRET_KEY is too short for production: use at least 24 characters.")


def _resolve_database_url(settings: dict[str, Any]) -> None:
    database_url = settings["SQLALCHEMY_DATABASE_URI"]
    if isinstance(database_url, URL):
        database_url = database_url.render_as_string(hide_password=False)
    if not isinstance(database_url, str):
        raise ConfigError(f"DATABASE_URL must be a database URL, got {database_url!r}")
    settings["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(database_url)


def _apply_local_defaults(settings: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    """What tests and development change unless the mapping names it."""
    testing = settings.get("TESTING", False)
    if testing:
        for key, cheap in TESTING_HASH_COSTS.items():
            if key not in overrides:
                settings[key] = cheap
        # Every request of a test client comes from 127.0.0.1, so a per-address limit counts
        # a whole test suite as one visitor, and its 51st registration would be refused.
        # The per-account login limit and the per-inbox mail limit stay as in production.
        for key in PER_ADDRESS_LIMITS:
            if key not in overrides:
                settings[key] = TESTING_PER_ADDRESS_LIMIT
        if "MAIL_IN_BACKGROUND" not in overrides:
            # A test reads the mail server right after the request: the mail must be there.
            settings["MAIL_IN_BACKGROUND"] = False
    if testing or settings["STOREFRONT_ENV"] == "development":
        given = "SESSION_COOKIE_SECURE" in overrides
        settings["SESSION_COOKIE_SECURE"] = given and settings["SESSION_COOKIE_SECURE"]


def _check_counts(settings: dict[str, Any]) -> None:
    for key, largest in COUNTED_SETTINGS.items():
        value = _count(settings, key)
        if not _is_int(value) or not 0 < value <= largest:
            raise ConfigError(f"{key} must be a whole number from 1 to {largest}")
    proxies = _count(settings, "TRUSTED_PROXIES")
    if not _is_int(proxies) or not 0 <= proxies <= 10:
        raise ConfigError("TRUSTED_PROXIES must be the number of proxies in front (0 to 10)")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(settings: dict[str, Any], key: str) -> Any:
    """The setting, as an int if it is one spelt in digits as the environment spells it
    (`"1025"`); anything else as given, for the caller to judge."""
    value = settings[key]
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = settings[key] = int(value)
    return value


#: A hundred years: how long a session or a link may be set to last. Longer would pass the
#: largest date there is, and every login would fail.
_LONGEST_SECONDS = 100 * 365 * 24 * 3600
#: The settings that count something, with the largest value each may take.
COUNTED_SETTINGS = {
    "MAX_CONTENT_LENGTH": 2**40,
    # Pillow refuses to decode more (a decompression bomb), whatever the shop would allow.
    "IMAGE_MAX_PIXELS": Image.MAX_IMAGE_PIXELS,
    "IMAGE_DISPLAY_SIZE": 65_535,
    "IMAGE_THUMBNAIL_SIZE": 65_535,
    "MEDIA_QUOTA_BYTES": 2**60,
    "SESSION_LIFETIME_SECONDS": _LONGEST_SECONDS,
    "SESSION_IDLE_TIMEOUT_SECONDS": _LONGEST_SECONDS,
    "ACCOUNT_TOKEN_MAX_AGE_SECONDS": _LONGEST_SECONDS,
    "SMTP_PORT": 65_535,
    # argon2's maximums a server can afford: past them every hash fails, so no one could
    # register or log in while the shop looked healthy.
    "PASSWORD_HASH_TIME_COST": 100,
    "PASSWORD_HASH_PARALLELISM": 64,
    "PASSWORD_HASH_MEMORY_COST": 4 * 1024 * 1024,  # KiB: 4 GiB
}


def _check_mail(settings: dict[str, Any]) -> None:
    """The mail settings a send would otherwise fail on, each time, as a 500."""
    host = settings["SMTP_HOST"]
    if host is not None and not isinstance(host, str):
        raise ConfigError(f"SMTP_HOST must be a host name, got {host!r}")
    settings["SMTP_HOST"] = (host or "").strip() or None  # empty: no server, as in the env
    timeout = settings["SMTP_TIMEOUT_SECONDS"]
    try:
        timeout = float(timeout) if not isinstance(timeout, bool) else None
    except (TypeError, ValueError):
        timeout = None
    if timeout is None or not 0 < timeout <= 3600:
        raise ConfigError(
            f"SMTP_TIMEOUT_SECONDS must be a number of seconds above 0, at most 3600, "
            f"got {settings['SMTP_TIMEOUT_SECONDS']!r}"
        )
    settings["SMTP_TIMEOUT_SECONDS"] = timeout
    sender = str(settings["MAIL_FROM"])
    address = parseaddr(sender)[1]
    # A line break in it would start another header: every send refuses it, so no mail went.
    if "@" not in address.strip("@") or not sender.isprintable():
        raise ConfigError(
            f"MAIL_FROM must be an address such as 'Shop <shop@example.com>', "
            f"got {settings['MAIL_FROM']!r}"
        )
    try:
        base = urlsplit(str(settings["PUBLIC_BASE_URL"]))
        port_ok = base.port != 0  # raises ValueError for a port that is no port (99999, abc)
    except ValueError:  # also an unclosed IPv6 bracket: `http://[::1`
        base, port_ok = urlsplit(""), False
    # Links are the base followed by a path: a query, fragment, space or login in the base
    # would break every link in every mail, or copy a password into them.
    raw = str(settings["PUBLIC_BASE_URL"])
    unsafe = any(char.isspace() or not char.isprintable() for char in raw)
    extras = "?" in raw or "#" in raw or "@" in base.netloc or unsafe
    if base.scheme not in ("http", "https") or not base.hostname or not port_ok or extras:
        raise ConfigError(
            "PUBLIC_BASE_URL must be the shop's address, such as https://shop.example.com, "
            f"got {settings['PUBLIC_BASE_URL']!r}"
        )


def _make_folder(name: str, folder: str) -> None:
    """A folder the shop needs before it starts, made now, or one line saying why it cannot."""
    _check_folder(name, folder)
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{name} cannot be made: {folder!r} ({error.strerror})") from None


def _check_folder(name: str, folder: Any) -> None:
    """A folder the shop writes to: a path that names a file would fail each write."""
    if not isinstance(folder, str | os.PathLike) or not str(folder).strip():
        raise ConfigError(f"{name} must be a folder's path, got {folder!r}")
    path = Path(folder)
    nearest = next((p for p in (path, *path.parents) if p.exists()), None)
    if nearest is not None and not nearest.is_dir():
        raise ConfigError(f"{name} must be a folder: {str(nearest)!r} is a file")


def _check_upload_types(settings: dict[str, Any]) -> None:
    """Only types the shop can tell from a file's content: any other would refuse every
    upload, since no file's content would ever be found to be it."""
    from .media.sniff import EXTENSIONS

    given = settings["UPLOAD_ALLOWED_TYPES"]
    known = ", ".join(EXTENSIONS)
    types = (
        tuple(str(t).strip().lower() for t in given)
        if isinstance(given, list | tuple | set | frozenset)
        else ()
    )
    if not types or not all(t in EXTENSIONS for t in types):
        raise ConfigError(f"UPLOAD_ALLOWED_TYPES must name some of {known}; got {given!r}")
    settings["UPLOAD_ALLOWED_TYPES"] = types


#: The levels `LOG_LEVEL` takes (logging also knows `NOTSET`, `WARN` and `FATAL`, aliases
#: or "everything", which the README does not offer).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _check_log_level(settings: dict[str, Any]) -> None:
    """`LOG_LEVEL` in any case (`debug` is `DEBUG`); logging itself knows only upper case,
    and an unknown name made every start a traceback."""
    given = settings["LOG_LEVEL"]
    level = str(given).strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}: {given!r}")
    settings["LOG_LEVEL"] = level


def _check_rate_limits(settings: dict[str, Any]) -> None:
    """Refuse a rate limit Flask-Limiter cannot read: it would log an error on each request
    and enforce nothing, so a typo would switch the login limit off. A limit of 0 refused
    every request, right passwords too (`RATELIMIT_ENABLED` is the switch)."""
    from limits import parse_many

    for name in RATE_LIMIT_SETTINGS:
        try:
            readable = all(limit.amount > 0 for limit in parse_many(str(settings[name])))
        except ValueError:
            readable = False
        if not readable:
            raise ConfigError(
                f"{name} must be a rate limit such as '5 per 15 minutes', got {settings[name]!r}"
            )


def _check_password_hashing(settings: dict[str, Any]) -> None:
    """argon2's own minimum memory for its lanes, checked here (the ranges are counted
    settings): below it every hash fails."""
    if settings["PASSWORD_HASH_MEMORY_COST"] < 8 * settings["PASSWORD_HASH_PARALLELISM"]:
        raise ConfigError(
            "PASSWORD_HASH_MEMORY_COST (KiB) must be at least 8 times PASSWORD_HASH_PARALLELISM"
        )
