"""Google Wallet in the console (platform admins): the configuration checks, how many cards
are in each sync status, and "retry" for the failed and rejected cards."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_login import current_user
from wtforms import SelectField

from admin_views.loyalty_base import WALLET_STATUS_LABELS
from loyalty.models import WalletSyncStatus
from loyalty.wallet import service as wallet_service
from loyalty.wallet.checks import run_checks
from platform_core import db as dbmod
from platform_core.forms import BaseForm
from platform_core.i18n_lazy import _, _l, ngettext
from platform_core.staff.models import StaffRole

#: What "retry" may pick up: never cards that are fine or already waiting.
RETRYABLE = {
    "failed": (WalletSyncStatus.FAILED,),
    "rejected": (WalletSyncStatus.REJECTED,),
    "both": (WalletSyncStatus.FAILED, WalletSyncStatus.REJECTED),
}


class RetryForm(BaseForm):
    which = SelectField(
        _l("Cards"),
        choices=[
            ("both", _l("Failed and rejected cards")),
            ("failed", _l("Failed cards")),
            ("rejected", _l("Rejected cards")),
        ],
        default="both",
    )


class WalletAdmin(BaseView):
    def is_accessible(self) -> bool:
        return bool(
            current_user.is_authenticated
            and current_user.is_active
            and current_user.role == StaffRole.PLATFORM_ADMIN
        )

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @expose("/")
    def index(self) -> Any:
        return self._page(RetryForm())

    def _page(self, form: RetryForm, status: int = 200) -> Any:
        counts = wallet_service.sync_status_counts()
        checks = run_checks()
        return (
            self.render(
                "admin/wallet/index.html",
                checks=checks,
                problems=sum(1 for check in checks if not check.ok),
                enabled=wallet_service.wallet_enabled(),
                counts=[(WALLET_STATUS_LABELS[s], s.value, counts[s]) for s in WalletSyncStatus],
                retryable=counts[WalletSyncStatus.FAILED] + counts[WalletSyncStatus.REJECTED],
                form=form,
            ),
            status,
        )

    @expose("/retry", methods=("POST",))
    def retry(self) -> Any:
        form = RetryForm()
        if not form.validate_on_submit():
            return self._page(form, status=400)
        if not wallet_service.wallet_enabled():
            flash(_("Google Wallet is not configured."), "error")
            return redirect(url_for(".index"))
        count = wallet_service.retry_cards(RETRYABLE[form.which.data])
        dbmod.commit()
        flash(
            ngettext(
                "%(num)s card will be synced again.", "%(num)s cards will be synced again.", count
            ),
            "success",
        )
        return redirect(url_for(".index"))


def add_views(admin: Admin) -> None:
    admin.add_view(
        WalletAdmin(
            name=_l("Google Wallet"), category=_l("System"), endpoint="wallet", url="/admin/wallet"
        )
    )
