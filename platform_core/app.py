"""The application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from platform_core.config import INSTANCE_DIR, PROJECT_ROOT, Config, load_config
from platform_core.errors import register_error_handlers
from platform_core.extensions import babel, csrf, db, limiter, login_manager, migrate
from platform_core.logging_setup import configure_logging, init_request_ids


def create_app(overrides: dict[str, Any] | None = None, config: Config | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, admin views, CLI groups, in that order.

    :param overrides: settings that win over the configuration (tests use it).
    :param config: a configuration object; by default the one named by ``APP_ENV``.
    """
    app = Flask(
        "platform_core",
        instance_path=str(INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "platform_core" / "templates"),
        static_folder=str(PROJECT_ROOT / "platform_core" / "static"),
    )
    app.config.from_object(config or load_config())
    if overrides:
        app.config.update(overrides)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])

    _init_templates(app)
    _init_proxy(app)
    init_request_ids(app)
    register_error_handlers(app)  # before the blueprints: it bounds their <int:> converters
    _init_extensions(app)
    _register_ports(app)
    _init_security(app)
    _register_blueprints(app)
    _register_admin(app)
    _register_cli(app)
    return app


def _init_templates(app: Flask) -> None:
    # Each package keeps the templates its pages use (loyalty: card details, terminal;
    # messaging: email log, template editor); the core keeps the base layout and auth
    # pages. Looked up in this order, so the core's layout is the one pages extend.
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "platform_core" / "templates")),
            FileSystemLoader(str(PROJECT_ROOT / "loyalty" / "templates")),
            FileSystemLoader(str(PROJECT_ROOT / "messaging" / "templates")),
        ]
    )


def _init_proxy(app: Flask) -> None:
    # Only as many X-Forwarded-* hops as there are proxies we run; with 0 the header is
    # ignored entirely, so a client cannot pick its own rate-limit bucket. X-Forwarded-Host
    # and -Port are never trusted: links come from PUBLIC_BASE_URL, and the host a request
    # names is checked against the known hosts (platform_core.hosts).
    count = int(app.config.get("TRUSTED_PROXY_COUNT", 0))
    if count > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=0, x_port=0
        )


def _init_extensions(app: Flask) -> None:
    # Import every model so metadata (and Alembic) sees all tables.
    import platform_core.models  # noqa: F401
    from platform_core import db as dbmod
    from platform_core.huey import huey
    from platform_core.i18n import init_i18n

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # The web app and the consumer share SQLite's write lock: wait up to 30 s for it
        # instead of failing after pysqlite's default 5 s.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _enable_sqlite_foreign_keys(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    init_i18n(app, babel)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    huey.immediate = bool(app.config.get("HUEY_IMMEDIATE"))

    @app.teardown_request
    def _rollback_uncommitted(exc: BaseException | None) -> None:
        # A request that failed must not leave half its work around, nor its after-commit
        # callbacks queued for the next user of the session.
        if exc is not None:
            dbmod.rollback()


def _init_security(app: Flask) -> None:
    from platform_core.headers import init_headers
    from platform_core.hosts import init_host_check
    from platform_core.sessions import init_sessions

    init_host_check(app)
    init_sessions(app)
    init_headers(app)


def _enable_sqlite_foreign_keys(app: Flask) -> None:
    from sqlalchemy import event

    from platform_core.search_fold import register_sqlite

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _fk_on(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling delays BEGIN, so a SAVEPOINT would open the
        # transaction and its RELEASE would commit it: savepoint-joined test sessions (and
        # services' begin_nested) would commit for real. SQLAlchemy emits BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # The accent-insensitive searches' loyalty_fold() (PostgreSQL has it as SQL).
        register_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads, then
        # writes, fails with "database is locked" when another process (the consumer)
        # writes meanwhile, without waiting; an email task would then be retried after SMTP
        # had accepted the message, and sent twice. Waiting here is SQLite's busy timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _register_ports(app: Flask) -> None:
    # The core sends staff emails through a port; messaging, a layer above, provides it.
    from messaging.queueing import send
    from platform_core.mail_port import register_mail_sender

    register_mail_sender(app, send)


def _register_blueprints(app: Flask) -> None:
    from loyalty.views import register_loyalty_views
    from platform_core.auth import password_views, views  # noqa: F401  (routes on auth_bp)
    from platform_core.auth.blueprint import bp as auth_bp
    from platform_core.public import bp as public_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(public_bp)
    register_loyalty_views(app)


def _register_admin(app: Flask) -> None:
    from admin_views import register_admin

    register_admin(app)


def _register_cli(app: Flask) -> None:
    from platform_core.cli import register_cli

    register_cli(app)
