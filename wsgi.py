"""WSGI entry point: ``gunicorn wsgi:app``; ``flask --app wsgi ...`` for the CLI."""

from platform_core.app import create_app
from platform_core.huey import huey

app = create_app()

__all__ = ["app", "huey"]
