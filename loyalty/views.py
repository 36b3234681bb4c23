"""Public and staff pages of the loyalty package."""

from flask import Flask


def register_loyalty_views(app: Flask) -> None:
    """Register this package's blueprints (filled in by the loyalty issue)."""
