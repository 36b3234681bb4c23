"""Importing cards from a legacy system in the console: upload, preview, import.

The preview reads and checks the whole file and runs the import as a dry run, so it shows
exactly the problems the import will report. The file travels back with the confirmation
as a hidden field (base64): nothing is kept on the server between the two steps.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import abort, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_babel import format_date, format_decimal
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.orm import joinedload
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired

from admin_views.loyalty_base import CATEGORY
from loyalty.services.card_import import (
    HEADERS,
    ImportFileError,
    ParsedFile,
    import_file,
    read_import_file,
)
from platform_core import db as dbmod
from platform_core.audit.models import AuditAction
from platform_core.audit.services import record_audit
from platform_core.errors import large_body
from platform_core.extensions import db
from platform_core.forms import BaseForm
from platform_core.i18n_lazy import _, _l
from platform_core.scoping import apply_scope, row_in_scope
from platform_core.staff.models import StaffRole
from platform_core.tenancy.models import Store

#: The largest file the console takes (also the preview's hidden field).
MAX_BYTES = 10 * 1024 * 1024
#: Data rows the preview lists.
PREVIEW_ROWS = 10
ADMINS = frozenset({StaffRole.PLATFORM_ADMIN, StaffRole.MERCHANT_ADMIN})


class UploadForm(BaseForm):
    store_id = SelectField(_l("Store where the cards count as enrolled"), coerce=int)
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        description=_l("UTF-8 or Windows-1252, separated by commas or semicolons."),
    )


class ConfirmForm(BaseForm):
    store_id = HiddenField(validators=[DataRequired()])
    content = HiddenField(validators=[DataRequired()])
    filename = HiddenField()


def _stores() -> list[Store]:
    stmt = apply_scope(
        db.select(Store).options(joinedload(Store.merchant)).order_by(Store.name),
        Store,
        current_user,
    )
    return list(db.session.scalars(stmt))


def _store_or_404(store_id: Any) -> Store:
    try:
        store = db.session.get(Store, int(store_id))
    except (TypeError, ValueError):
        store = None
    if store is None or not row_in_scope(store, current_user):
        abort(404)
    return store


def _choices(stores: list[Store]) -> list[tuple[int, str]]:
    if current_user.is_platform_admin:
        return [(s.id, f"{s.merchant.name} — {s.name}") for s in stores]
    return [(s.id, s.name) for s in stores]


class CardImportView(BaseView):
    def is_accessible(self) -> bool:
        return bool(
            current_user.is_authenticated and current_user.is_active and current_user.role in ADMINS
        )

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def _upload_page(self, form: UploadForm, error: str | None = None, status: int = 200) -> Any:
        return self.render(
            "admin/loyalty/import_upload.html",
            form=form,
            error=error,
            headers=HEADERS,
        ), status

    def _upload_form(self) -> UploadForm:
        form = UploadForm()
        form.store_id.choices = _choices(_stores())
        return form

    @expose("/", methods=["GET"])
    def index(self) -> Any:
        return self._upload_page(self._upload_form())

    @expose("/preview", methods=["POST"])
    @large_body(MAX_BYTES + 64 * 1024)
    def preview(self) -> Any:
        form = self._upload_form()
        if not form.validate_on_submit():
            return self._upload_page(form, status=400)
        store = _store_or_404(form.store_id.data)
        data = form.file.data.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return self._upload_page(
                form, _("The file is larger than 10 MB. Please split it."), status=400
            )
        try:
            parsed = read_import_file(data)
            report = import_file(store.merchant, parsed, store=store, dry_run=True)
        except ImportFileError as exc:
            return self._upload_page(form, str(exc), status=400)
        confirm = ConfirmForm(
            formdata=None,
            store_id=str(store.id),
            content=base64.b64encode(data).decode("ascii"),
            filename=form.file.data.filename or "",
        )
        return self.render(
            "admin/loyalty/import_preview.html",
            store=store,
            parsed=parsed,
            sample=_sample(parsed),
            report=report,
            opening_points=format_decimal(report.opening_points),
            confirm=confirm,
            filename=form.file.data.filename or "",
        )

    @expose("/run", methods=["POST"])
    @large_body(2 * MAX_BYTES)  # the file again, in base64
    def run(self) -> Any:
        form = ConfirmForm()
        if not form.validate_on_submit():
            return redirect(url_for(".index"))
        store = _store_or_404(form.store_id.data)
        try:
            data = base64.b64decode(form.content.data or "", validate=True)
        except (binascii.Error, ValueError):
            return redirect(url_for(".index"))
        try:
            parsed = read_import_file(data)
            report = import_file(
                store.merchant, parsed, store=store, after_chunk=lambda _rows: dbmod.commit()
            )
        except ImportFileError as exc:
            return self._upload_page(self._upload_form(), str(exc), status=400)
        record_audit(
            AuditAction.IMPORT,
            model="LoyaltyCard",
            merchant_id=store.merchant_id,
            changes={
                "file": [None, form.filename.data or ""],
                "store_id": [None, store.id],
                "created": [None, report.created],
                "existing": [None, report.existing],
                "refused": [None, len(report.problems)],
            },
        )
        dbmod.commit()
        return self.render(
            "admin/loyalty/import_result.html",
            store=store,
            report=report,
            filename=form.filename.data or "",
        )


def _sample(parsed: ParsedFile) -> list[dict[str, Any]]:
    return [
        {
            "line": row.line,
            "email": row.email,
            "name": f"{row.first_name} {row.last_name}",
            "points": format_decimal(row.points),
            "stamps": format_decimal(row.stamps),
            "birthday": format_date(row.birthday, "medium") if row.birthday else "",
            "locale": row.locale or "",
            "marketing_consent": row.marketing_consent,
        }
        for row in parsed.rows[:PREVIEW_ROWS]
    ]


def add_views(admin: Admin) -> None:
    admin.add_view(
        CardImportView(
            name=_l("Import cards"), endpoint="card_import", url="card-import", category=CATEGORY
        )
    )
