"""Benchmark of the CSV card import on PostgreSQL.

    .venv/bin/python bench/card_import.py [--rows 100000] [--baseline-rows 1000]

A throwaway PostgreSQL, ``flask db upgrade``, a merchant with a hybrid program and a store.
Then, in the same run:

1. the baseline: the same rows enrolled one by one through ``enroll_customer`` plus an
   adjustment for the opening balance (what a script calling the services would do), on a
   sample of ``--baseline-rows``, extrapolated;
2. ``flask loyalty import-cards FILE`` (its real entry point, chunks of 500, a commit per
   chunk) over a file of ``--rows`` rows in Windows-1252 with semicolons (1 % bad rows);
3. the same file again (nothing to do: every email already has a card).

It prints rows per second for each and the ratio, and ``verify-ledger``'s verdict. The last
line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from public_api import BIN, ROOT, postgres_durability, throwaway_postgres  # noqa: E402

SLUG = "bench-import"


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
    )


def _python(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [str(BIN / "python"), "-c", code], cwd=ROOT, env=env, text=True, capture_output=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return done.stdout


def _file(path: Path, rows: int, prefix: str) -> None:
    lines = ["Courriel;Prénom;Nom;Solde;Tampons;Date de naissance;Langue;Newsletter"]
    for n in range(rows):
        email = f"{prefix}-{n}@example.lu" if n % 100 != 99 else f"not-an-email-{n}"
        lines.append(
            f"{email};Zoë;Müller-{n};{n % 5000};{n % 7};12.04.1980;lb;{'oui' if n % 3 else 'non'}"
        )
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))


SETUP = f"""
from decimal import Decimal
from platform_core.app import create_app
from platform_core.db import commit
from platform_core.tenancy.services import create_merchant, create_store
from loyalty.models import ProgramKind
from loyalty.services.programs import create_program
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user
app = create_app()
with app.app_context():
    create_staff_user(
        "bench-admin@import.example", "a long bench password", StaffRole.PLATFORM_ADMIN
    )
    merchant = create_merchant("Bench Import", {SLUG!r}, "bench@import.example")
    create_store(merchant, "Bench Import Store", "bench-import-store")
    create_program(merchant, kind=ProgramKind.HYBRID, name="Bench", points_per_euro=Decimal(1),
                   stamps_target=10, welcome_bonus_points=0)
    commit()
"""

BASELINE = """
import time
from platform_core.app import create_app
from platform_core.db import commit
from platform_core.tenancy.services import get_store_by_slug
from loyalty.services.enrollment import EnrollmentData, enroll_customer
from loyalty.services.ledger import adjust_points
from platform_core.extensions import db
from platform_core.staff.models import StaffUser
app = create_app()
with app.app_context():
    store = get_store_by_slug("bench-import-store")
    staff = db.session.scalar(db.select(StaffUser))
    started = time.perf_counter()
    for n in range({rows}):
        card = enroll_customer(store, EnrollmentData(
            email=f"baseline-{{n}}@example.lu", first_name="Zoë", last_name=f"Müller-{{n}}",
            locale="lb", marketing_consent=bool(n % 3), accept_terms=True), source="console").card
        if n % 5000:
            adjust_points(card, n % 5000, staff_user=staff, reason="opening balance")
        commit()
    print(time.perf_counter() - started)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        tmp.chmod(0o755)  # the server runs as the postgres user, who must reach its directory
        with throwaway_postgres(tmp) as dsn:
            env = {
                **os.environ,
                "DATABASE_URL": dsn,
                "APP_ENV": "development",
                "MAIL_BACKEND": "outbox",
                "HUEY_IMMEDIATE": "false",
            }
            upgrade = _flask(env, "db", "upgrade")
            if upgrade.returncode != 0:
                raise SystemExit(upgrade.stderr)
            print(f"PostgreSQL: {postgres_durability(dsn)}")
            _python(env, SETUP)
            try:
                baseline_s = float(_python(env, BASELINE.format(rows=args.baseline_rows)))
                baseline_rps = args.baseline_rows / baseline_s
            except SystemExit as exc:  # the services may refuse an adjustment: say so
                print(f"baseline failed: {exc}")
                baseline_rps = 0.0
            print(
                f"baseline, one enrollment + adjustment per row: {baseline_rps:,.0f} rows/s "
                f"({args.baseline_rows:,} rows)"
            )

            path = tmp / "legacy.csv"
            _file(path, args.rows, "import")
            started = time.perf_counter()
            first = _flask(env, "loyalty", "import-cards", str(path), "--merchant", SLUG)
            import_s = time.perf_counter() - started
            summary = first.stdout.strip().splitlines()[-1]
            if "cards imported" not in summary:
                raise SystemExit(first.stdout + first.stderr)
            import_rps = args.rows / import_s
            print(
                f"import-cards: {import_rps:,.0f} rows/s ({args.rows:,} rows in {import_s:.1f} s, "
                f"process start included): {summary}"
            )
            started = time.perf_counter()
            second = _flask(env, "loyalty", "import-cards", str(path), "--merchant", SLUG)
            again_s = time.perf_counter() - started
            print(
                f"same file again: {args.rows / again_s:,.0f} rows/s: "
                f"{second.stdout.strip().splitlines()[-1]}"
            )
            verify = _flask(env, "loyalty", "verify-ledger", "--merchant", SLUG)
            print(verify.stdout.strip().splitlines()[-1])
            ratio = import_rps / baseline_rps if baseline_rps else 0
            print(f"import / baseline: {ratio:,.0f}x")
            print(
                json.dumps(
                    {
                        "rows": args.rows,
                        "baseline_rps": round(baseline_rps, 1),
                        "import_rps": round(import_rps, 1),
                        "rerun_rps": round(args.rows / again_s, 1),
                        "ratio": round(ratio, 1),
                        "ledger_ok": verify.returncode == 0,
                    }
                )
            )


if __name__ == "__main__":
    main()
