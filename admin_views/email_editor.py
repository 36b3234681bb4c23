"""The store override editor at /admin/email-templates/: list, edit, preview, versions, reset.

Every rule (scoping, validation, versioning) is in :mod:`messaging.editor`; this view only
translates requests into calls to it and commits at the end.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from loyalty.email_preview import preview_values
from messaging import editor
from messaging.models import StoreEmailTemplate
from messaging.rendering import TemplateProblem, TemplateRenderError
from messaging.sandbox_pool import SandboxUnavailable
from platform_core import db as dbmod
from platform_core.audit.models import AuditAction
from platform_core.audit.services import record_audit
from platform_core.forms import BaseForm
from platform_core.i18n_lazy import _, _l
from platform_core.staff.models import StaffRole
from platform_core.tenancy.models import Store


class OverrideForm(BaseForm):
    subject = StringField(
        _l("Subject"),
        validators=[
            InputRequired(message=_l("Enter a subject.")),
            Length(max=255, message=_l("The subject can be at most %(max)d characters long.")),
        ],
    )
    body_html = TextAreaField(
        _l("HTML body"), validators=[InputRequired(message=_l("Enter the HTML body."))]
    )
    body_text = TextAreaField(
        _l("Text body"),
        description=_l("Optional. Left empty, the text part is derived from the HTML body."),
    )

    def draft(self) -> dict[str, str]:
        return {
            "subject": self.subject.data or "",
            "body_html": self.body_html.data or "",
            "body_text": self.body_text.data or "",
        }


def problem_text(problem: Any) -> str:
    """A template problem as shown to the user, with its line number when known."""
    if getattr(problem, "line", None):
        return _("Line %(line)s: %(message)s", line=problem.line, message=problem.message)
    return str(problem.message)


def attach_problems(form: Any, problems: list[Any]) -> None:
    """Show each problem under the field it belongs to (subject, HTML or text body)."""
    for problem in problems:
        field = getattr(form, getattr(problem, "field", ""), None) or form.body_html
        field.errors = [*field.errors, problem_text(problem)]


class EmailTemplateEditorView(BaseView):
    """Codes x locales of a store, and the editor of one store override."""

    def is_accessible(self) -> bool:
        return bool(
            current_user.is_authenticated
            and current_user.is_active
            and current_user.role in set(StaffRole)
        )

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    # --- look-ups that answer 404 outside the user's scope ----------------------------------
    def _store(self, store_id: int | None) -> Store:
        try:
            return editor.store_for(current_user, store_id)
        except editor.NotInScope:
            abort(404)

    def _target(self, store_id: int, code: str, locale: str) -> Store:
        store = self._store(store_id)
        try:
            editor.check_code_and_locale(code, locale)
        except editor.NotInScope:
            abort(404)
        return store

    # --- pages ------------------------------------------------------------------------------
    @expose("/")
    def index(self) -> Any:
        stores = editor.stores_for(current_user)
        store = None
        if stores:
            wanted = request.args.get("store_id", type=int)
            store = self._store(wanted) if wanted is not None else stores[0]
        rows = editor.overview(current_user, store) if store is not None else []
        return self.render(
            "admin/messaging/override_list.html",
            stores=stores,
            store=store,
            rows=rows,
            specs={code: editor.template_spec(code) for code in editor.template_codes()},
        )

    @expose("/<int:store_id>/<code>/<locale>/", methods=("GET", "POST"))
    def edit(self, store_id: int, code: str, locale: str) -> Any:
        store = self._target(store_id, code, locale)
        override = editor.find_override(store, code, locale)
        platform = editor.platform_template(code, locale)
        start = override or platform
        form = OverrideForm(obj=start) if request.method == "GET" else OverrideForm()
        preview = None
        problems: list[Any] = []
        if request.method == "POST" and form.validate():
            action = request.form.get("action", "preview")
            if action == "save":
                response = self._save(form, store, code, locale)
                if response is not None:
                    return response
            elif action == "send_test":
                response = self._send_test(form, store, code, locale)
                if response is not None:
                    return response
            else:
                problems = editor.check_template(code, **form.draft())
                attach_problems(form, problems)
        values = preview_values(store, code, locale)
        if not form.errors:
            preview, problems = _render(store, code, locale, form.draft(), values)
            attach_problems(form, problems)
        return self.render(
            "admin/messaging/override_edit.html",
            store=store,
            code=code,
            locale=locale,
            spec=editor.template_spec(code),
            form=form,
            override=override,
            platform=platform,
            preview=preview,
            samples=values,
            versions=list(override.versions) if override is not None else [],
        )

    def _save(self, form: OverrideForm, store: Store, code: str, locale: str) -> Any:
        try:
            editor.save_override(current_user, store, code, locale, **form.draft())
        except editor.TemplateRejected as exc:
            dbmod.rollback()
            attach_problems(form, exc.problems)
            flash(_("Not saved: correct the problems shown below."), "error")
            return None
        _audit(AuditAction.UPDATE, store, code, locale, "saved")
        dbmod.commit()
        flash(_("The template was saved."), "success")
        return redirect(url_for(".edit", store_id=store.id, code=code, locale=locale))

    def _send_test(self, form: OverrideForm, store: Store, code: str, locale: str) -> Any:
        try:
            log = editor.send_test(
                current_user,
                store,
                code,
                locale,
                **form.draft(),
                values=preview_values(store, code, locale),
            )
        except editor.TemplateRejected as exc:
            dbmod.rollback()
            attach_problems(form, exc.problems)
            flash(_("Not sent: correct the problems shown below."), "error")
            return None
        dbmod.commit()
        flash(_("A test message was sent to %(email)s.", email=log.recipient), "success")
        return None

    @expose("/<int:store_id>/<code>/<locale>/preview", methods=("POST",))
    def preview(self, store_id: int, code: str, locale: str) -> Any:
        """JSON for the editor's script: the rendered message, or the problems."""
        store = self._target(store_id, code, locale)
        form = OverrideForm()
        if not form.validate():
            field_problems = [
                {"field": name, "line": None, "message": str(message)}
                for name, messages in form.errors.items()
                for message in messages
            ]
            return jsonify(ok=False, problems=field_problems)
        rendered, problems = _render(
            store, code, locale, form.draft(), preview_values(store, code, locale)
        )
        if problems:
            return jsonify(
                ok=False,
                problems=[
                    {"field": p.field, "line": p.line, "message": problem_text(p)} for p in problems
                ],
            )
        return jsonify(
            ok=True, subject=rendered.subject, html=rendered.body_html, text=rendered.body_text
        )

    @expose("/<int:store_id>/<code>/<locale>/restore/<int:version_id>", methods=("POST",))
    def restore(self, store_id: int, code: str, locale: str, version_id: int) -> Any:
        store = self._target(store_id, code, locale)
        version = self._version(version_id, store, code, locale)
        try:
            editor.restore_version(current_user, version.id)
        except editor.TemplateRejected as exc:
            dbmod.rollback()
            flash(
                _(
                    "Version %(number)s cannot be restored: %(problems)s",
                    number=version.version,
                    problems="; ".join(problem_text(p) for p in exc.problems),
                ),
                "error",
            )
        else:
            number = version.version
            _audit(AuditAction.UPDATE, store, code, locale, f"restored version {number}")
            dbmod.commit()
            flash(_("Version %(number)s was restored as a new version.", number=number), "success")
        return redirect(url_for(".edit", store_id=store.id, code=code, locale=locale))

    @expose("/<int:store_id>/<code>/<locale>/versions/<int:version_id>")
    def version(self, store_id: int, code: str, locale: str, version_id: int) -> Any:
        store = self._target(store_id, code, locale)
        version = self._version(version_id, store, code, locale)
        return self.render(
            "admin/messaging/override_version.html",
            store=store,
            code=code,
            locale=locale,
            version=version,
        )

    @expose("/<int:store_id>/<code>/<locale>/diff")
    def diff(self, store_id: int, code: str, locale: str) -> Any:
        """The changes between two versions (``?old=ID&new=ID``; default: the last two)."""
        store = self._target(store_id, code, locale)
        override = editor.find_override(store, code, locale)
        versions = list(override.versions) if override is not None else []
        if len(versions) < 2:
            abort(404)
        # Newest first: by default the current version against the one before it.
        new_id = request.args.get("new", type=int) or versions[0].id
        old_id = request.args.get("old", type=int) or versions[1].id
        old = self._version(old_id, store, code, locale)
        new = self._version(new_id, store, code, locale)
        return self.render(
            "admin/messaging/override_diff.html",
            store=store,
            code=code,
            locale=locale,
            versions=versions,
            old=old,
            new=new,
            diffs=editor.diff_versions(current_user, old.id, new.id),
            field_labels={
                "subject": _("Subject"),
                "body_html": _("HTML body"),
                "body_text": _("Text body"),
            },
        )

    def _version(self, version_id: int, store: Store, code: str, locale: str) -> Any:
        try:
            version = editor.version_for(current_user, version_id)
        except editor.NotInScope:
            abort(404)
        override: StoreEmailTemplate = version.override
        if (override.store_id, override.code, override.locale) != (store.id, code, locale):
            abort(404)
        return version

    @expose("/<int:store_id>/<code>/<locale>/reset", methods=("GET", "POST"))
    def reset(self, store_id: int, code: str, locale: str) -> Any:
        store = self._target(store_id, code, locale)
        override = editor.find_override(store, code, locale)
        if override is None:
            abort(404)
        form = BaseForm()
        if request.method == "POST" and form.validate():
            editor.reset_override(current_user, store, code, locale)
            _audit(AuditAction.DELETE, store, code, locale, "reset")
            dbmod.commit()
            flash(
                _("The override was deleted: this store now sends the platform version."), "success"
            )
            return redirect(url_for(".index", store_id=store.id))
        return self.render(
            "admin/messaging/override_reset.html",
            store=store,
            code=code,
            locale=locale,
            override=override,
            form=form,
        )


def _render(
    store: Store, code: str, locale: str, draft: dict[str, str], values: dict[str, str]
) -> tuple[Any, list[TemplateProblem]]:
    """The rendered draft, or ``(None, problems)``: problems are checked first."""
    problems = editor.check_template(code, **draft)
    if problems:
        return None, problems
    try:
        return editor.render_draft(store, code, locale, **draft, values=values), []
    except TemplateRenderError as exc:
        return None, [TemplateProblem(exc.field, exc.line, exc.message)]
    except SandboxUnavailable:
        message = _("The template could not be checked now. Try again shortly.")
        return None, [TemplateProblem("body_html", None, message)]


def _audit(action: AuditAction, store: Store, code: str, locale: str, event: str) -> None:
    """A store override's change: which template, not its text (the versions keep that)."""
    record_audit(
        action,
        model="StoreEmailTemplate",
        object_id=f"{store.id}/{code}/{locale}",
        merchant_id=store.merchant_id,
        changes={"event": event, "store_id": store.id, "code": code, "locale": locale},
    )
