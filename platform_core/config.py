"""All settings, read once from the environment (and a `.env` file when present).

Nothing else in the code base reads ``os.environ``: modules receive their settings from
``current_app.config`` or from :func:`load_config`.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", PROJECT_ROOT / "instance"))

load_dotenv(PROJECT_ROOT / ".env", override=False)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise RuntimeError(f"{name} must be true or false, got {raw!r}")


def _development_secret_key() -> str:
    """A random key kept in ``instance/`` so sessions survive restarts in development."""
    path = INSTANCE_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs name the old driver; we only ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Development defaults: embedded SQLite, file outbox, in-process rate limits."""

    ENV_NAME = "development"
    TESTING = False

    SECRET_KEY = env_str("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _normalise_database_url(
        env_str("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'platform.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

    #: Huey's storage: ``sqlite:///path`` for development, ``redis://`` in production,
    #: ``memory://`` for tests.
    HUEY_URL = env_str("HUEY_URL", f"sqlite:///{INSTANCE_DIR / 'huey.sqlite3'}")
    HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)

    RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    #: Named limits, applied with ``limiter.limit(lambda: current_app.config[...])``.
    RATELIMIT_LOGIN = env_str("RATELIMIT_LOGIN", "5/minute")
    RATELIMIT_ENROLL = env_str("RATELIMIT_ENROLL", "10/minute")
    RATELIMIT_PROGRAM_INFO = env_str("RATELIMIT_PROGRAM_INFO", "30/minute")
    #: "Forgot your password?" requests, per client address and per email asked for.
    RATELIMIT_PASSWORD_RESET = env_str("RATELIMIT_PASSWORD_RESET", "5/hour")
    #: Requests per API key to the merchant API (``/api/v1/merchant/``).
    MERCHANT_API_RATELIMIT = env_str("MERCHANT_API_RATELIMIT", "600/minute")
    #: Idempotency-Key answers are kept this many hours (never fewer than 24).
    MERCHANT_API_IDEMPOTENCY_HOURS = env_int("MERCHANT_API_IDEMPOTENCY_HOURS", 48)
    #: Webhooks may reach private, loopback and link-local addresses (development, tests;
    #: production refuses them unless set).
    WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", True)
    #: Seconds a webhook endpoint has to answer.
    WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", 10.0)
    #: First retry delay of a failed webhook delivery; each next one is 4 times longer.
    WEBHOOK_RETRY_BASE_SECONDS = env_float("WEBHOOK_RETRY_BASE_SECONDS", 5.0)
    #: Wrong void PINs allowed per staff user; then voids with a PIN are refused until the
    #: window passes.
    RATELIMIT_VOID_PIN = env_str("RATELIMIT_VOID_PIN", "5/15 minutes")
    #: How many reverse proxies in front of the app may set X-Forwarded-For.
    TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

    #: ``text`` (people) or ``json`` (one JSON object per line, for a log collector).
    LOG_FORMAT = env_str("LOG_FORMAT", "text")
    LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
    #: Request bodies larger than this answer 413 (the largest legitimate one, an email
    #: template of 100,000 characters, is well below).
    MAX_CONTENT_LENGTH = 1024 * 1024

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = env_str("BABEL_DEFAULT_TIMEZONE", "Europe/Luxembourg")
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
    LANGUAGES = ("en", "fr", "de", "lb")

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    #: A console session ends after this many hours without a request (remember-me too).
    SESSION_IDLE_HOURS = env_float("SESSION_IDLE_HOURS", 12.0)
    #: "Keep me logged in" lasts this many days at most.
    REMEMBER_COOKIE_DURATION = timedelta(days=env_int("REMEMBER_COOKIE_DAYS", 14))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    #: The base of every absolute link the product emails or returns (never the request's
    #: Host header); a store's links may use its own StoreDomain instead.
    PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    #: Answer 400 for a Host that is neither PUBLIC_BASE_URL's nor a StoreDomain.
    REJECT_UNKNOWN_HOSTS = env_bool("REJECT_UNKNOWN_HOSTS", False)
    #: Signed card-page links stay valid this many days.
    CARD_LINK_MAX_AGE_DAYS = env_int("CARD_LINK_MAX_AGE_DAYS", 90)
    #: Password reset links stay valid this many hours; invitations this many days.
    PASSWORD_RESET_MAX_AGE_HOURS = env_int("PASSWORD_RESET_MAX_AGE_HOURS", 2)
    INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 7)
    #: The public program-info answer is cached per worker this many seconds (0 = off).
    PROGRAM_INFO_CACHE_SECONDS = env_int("PROGRAM_INFO_CACHE_SECONDS", 10)

    MAIL_BACKEND = env_str("MAIL_BACKEND", "file")
    MAIL_FROM = env_str("MAIL_FROM", "loyalty@platform.lu")
    MAIL_OUTBOX_DIR = env_str("MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "outbox"))
    SMTP_HOST = env_str("SMTP_HOST", "localhost")
    SMTP_PORT = env_int("SMTP_PORT", 25)
    SMTP_SECURITY = env_str("SMTP_SECURITY", "none")
    SMTP_USER = env_str("SMTP_USER")
    SMTP_PASSWORD = env_str("SMTP_PASSWORD")
    SMTP_TIMEOUT = env_float("SMTP_TIMEOUT", 10.0)
    #: Delay between the retries of a failed email send, in seconds.
    MAIL_RETRY_DELAY = env_int("MAIL_RETRY_DELAY", 60)
    MAIL_RETRIES = env_int("MAIL_RETRIES", 3)
    #: Editable templates render in sandbox worker processes (see messaging/sandbox_pool.py):
    #: how many per web or consumer process, the time budget of one render (s), and the
    #: address space of a worker (MB).
    TEMPLATE_SANDBOX_WORKERS = env_int("TEMPLATE_SANDBOX_WORKERS", 2)
    TEMPLATE_RENDER_TIMEOUT = env_float("TEMPLATE_RENDER_TIMEOUT", 2.0)
    TEMPLATE_SANDBOX_MEMORY_MB = env_int("TEMPLATE_SANDBOX_MEMORY_MB", 512)
    #: Seconds after which the email sweeper re-enqueues a ``queued`` row whose task never
    #: ran, or a ``sending`` row whose consumer died (the lease of a claim).
    MAIL_STALE_AFTER = env_int("MAIL_STALE_AFTER", 120)

    #: Google Wallet: the issuer id and the service account JSON key file. Empty = disabled.
    GOOGLE_WALLET_ISSUER_ID = env_str("GOOGLE_WALLET_ISSUER_ID")
    GOOGLE_WALLET_SERVICE_ACCOUNT_FILE = env_str("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE")
    GOOGLE_WALLET_API_BASE = env_str(
        "GOOGLE_WALLET_API_BASE", "https://walletobjects.googleapis.com/walletobjects/v1"
    )
    GOOGLE_WALLET_TOKEN_URI = env_str("GOOGLE_WALLET_TOKEN_URI", "")
    GOOGLE_WALLET_SAVE_URL = env_str("GOOGLE_WALLET_SAVE_URL", "https://pay.google.com/gp/v/save")
    GOOGLE_WALLET_ORIGINS = env_str("GOOGLE_WALLET_ORIGINS", "")
    #: Seconds a program's logo server has to answer ``wallet-check``'s HEAD request.
    GOOGLE_WALLET_LOGO_TIMEOUT = env_float("GOOGLE_WALLET_LOGO_TIMEOUT", 5.0)
    #: Seconds between the attempts of a wallet sync (4 attempts in all).
    WALLET_RETRY_DELAYS = (1, 4, 16)

    #: Points expiry runs in chunks of this many cards, each chunk in its own transaction.
    EXPIRY_CHUNK_SIZE = env_int("EXPIRY_CHUNK_SIZE", 500)

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            self.SECRET_KEY = _development_secret_key()


class ProductionConfig(Config):
    """PostgreSQL, Redis, SMTP. Refuses to start without a secret key."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REJECT_UNKNOWN_HOSTS = env_bool("REJECT_UNKNOWN_HOSTS", True)
    MAIL_BACKEND = env_str("MAIL_BACKEND", "smtp")
    WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set in production (APP_ENV=production).")


class TestConfig(Config):
    """Used by the test suite: database from TEST_DATABASE_URL, tasks run inline."""

    __test__ = False  # not a pytest test class, despite its name

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - only ever used by the test suite
    SQLALCHEMY_DATABASE_URI = _normalise_database_url(
        env_str("TEST_DATABASE_URL", "sqlite:///" + str(INSTANCE_DIR / "test.sqlite3"))
    )
    HUEY_URL = "memory://"
    HUEY_IMMEDIATE = True
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_BACKEND = "memory"
    WTF_CSRF_ENABLED = False
    MAIL_RETRY_DELAY = 0
    WALLET_RETRY_DELAYS = (0, 0, 0)
    PROGRAM_INFO_CACHE_SECONDS = 0
    SERVER_NAME = None
    WEBHOOK_ALLOW_PRIVATE = True
    WEBHOOK_TIMEOUT = 2.0


CONFIGS: dict[str, type[Config]] = {
    "development": Config,
    "production": ProductionConfig,
    "test": TestConfig,
}


def load_config(name: str | None = None) -> Config:
    """Instantiate the configuration named by ``name`` or the ``APP_ENV`` variable."""
    name = name or env_str("APP_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, got {name!r}") from None
