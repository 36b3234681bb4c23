"""Forms of the Integrations pages: new API key, new webhook endpoint."""

from __future__ import annotations

from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from loyalty.merchant_api.models import ApiScope
from loyalty.webhooks.models import EVENT_TYPES
from platform_core.forms import BaseForm
from platform_core.i18n_lazy import _l


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _int_or_none(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    try:
        return int(str(value))
    except ValueError:
        return -1  # not a choice: refused by the field's validation


class ApiKeyForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    merchant_id = SelectField(_l("Merchant"), coerce=_int_or_none, validate_choice=True)
    store_id = SelectField(
        _l("Limit to store"),
        coerce=_int_or_none,
        description=_l("Leave empty to let the key act for every store of the merchant."),
    )
    scopes = CheckboxesField(
        _l("Scopes"),
        choices=[(s.value, s.value) for s in ApiScope],
        default=[s.value for s in ApiScope],
        validators=[DataRequired()],
    )


class WebhookEndpointForm(BaseForm):
    url = StringField(
        _l("Address (URL)"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Where the signed POST requests go, e.g. https://shop.example.lu/hooks."),
    )
    merchant_id = SelectField(_l("Merchant"), coerce=_int_or_none, validate_choice=True)
    events = CheckboxesField(
        _l("Events"),
        choices=[(e, e) for e in EVENT_TYPES],
        validators=[DataRequired()],
    )
