"""Pages of the messaging package."""

from flask import Flask


def register_messaging_views(app: Flask) -> None:
    """Register this package's blueprints (filled in by the messaging issue)."""
