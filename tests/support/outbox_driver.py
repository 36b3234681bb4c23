"""Commands run in a child process against an outbox stack's database and queue.

    python -m tests.support.outbox_driver setup            # schema, templates, a merchant
    python -m tests.support.outbox_driver enroll START N   # N enrollments, one commit each
    python -m tests.support.outbox_driver rows             # the email log as JSON lines

The settings come from the environment (``DATABASE_URL``, ``HUEY_URL``, ...), as for the
web app: each enrollment commits and its two emails are enqueued after the commit, so a
Redis that is down at that moment loses the enqueue exactly as a web request would.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal


def main(argv: list[str]) -> int:
    from platform_core.app import create_app

    app = create_app()
    with app.app_context():
        if argv[0] == "setup":
            _setup()
        elif argv[0] == "enroll":
            _enroll(int(argv[1]), int(argv[2]))
        elif argv[0] == "rows":
            _rows()
        else:
            raise SystemExit(f"unknown command {argv[0]!r}")
    return 0


def _setup() -> None:
    from loyalty.models import ProgramKind
    from loyalty.services.programs import create_program
    from platform_core import db as dbmod
    from platform_core.extensions import db
    from platform_core.tenancy.models import Merchant, Store
    from seeds.seed_email_templates_core import seed_email_templates_core
    from seeds.seed_email_templates_loyalty import seed_email_templates_loyalty

    db.create_all()
    list(seed_email_templates_core())
    list(seed_email_templates_loyalty())
    merchant = Merchant(
        name="Outbox Ëlsa", slug="outbox", contact_email="hi@outbox.lu", default_locale="fr"
    )
    store = Store(merchant=merchant, name="Outbox", slug="outbox-store", default_locale="fr")
    db.session.add_all([merchant, store])
    db.session.flush()
    create_program(
        merchant,
        kind=ProgramKind.POINTS,
        name="Club",
        welcome_bonus_points=100,
        points_per_euro=Decimal("1"),
        points_expiry_days=365,
    )
    dbmod.commit()


def _enroll(start: int, count: int) -> None:
    from sqlalchemy import select

    from loyalty.services.enrollment import EnrollmentData, enroll_customer
    from platform_core import db as dbmod
    from platform_core.extensions import db
    from platform_core.tenancy.models import Store

    store_id = db.session.scalar(select(Store.id).where(Store.slug == "outbox-store"))
    for n in range(start, start + count):
        store = db.session.get(Store, store_id)
        data = EnrollmentData(
            email=f"guest{n}@example.lu",
            first_name=f"Léa{n}",
            last_name="Hoffmann",
            locale=("en", "fr", "de", "lb")[n % 4],
            marketing_consent=False,
            accept_terms=True,
        )
        enroll_customer(store, data, source="console")
        dbmod.commit()  # the two send tasks are enqueued now (or lost, if Redis is down)


def _rows() -> None:
    from sqlalchemy import select

    from messaging.models import EmailLog
    from platform_core.extensions import db

    for row in db.session.scalars(select(EmailLog).order_by(EmailLog.id)):
        line = {
            "id": row.id,
            "recipient": row.recipient,
            "code": row.code,
            "status": str(row.status),
            "attempts": row.attempts,
            "message_id": row.message_id,
        }
        print(json.dumps(line))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
