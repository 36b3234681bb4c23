"""The base class of every admin view: access, merchant scoping, CSRF, after-commit work.

Scoping rules live in :mod:`platform_core.scoping`; this class applies them to the list,
count, detail, edit, delete, export, bulk actions, filters' option lists, relationship
choices and ajax lookups. Another merchant's id answers 404.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from flask import abort, has_request_context, redirect, request, url_for
from flask.globals import _cv_app
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.model import typefmt
from flask_babel import format_date
from flask_babel.speaklater import LazyString
from flask_login import current_user
from sqlalchemy import Unicode, or_
from sqlalchemy import cast as sql_cast
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.elements import ColumnElement

from admin_views.loyalty_format import iso, when, yes_no
from platform_core import db as dbmod
from platform_core.audit.models import AuditAction
from platform_core.audit.services import changes_of, record_audit, snapshot, start_tracking
from platform_core.extensions import db
from platform_core.forms import BaseForm
from platform_core.scoping import apply_scope, row_in_scope, scope_clause
from platform_core.search_fold import contains_folded, equals_folded, startswith_folded
from platform_core.staff.models import StaffRole
from platform_core.tenancy.models import Merchant


class AdminForm(BaseForm):
    """Admin forms: Flask-WTF CSRF token, WTForms messages in the user's language."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        # Flask-Admin's templates print only errors that are ``str``; our validators'
        # messages are lazy strings, which would silently disappear.
        for field in self:
            field.errors = [str(e) if isinstance(e, LazyString) else e for e in field.errors]
        return valid


def _when(view: Any, value: datetime, name: str) -> str:
    return when(value)


def _date(view: Any, value: date, name: str) -> str:
    return format_date(value, "medium")


def _yes_no(view: Any, value: bool, name: str) -> str:
    return yes_no(value)


def _iso(view: Any, value: date, name: str) -> str:
    return iso(value) if isinstance(value, datetime) else value.isoformat()


# bool and datetime first: Flask-Admin picks the first isinstance match (a datetime is a date).
#: Lists and details: one Babel style for every date and time, local time, localized yes/no.
TYPE_FORMATTERS = {bool: _yes_no, datetime: _when, date: _date, **typefmt.BASE_FORMATTERS}
DETAIL_TYPE_FORMATTERS = {bool: _yes_no, datetime: _when, date: _date, **typefmt.DETAIL_FORMATTERS}
#: CSV: ISO 8601 with the local offset (spreadsheets read it in any language), yes/no localized.
EXPORT_TYPE_FORMATTERS = {bool: _yes_no, datetime: _iso, date: _iso, **typefmt.EXPORT_FORMATTERS}


#: The last list page anyone can mean (a million pages of rows).
MAX_LIST_PAGE = 1_000_000


class ScopedOptions:
    """A filter's option list computed per request, for the user looking at it.

    Pass an instance as a filter's ``options``. Flask-Admin also evaluates options once when
    the view is built (no user, no request): then there is nothing to offer yet.
    """

    def __init__(self, model: type, label: Any) -> None:
        self.model = model
        self.label = label

    def __call__(self) -> list[tuple[Any, str]]:
        if not has_request_context():
            return []
        return scoped_choices(self.model, self.label)


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Ajax lookups for relationship fields, limited to the user's rows."""

    def get_query(self) -> Any:
        return apply_scope(super().get_query(), self.model, current_user)

    def get_one(self, pk: Any) -> Any:
        row = super().get_one(pk)
        if row is None or not row_in_scope(row, current_user):
            return None
        return row


