"""Count the SQL statements of one public API enrollment (and of one program-info miss).

    .venv/bin/python bench/enroll_statements.py [--database-url URL] [--show]

The database is emptied and recreated (``drop_all``/``create_all``): give it a scratch
database (default: a SQLite file in a temp directory). Enrollments go through the real
``POST /api/v1/stores/<slug>/enroll`` with Flask's test client; every statement the engine
sends is counted with a ``before_cursor_execute`` listener (savepoints included).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORE_SLUG = "count-store"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--enrollments", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print the statements of one run")
    parser.add_argument(
        "--time",
        type=int,
        default=0,
        metavar="N",
        help="also time N enrollments (CPU time of this process)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also profile N enrollments with cProfile (top 30 by own time)",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="enroll-statements-"))
    os.environ["INSTANCE_PATH"] = str(tmp)
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp / 'count.sqlite3'}"
    os.environ["HUEY_URL"] = "memory://"
    os.environ["RATELIMIT_STORAGE_URI"] = "memory://"
    os.environ.pop("APP_ENV", None)
    sys.path.insert(0, str(ROOT))

    from decimal import Decimal

    from sqlalchemy import event

    from loyalty.models import ProgramKind
    from loyalty.services.programs import create_program, get_settings
    from platform_core.app import create_app
    from platform_core.db import commit
    from platform_core.extensions import db
    from platform_core.tenancy.services import create_merchant, create_store

    app = create_app(
        {
            "WTF_CSRF_ENABLED": False,
            "PROGRAM_INFO_CACHE_SECONDS": 0,
            "RATELIMIT_ENROLL": "1000000/minute",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        merchant = create_merchant("Count Bakery", "count-bakery", "count@bakery.example")
        create_store(merchant, "Count Store", STORE_SLUG)
        create_program(
            merchant,
            kind=ProgramKind.HYBRID,
            name="Count Club",
            points_per_euro=Decimal("1.00"),
            welcome_bonus_points=50,
            stamps_target=10,
            texts={"en": {"reward_description": "A free coffee"}},
            points_expiry_days=365,
        )
        get_settings(merchant.id)
        commit()
        engine = db.engine

    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(" ".join(statement.split()))

    client = app.test_client()

    def enroll(n: int) -> None:
        response = client.post(
            f"/api/v1/stores/{STORE_SLUG}/enroll",
            json={
                "email": f"count-{n}@example.lu",
                "first_name": "Count",
                "last_name": f"User{n}",
                "locale": "fr",
                "marketing_consent": False,
                "accept_terms": True,
            },
        )
        assert response.status_code == 201, response.get_data(as_text=True)

    enroll(0)  # warm-up: first connection, compiled caches
    statements.clear()
    for n in range(1, args.enrollments + 1):
        enroll(n)
    per_enrollment = len(statements) / args.enrollments
    kinds = Counter(s.split()[0].upper() for s in statements)
    if args.show:
        shown = statements[: len(statements) // args.enrollments]
        for line in shown:
            print("  ", line[:160])
    print(
        f"enrollment: {per_enrollment:.1f} statements "
        f"({', '.join(f'{k} {v / args.enrollments:g}' for k, v in sorted(kinds.items()))})"
    )

    started = time.process_time()
    for n in range(100, 100 + args.time):
        enroll(n)
    if args.time:
        print(
            f"enrollment: {(time.process_time() - started) / args.time * 1000:.2f} ms CPU "
            f"each in this process (test client, {args.time} enrollments)"
        )

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for n in range(1000, 1000 + args.profile):
            enroll(n)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(30)
        stats.sort_stats("cumulative").print_stats(60)

    statements.clear()
    response = client.get(f"/api/v1/stores/{STORE_SLUG}/program")
    assert response.status_code == 200
    print(f"program info (cache miss): {len(statements)} statements")
    statements.clear()
    with app.app_context():
        db.drop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
