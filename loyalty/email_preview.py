"""The values the template editor previews a store's emails with.

One consistent picture, the one a merchant expects to check: their own merchant, store and
loyalty program (name, brand colour, stamps reward and target), with a sample customer and
card (name, card number, balance, links). The "Add to Google Wallet" link is there only
when Google Wallet is configured, as in the real emails.

Messaging knows nothing of programs; the editor view hands these values to
:func:`messaging.editor.render_draft` and :func:`messaging.editor.send_test`.
"""

from __future__ import annotations

from flask_babel import force_locale, format_decimal

from loyalty.notifications import _COLOR, _DEFAULT_COLOR
from loyalty.services.program_texts import program_texts
from loyalty.services.programs import get_active_program
from loyalty.wallet.google import wallet_enabled
from messaging.catalog import sample_context
from platform_core.links import external_url
from platform_core.tenancy.models import Store

#: The token of the sample card page link (it opens the "link expired" page, never a card).
SAMPLE_CARD_TOKEN = "sample"  # noqa: S105 - a URL part, no secret


def preview_values(store: Store, code: str, locale: str) -> dict[str, str]:
    """The variables of ``code`` for a preview of ``store``'s email in ``locale``.

    :param store: the store whose override is edited: its merchant and active program are
        used as they are.
    :param code: the template code (only its declared variables are returned).
    :param locale: the preview's language (numbers are formatted in it).
    """
    values = sample_context(code, locale)
    merchant = store.merchant
    program = get_active_program(merchant.id)
    texts = program_texts(program, locale) if program is not None else None
    real: dict[str, str] = {
        "merchant_name": merchant.name,
        "store_name": store.name,
        # A merchant without an active program: its emails carry the merchant's name.
        "program_name": texts.name if texts is not None else merchant.name,
        "card_url": external_url("loyalty_public.card_page", token=SAMPLE_CARD_TOKEN),
        # Like the card link, on this installation's address; the sample token is refused.
        "unsubscribe_url": external_url("loyalty_unsubscribe.unsubscribe", token=SAMPLE_CARD_TOKEN),
    }
    if not wallet_enabled():
        real["wallet_url"] = ""
    if program is not None:
        color = program.brand_color or ""
        real["brand_color"] = color if _COLOR.match(color) else _DEFAULT_COLOR
        if texts is not None and texts.reward_description:
            real["stamps_reward"] = texts.reward_description
        if program.stamps_target:
            with force_locale(locale):
                real["stamps_target"] = format_decimal(program.stamps_target)
    values.update({name: value for name, value in real.items() if name in values})
    return values
