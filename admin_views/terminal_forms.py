"""Forms of the store terminal. Each ledger form carries an idempotency key (a uuid4 made
when the form is first shown) so that a double submit records the operation once."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import TextInput

from loyalty.consent_wording import ConsentWording
from loyalty.errors import LoyaltyError
from loyalty.forms import EnrollmentForm
from loyalty.services.amounts import parse_amount, parse_decimal, parse_whole_number
from loyalty.services.enrollment import EnrollmentData
from platform_core.forms import BaseForm
from platform_core.i18n import current_locale_code
from platform_core.i18n_lazy import _l


def new_key() -> str:
    return uuid.uuid4().hex


class TypedDecimalField(DecimalField):
    """A decimal as people type it: "12,50" and "12.50" both work (see
    :func:`loyalty.services.amounts.parse_decimal`); the refusal is a sentence of ours.

    A text input: a browser's number input would refuse the comma in some locales.
    """

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = self.parse(str(valuelist[0]))
        except LoyaltyError as exc:
            self.data = None
            raise ValueError(str(exc)) from None

    def parse(self, text: str) -> Decimal:
        return parse_decimal(text, places=self.places if self.places is not None else 2)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class EuroField(TypedDecimalField):
    """An amount in euros (:func:`loyalty.services.amounts.parse_amount`)."""

    def parse(self, text: str) -> Decimal:
        return parse_amount(text)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else f"{self.data:.2f}"


class WholeNumberField(IntegerField):
    """An integer whose parse error is a sentence of ours (translated with the rest)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_whole_number(str(valuelist[0]))
        except LoyaltyError as exc:
            self.data = None
            raise ValueError(str(exc)) from None


#: The idempotency key of every ledger form: a missing or mangled one means a stale page.
_IDEMPOTENCY_KEY_VALIDATORS = [
    DataRequired(message=_l("The form has expired. Please start again.")),
    Length(max=100, message=_l("The form has expired. Please start again.")),
]


class LedgerForm(BaseForm):
    """What every ledger operation form carries besides its own fields."""

    idempotency_key = HiddenField(validators=_IDEMPOTENCY_KEY_VALIDATORS)
    #: Set by the confirmation page: the first submit only shows what will happen.
    confirmed = HiddenField()
    note = StringField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = new_key()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed.data == "1"


class EarnForm(LedgerForm):
    amount = EuroField(
        _l("Purchase amount (€)"),
        places=2,
        validators=[
            Optional(),
            NumberRange(
                min=Decimal("0.01"),
                max=Decimal("100000"),
                message=_l("Enter an amount between 0.01 and 100,000 €."),
            ),
        ],
    )
    points = WholeNumberField(
        _l("or points"),
        validators=[
            Optional(),
            NumberRange(min=1, max=1_000_000, message=_l("Enter between 1 and 1,000,000 points.")),
        ],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if valid and (self.amount.data is None) == (self.points.data is None):
            self.amount.errors = [
                *self.amount.errors,
                str(_l("Enter either the purchase amount or the number of points.")),
            ]
            return False
        return valid


class RedeemForm(LedgerForm):
    points = WholeNumberField(
        _l("Points to redeem"),
        validators=[
            InputRequired(message=_l("Enter the number of points to redeem.")),
            NumberRange(min=1, max=1_000_000, message=_l("Enter between 1 and 1,000,000 points.")),
        ],
    )


class StampsForm(LedgerForm):
    count = WholeNumberField(
        _l("Stamps to add"),
        default=1,
        validators=[
            InputRequired(message=_l("Enter the number of stamps.")),
            NumberRange(min=1, max=50, message=_l("Enter between 1 and 50 stamps.")),
        ],
    )


class StampRewardForm(LedgerForm):
    """No fields of its own: the reward is the program's."""


class VoidForm(BaseForm):
    idempotency_key = HiddenField(validators=_IDEMPOTENCY_KEY_VALIDATORS)
    pin = PasswordField(
        _l("Void PIN"),
        validators=[Optional(), Regexp(r"^\d{4,8}$", message=_l("The PIN must be 4 to 8 digits."))],
    )
    reason = StringField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Say why the transaction is voided.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = new_key()


class StaffEnrollmentForm(EnrollmentForm):
    """The public enrollment form, filled in by staff with the customer at the counter."""

    marketing_consent = BooleanField(_l("The customer wants news and offers by email"))
    accept_terms = BooleanField(
        _l("The customer accepts the terms and conditions"),
        validators=[DataRequired(message=_l("The customer must accept the terms to join."))],
    )

    def to_enrollment_data(self) -> EnrollmentData:
        """As the public form's, with the consent wording the terminal showed."""
        data = super().to_enrollment_data()
        data.consent = ConsentWording(
            locale=current_locale_code(),
            marketing=str(self.marketing_consent.label.text),
            # A program without terms: the field was removed from the form.
            terms=str(self.accept_terms.label.text) if self.accept_terms is not None else "",
        )
        return data


class SearchForm(BaseForm):
    class Meta(BaseForm.Meta):
        csrf = False  # a GET search changes nothing

    q = StringField(
        _l("Card number, email or name"),
        validators=[Length(max=200, message=_l("Use at most 200 characters."))],
    )
