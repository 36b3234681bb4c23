"""Public pages and JSON API of the loyalty package, registered by the app factory."""

from __future__ import annotations

from flask import Flask


def register_loyalty_views(app: Flask) -> None:
    """Register the public pages (enrollment, card page) and the public JSON API, and the
    loyalty package's model events."""
    from loyalty.api import bp as api_bp
    from loyalty.merchant_api.views import bp as merchant_api_bp
    from loyalty.public_views import bp as public_bp
    from loyalty.services.ledger_rollup import track_customer_deletions
    from loyalty.unsubscribe import bp as unsubscribe_bp

    track_customer_deletions()

    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(merchant_api_bp)
    app.register_blueprint(unsubscribe_bp)
