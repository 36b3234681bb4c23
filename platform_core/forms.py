"""Form base classes: CSRF from Flask-WTF, validation messages in the user's language."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm

from platform_core.i18n import wtforms_translations


class BaseForm(FlaskForm):
    """Every form of ours derives from this one (public, staff and admin forms alike)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            return wtforms_translations
