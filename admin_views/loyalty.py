"""Admin views of this domain (filled in by its issue)."""

from flask_admin import Admin


def add_views(admin: Admin) -> None:
    """Add this domain's views to the console."""
