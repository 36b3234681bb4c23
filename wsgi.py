"""WSGI entry point: ``gunicorn wsgi:app``; ``flask --app wsgi ...`` for the CLI.

``huey`` is the consumer entry's instance, with every task registered, so
``huey_consumer wsgi.huey`` runs the same tasks as ``huey_consumer platform_core.worker.huey``.
"""

from platform_core.app import create_app
from platform_core.worker import huey

app = create_app()

__all__ = ["app", "huey"]
