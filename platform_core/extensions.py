"""Module-level extensions, bound to the app in :func:`platform_core.app.create_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from platform_core.db import Session
from platform_core.i18n_lazy import lazy_gettext as _l
from platform_core.ratelimit import client_ip
from platform_core.search_fold import install_postgres_function

# Stable constraint names so Alembic can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Searches call loyalty_fold(); the migrations create it too (platform_core.search_fold).
install_postgres_function(Base.metadata)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})

# Models derive from ``Model``: at run time Flask-SQLAlchemy's ``db.Model`` (a subclass of
# ``Base`` it builds at start-up); for the type checker, which cannot take a variable as a base
# class, the ``Base`` it derives from.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "warning"
limiter = Limiter(key_func=client_ip, default_limits=[])