class SecureModelView(ModelView):
    """All admin views derive from this.

    Class attributes a subclass may set:

    * ``allowed_roles``: roles that may open the view (default: every staff role);
    * ``write_roles``: roles that may create, edit and delete (default: ``allowed_roles``);
    * ``assign_merchant``: on create by a merchant user, set ``merchant_id`` to theirs.
    """

    allowed_roles: frozenset[StaffRole] = frozenset(StaffRole)
    write_roles: frozenset[StaffRole] | None = None
    assign_merchant = True

    form_base_class = AdminForm
    page_size = 20
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    can_set_page_size = True
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_TYPE_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS

    def __init__(self, model: type, session: Any = None, **kwargs: Any) -> None:
        super().__init__(model, session or db, **kwargs)

    # --- access -----------------------------------------------------------------------------
    def is_accessible(self) -> bool:
        return bool(
            current_user.is_authenticated
            and current_user.is_active
            and current_user.role in self.allowed_roles
        )

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        # Before anything is loaded or flushed: the audit log needs every old value.
        start_tracking()
        return super()._handle_view(name, **kwargs)

    def _can_write(self) -> bool:
        roles = self.write_roles if self.write_roles is not None else self.allowed_roles
        return current_user.is_authenticated and current_user.role in roles

    # Read per request. A read-only subclass sets ``can_create = False`` (and so on) as a
    # plain class attribute, which shadows these properties.
    @property
    def can_create(self) -> bool:
        return self._can_write()

    @property
    def can_edit(self) -> bool:
        return self._can_write()

    @property
    def can_delete(self) -> bool:
        return self._can_write()

    # --- bad input -------------------------------------------------------------------------
    def _get_list_extra_args(self) -> Any:
        args = super()._get_list_extra_args()
        # page x page size becomes an OFFSET: a 20-digit page would overflow the driver.
        if args.page is not None and not 0 <= args.page <= MAX_LIST_PAGE:
            abort(404)
        return args

    # --- search: accents and case ignored --------------------------------------------------
    def search_clause(self, column: Any, term: str) -> ColumnElement[bool]:
        """Whether ``column`` matches one search word, accents and case ignored.

        Flask-Admin's rules: ``^word`` is a prefix, ``=word`` the whole value, otherwise the
        word anywhere; ``%`` and ``_`` are plain characters.
        """
        text = sql_cast(column, Unicode)
        if term.startswith("^"):
            return startswith_folded(text, term[1:])
        if term.startswith("="):
            return equals_folded(text, term[1:])
        return contains_folded(text, term)

    def _apply_search(
        self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str
    ) -> Any:
        # Flask-Admin's loop (each word must match some searchable column, related columns
        # through outer joins), with its ``cast(column).ilike(word)`` replaced by
        # ``search_clause``; Flask-Admin offers no smaller hook for the comparison.
        for term in search.split(" "):
            if not term:
                continue
            clauses = []
            count_clauses = []
            for field, path in self._search_fields or ():
                query, joins, alias = self._apply_path_joins(query, joins, path, inner_join=False)
                clauses.append(self.search_clause(_aliased(field, alias), term))
                if count_query is not None:
                    count_query, count_joins, count_alias = self._apply_path_joins(
                        count_query, count_joins, path, inner_join=False
                    )
                    count_clauses.append(self.search_clause(_aliased(field, count_alias), term))
            query = query.filter(or_(*clauses))
            if count_query is not None:
                count_query = count_query.filter(or_(*count_clauses))
        return query, count_query, joins, count_joins

    # --- export ----------------------------------------------------------------------------
    def get_export_value(self, model: Any, name: Any) -> Any:
        # Every date-time column is ISO with offset in a CSV, whatever the column's own
        # (display) formatter does.
        value = getattr(model, name, None) if isinstance(name, str) else None
        if isinstance(value, datetime):
            return iso(value)
        if isinstance(value, bool) and name not in self.column_formatters_export:
            return yes_no(value)
        return super().get_export_value(model, name)

    def _export_csv(self, return_url: Any) -> Any:
        response = super()._export_csv(return_url)
        response.response = _keeping_session(response.response)
        return response

    # --- scoping ----------------------------------------------------------------------------
    def get_query(self) -> Any:
        return apply_scope(super().get_query(), self.model, current_user)

    def get_count_query(self) -> Any:
        return apply_scope(super().get_count_query(), self.model, current_user)

    def get_one(self, id: Any) -> Any:
        row = super().get_one(id)
        if row is None or not row_in_scope(row, current_user):
            abort(404)
        return row

    # Flask-Admin caches filter options when the view is built; scoped options depend on who
    # asks, so they are rebuilt for each request (into a new dict: the view instance is
    # shared between threads).
    def _get_filter_groups(self) -> OrderedDict[str, list[dict[str, Any]]] | None:
        if not self._filters:
            return None
        groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        for index, flt in enumerate(self._filters):
            options = flt.get_options(self)
            groups.setdefault(str(flt.name), []).append(
                {
                    "index": index,
                    "arg": self.get_filter_arg(index, flt),
                    "operation": str(flt.operation()),
                    "options": [(key, str(label)) for key, label in options] if options else None,
                    "type": flt.data_type,
                }
            )
        return groups

    # Flask-Admin filters ``id IN (<the posted strings>)``: PostgreSQL refuses to compare an
    # integer column with text, so the bulk delete failed there. Same action, integer ids.
    def action_delete(self, ids: Any) -> Any:
        return super().action_delete([int(v) for v in ids if str(v).strip().isdigit()])

    action_delete._action = ModelView.action_delete._action  # type: ignore[attr-defined]

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> Any:
        attr = getattr(self.model, name)
        remote_model = attr.prop.mapper.class_
        return ScopedAjaxLoader(name, self.session, remote_model, **options)

    def _scope_relationship_fields(self, form: Any) -> Any:
        """Limit every select of related rows to the user's rows (and validate posts too)."""
        for field in form:
            factory = getattr(field, "query_factory", None)
            if factory is None or getattr(field, "_scoped", False):
                continue
            remote = _query_model(factory())
            if remote is None:
                continue
            field.query_factory = _scoped_factory(factory, remote)
            field._scoped = True
        return form

    def create_form(self, obj: Any = None) -> Any:
        return self._scope_relationship_fields(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        form = self._scope_relationship_fields(super().edit_form(obj))
        # Flask-Admin's Unique validator accepts a row's own value only when it finds the row
        # on ``form._obj``, which nothing sets: without it no unique field is editable.
        form._obj = obj
        return form

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        user = current_user
        if not user.is_platform_admin:
            if (
                self.assign_merchant
                and hasattr(model, "merchant_id")
                and (is_created or model.merchant_id != user.merchant_id)
            ):
                # Whatever the form sent, a merchant user's rows are their merchant's.
                model.merchant_id = user.merchant_id
                if "merchant" in sa_inspect(type(model)).relationships:
                    model.merchant = db.session.get(
                        sa_inspect(type(model)).relationships["merchant"].mapper.class_,
                        user.merchant_id,
                    )
            db.session.flush()
            if not row_in_scope(model, user):
                abort(404)
        super().on_model_change(form, model, is_created)

    # --- audit log: in the transaction of the change, before Flask-Admin commits ----------
    def _on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        # Flask-Admin calls this around the whole ``on_model_change`` chain of the subclasses.
        super()._on_model_change(form, model, is_created)
        db.session.flush()
        if is_created:
            self._audit(AuditAction.CREATE, model, snapshot(model, created=True))
        else:
            changes = changes_of(model)
            if changes:
                self._audit(AuditAction.UPDATE, model, changes)

    def on_model_delete(self, model: Any) -> None:
        super().on_model_delete(model)
        self._audit(AuditAction.DELETE, model, snapshot(model, created=False))

    def _audit(self, action: AuditAction, model: Any, changes: dict[str, Any]) -> None:
        record_audit(
            action,
            model=type(model),
            object_id=self.get_pk_value(model),
            merchant_id=merchant_id_of(model),
            changes=changes,
        )

    def after_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        # Flask-Admin committed already; run what services queued for after the commit.
        dbmod.run_after_commit()
        super().after_model_change(form, model, is_created)

    def after_model_delete(self, model: Any) -> None:
        dbmod.run_after_commit()
        super().after_model_delete(model)


def merchant_id_of(row: Any) -> int | None:
    """The merchant a row belongs to (its own id for a merchant), ``None`` if platform-level."""
    if isinstance(row, Merchant):
        return row.id
    merchant_id = getattr(row, "merchant_id", None)
    if merchant_id is not None:
        return int(merchant_id)
    store = getattr(row, "store", None)
    return getattr(store, "merchant_id", None)


def _aliased(field: Any, alias: Any) -> Any:
    """``field`` as seen through the join's ``alias`` (``None``: the field itself)."""
    return field if alias is None else getattr(alias, field.key)


def _keeping_session(rows: Iterator[Any]) -> Iterator[Any]:
    """Keep the request's app context, and so its database session, until the last row.

    The WSGI server reads a streamed export after the view has returned and the request has
    ended; ending the app context would remove the session, and the rows' lazy loads (a
    card's store) would then fail on detached objects, cutting the file after its header.
    Pushing the same context once more defers that teardown until the stream is closed.
    """
    app_ctx = _cv_app.get()
    app_ctx.push()

    def stream() -> Iterator[Any]:
        try:
            yield from rows
        finally:
            app_ctx.pop()

    return stream()


def _query_model(query: Any) -> type | None:
    try:
        return query.column_descriptions[0]["entity"]
    except (AttributeError, IndexError, KeyError):
        return None


def _scoped_factory(factory: Any, model: type) -> Any:
    def scoped() -> Any:
        return apply_scope(factory(), model, current_user)

    return scoped


def scoped_choices(model: type, label: Any, value: Any = None) -> list[tuple[Any, str]]:
    """(value, label) pairs of the user's rows, for filter option lists.

    Pass it as a callable: ``options=lambda: scoped_choices(Store, Store.name)``.
    """
    value = value if value is not None else sa_inspect(model).primary_key[0]
    stmt = db.select(value, label).order_by(label)
    clause = scope_clause(model, current_user)
    if clause is not None:
        stmt = stmt.where(clause)
    return [(row[0], str(row[1])) for row in db.session.execute(stmt)]
