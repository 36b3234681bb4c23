"""Signed, expiring links to a customer's card page.

The token carries only the card id, signed with ``SECRET_KEY`` (salt ``card-page``) and
timestamped, so a link is valid for ``CARD_LINK_MAX_AGE_DAYS`` days and cannot be forged or
pointed at another card. Emails (messaging) and the enrollment pages build links here.
"""

from __future__ import annotations

from enum import Enum
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from loyalty.models import LoyaltyCard
from platform_core.extensions import db
from platform_core.links import external_url

_SALT = "card-page"


class TokenProblem(Enum):
    """Why a token did not resolve to a card (the card page answers 404 or 410)."""

    INVALID = "invalid"
    EXPIRED = "expired"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _max_age_seconds() -> int:
    return int(current_app.config["CARD_LINK_MAX_AGE_DAYS"]) * 24 * 3600


def card_page_token(card: LoyaltyCard) -> str:
    """A signed token naming ``card``; see :func:`load_card_from_token`."""
    return _serializer().dumps({"card": card.id})


def card_page_url(
    card: LoyaltyCard, *, external: bool = True, store_host: str | None = None
) -> str:
    """The link to ``card``'s public page, on ``PUBLIC_BASE_URL`` or ``store_host``.

    Never on the request's host: a forged ``Host`` would put the link on another site.

    :param card: the card the link opens.
    :param external: a full URL with scheme and host (``False``: just the path).
    :param store_host: a host read from the card's store's ``StoreDomain``.
    """
    token = card_page_token(card)
    if not external:
        return urlsplit(external_url("loyalty_public.card_page", token=token)).path
    return external_url("loyalty_public.card_page", store_host=store_host, token=token)


def resolve_card_token(token: str) -> tuple[LoyaltyCard | None, TokenProblem | None]:
    """The card a token names, or ``None`` and the reason (bad signature or expired)."""
    try:
        payload = _serializer().loads(token, max_age=_max_age_seconds())
    except SignatureExpired:
        return None, TokenProblem.EXPIRED
    except BadSignature:
        return None, TokenProblem.INVALID
    card_id = payload.get("card") if isinstance(payload, dict) else None
    if not isinstance(card_id, int):
        return None, TokenProblem.INVALID
    card = db.session.get(LoyaltyCard, card_id)
    if card is None or not card.is_active:
        return None, TokenProblem.INVALID
    return card, None


def load_card_from_token(token: str) -> LoyaltyCard | None:
    """The card ``token`` names, or ``None`` when the token is bad, expired or the card gone.

    :param token: a token made by :func:`card_page_token`.
    """
    card, _problem = resolve_card_token(token)
    return card
