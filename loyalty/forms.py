"""Public enrollment form, shared by the HTML page and the JSON API."""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TelField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from loyalty.services.enrollment import EnrollmentData
from platform_core.forms import BaseForm
from platform_core.i18n import LANGUAGE_NAMES, current_locale_code
from platform_core.i18n_lazy import _l

#: JSON field name → form field name, for the API (its errors use the JSON names).
API_FIELDS = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "locale": "preferred_locale",
    "phone": "phone",
    "birthday": "birthday",
    "marketing_consent": "marketing_consent",
    "accept_terms": "accept_terms",
}
_BOOLEAN_FIELDS = {"marketing_consent", "accept_terms"}
_OLDEST_BIRTHDAY = date(1900, 1, 1)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class IsoDateField(DateField):
    """A ``YYYY-MM-DD`` date whose parse error tells the user what to type."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(_l("Enter the date as YYYY-MM-DD, e.g. 1990-04-23."))) from None


def _birthday_is_plausible(form: BaseForm, field: DateField) -> None:
    if field.data and not (_OLDEST_BIRTHDAY <= field.data <= date.today()):
        raise ValidationError(_l("Enter a birthday in the past."))


class EnrollmentForm(BaseForm):
    email = EmailField(
        _l("Email address"),
        filters=[_lower],
        validators=[
            DataRequired(message=_l("Enter your email address.")),
            Length(max=254, message=_l("The email address is too long.")),
            Email(message=_l("Enter a valid email address, like name@example.lu.")),
        ],
    )
    first_name = StringField(
        _l("First name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter your first name.")),
            Length(max=100, message=_l("Use at most 100 characters.")),
        ],
    )
    last_name = StringField(
        _l("Last name"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter your last name.")),
            Length(max=100, message=_l("Use at most 100 characters.")),
        ],
    )
    preferred_locale = SelectField(
        _l("Preferred language"),
        choices=list(LANGUAGE_NAMES.items()),
        validators=[InputRequired(message=_l("Choose a language."))],
        validate_choice=False,
        description=_l("Your emails and card page will be in this language."),
    )
    phone = TelField(
        _l("Phone (optional)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=40, message=_l("Use at most 40 characters.")),
            Regexp(
                r"^\+?[0-9 ()./-]{6,}$",
                message=_l("Enter a phone number using digits, spaces and an optional +."),
            ),
        ],
    )
    birthday = IsoDateField(
        _l("Birthday (optional)"),
        validators=[Optional(), _birthday_is_plausible],
        format="%Y-%m-%d",
    )
    marketing_consent = BooleanField(_l("Send me news and offers by email"))
    accept_terms = BooleanField(
        _l("I accept the terms and conditions"),
        validators=[DataRequired(message=_l("You need to accept the terms to join."))],
    )

    def __init__(self, *args: Any, terms_required: bool = True, **kwargs: Any) -> None:
        """:param terms_required: ``False`` for a program without terms: the form has no
        "I accept the terms" box then (nobody can accept terms they cannot read)."""
        super().__init__(*args, **kwargs)
        if not terms_required:
            del self["accept_terms"]

    def to_enrollment_data(self) -> EnrollmentData:
        """What the enrollment service needs, from a validated form."""
        return EnrollmentData(
            # Validated, so present; the fields type them optional.
            email=self.email.data or "",
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            locale=self.preferred_locale.data,
            marketing_consent=bool(self.marketing_consent.data),
            accept_terms="accept_terms" in self and bool(self.accept_terms.data),
            phone=self.phone.data or None,
            birthday=self.birthday.data,
        )

    def validate_preferred_locale(self, field: SelectField) -> None:
        if field.data not in LANGUAGE_NAMES:
            raise ValidationError(_l("Choose one of the offered languages."))


def form_from_json(
    payload: dict[str, Any], *, terms_required: bool = True
) -> tuple[EnrollmentForm, dict[str, list[str]]]:
    """Build the form from an API body; also return type errors WTForms cannot see.

    JSON values are turned into the strings a browser would post, so both entry points share
    one set of validation rules and messages.
    """
    formdata: MultiDict[str, str] = MultiDict()
    type_errors: dict[str, list[str]] = {}
    for json_name, field_name in API_FIELDS.items():
        value = payload.get(json_name)
        if value is None:
            continue
        if field_name in _BOOLEAN_FIELDS:
            if not isinstance(value, bool):
                type_errors[json_name] = [str(_l("Use true or false."))]
            elif value:
                formdata[field_name] = "y"
        elif isinstance(value, str):
            formdata[field_name] = value
        else:
            type_errors[json_name] = [str(_l("Use a text value."))]
    if "preferred_locale" not in formdata and "locale" not in type_errors:
        # Optional in the API: the language the request is answered in.
        formdata["preferred_locale"] = current_locale_code()
    form = EnrollmentForm(formdata=formdata, meta={"csrf": False}, terms_required=terms_required)
    return form, type_errors


def api_errors(form: EnrollmentForm) -> dict[str, list[str]]:
    """The form's errors keyed by the API's field names, as plain strings."""
    by_field = {field: json for json, field in API_FIELDS.items()}
    return {
        by_field.get(name, name): [str(message) for message in messages]
        for name, messages in form.errors.items()
    }
