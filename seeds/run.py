"""Seed registry: ``flask --app wsgi seed NAME``. Every seed is idempotent (get-or-create)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from platform_core import db as dbmod


def _demo() -> Iterable[str]:
    from seeds.demo import seed_demo

    return seed_demo()


def _email_templates() -> Iterable[str]:
    from seeds.seed_email_templates_core import seed_email_templates_core
    from seeds.seed_email_templates_loyalty import seed_email_templates_loyalty
    from seeds.seed_email_templates_webhooks import seed_email_templates_webhooks

    yield from seed_email_templates_core()
    yield from seed_email_templates_loyalty()
    yield from seed_email_templates_webhooks()


SEEDS: dict[str, Callable[[], Iterable[str]]] = {
    "demo": _demo,
    "email-templates": _email_templates,
}


def run_seed(name: str) -> list[str]:
    """Run a seed, commit, and return the lines it reports."""
    lines = list(SEEDS[name]())
    dbmod.commit()
    return lines
