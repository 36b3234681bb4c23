from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from platform_core.forms import BaseForm
from platform_core.i18n_lazy import _l
from platform_core.staff.services import MIN_PASSWORD_LENGTH


class LoginForm(BaseForm):
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Please enter your email address.")),
            Email(message=_l("Please enter a valid email address.")),
            Length(max=254),
        ],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Please enter your password."))]
    )
    remember = BooleanField(_l("Keep me logged in"))


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Please enter your email address.")),
            Email(message=_l("Please enter a valid email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
        ],
    )


class SetPasswordForm(BaseForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(message=_l("Please choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l("The password must have at least %(min)d characters."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(message=_l("Please type the password a second time.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )
