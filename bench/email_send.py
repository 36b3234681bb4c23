"""Email throughput: one Huey consumer against a bare smtplib loop, both to aiosmtpd on loopback.

    .venv/bin/python -m bench.email_send [--count 2000] [--workers 1] [--stack dev]
    .venv/bin/python -m bench.email_send --stack production      # Redis + PostgreSQL
    BENCH_DATABASE_URL=postgresql+psycopg://.../scratch .venv/bin/python -m bench.email_send

The consumer run is the real path: ``loyalty_notifications.enrollment`` inserts EmailLog rows,
the commit enqueues ``send_email_task`` into Huey's storage, and one ``huey_consumer`` process
(``--workers`` threads) renders each template and sends it over SMTP, committing each row as
sent. ``--stack dev`` keeps the database and Huey's queue in SQLite files (WAL);
``--stack production`` puts Huey on a throwaway ``redis-server`` and the database on a
throwaway PostgreSQL (``scripts/pg-throwaway.sh``: fsync off, as for the test suite).

The floor sends the same messages (as the consumer rendered them) through one ``smtplib``
connection in a loop, twice: as ``EmailMessage`` objects through ``send_message`` (the floor
the targets were set against), and built and serialized the way the consumer does it.

Targets: at least 50 messages/s for the consumer, and within 3x of the bare loop.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 50.0
TARGET_RATIO = 3.0


def _prepare_environment(
    workdir: Path, smtp_port: int, *, database_url: str | None = None, huey_url: str | None = None
) -> dict[str, str]:
    """Settings for this process and the consumer: by default a fresh SQLite database and
    Huey file."""
    env = {
        "APP_ENV": "development",
        "INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": database_url
        or os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'db.sqlite3'}"),
        "HUEY_URL": huey_url or f"sqlite:///{workdir / 'huey.sqlite3'}",
        "SECRET_KEY": "bench-secret-key",
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "MAIL_RETRY_DELAY": "1",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    }
    os.environ.update(env)
    if env["DATABASE_URL"].startswith("sqlite:///"):
        # WAL: one fsync per commit instead of the rollback journal's several; a setting of
        # the database file, as a development install would use it.
        import sqlite3

        with sqlite3.connect(env["DATABASE_URL"][len("sqlite:///") :]) as conn:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
    return env


class _CountingHandler:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        #: Every recipient seen: each card has its own address, so a repeat is a double send.
        self.recipients: set[str] = set()
        self.done = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
            self.recipients.update(envelope.rcpt_tos)
            if self.count >= self.expected:
                self.done.set()
        return "250 OK"

    def reset(self, expected: int) -> None:
        with self._lock:
            self.count = 0
            self.recipients = set()
            self.expected = expected
            self.done.clear()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _build_world(count: int) -> list[int]:
    """Seeded templates, a merchant with a program, and ``count`` cards; returns card ids."""
    from loyalty.models import LoyaltyCard, LoyaltyProgram, ProgramKind
    from platform_core import db as dbmod
    from platform_core.customers.models import Customer
    from platform_core.extensions import db
    from platform_core.tenancy.models import Merchant, Store
    from seeds.seed_email_templates_core import seed_email_templates_core
    from seeds.seed_email_templates_loyalty import seed_email_templates_loyalty

    # A scratch database: BENCH_DATABASE_URL (emptied first) or a fresh SQLite file.
    db.drop_all()
    db.create_all()
    list(seed_email_templates_core())
    list(seed_email_templates_loyalty())
    merchant = Merchant(
        name="Pâtisserie Ëlsa", slug="bench-elsa", contact_email="hi@elsa.lu", default_locale="fr"
    )
    store = Store(
        merchant=merchant, name="Ettelbréck", slug="bench-ettelbreck", default_locale="fr"
    )
    program = LoyaltyProgram(
        merchant=merchant, kind=ProgramKind.POINTS, name="Club Ëlsa", welcome_bonus_points=100
    )
    db.session.add_all([merchant, store, program])
    locales = ("en", "fr", "de", "lb")
    cards = []
    for n in range(count):
        customer = Customer(
            merchant=merchant,
            email=f"guest{n}@example.lu",
            first_name=f"Léa{n}",
            last_name="Hoffmann",
            preferred_locale=locales[n % 4],
        )
        cards.append(
            LoyaltyCard(
                merchant=merchant,
                customer=customer,
                program=program,
                card_number=f"9{n:011d}",
                enrolled_at_store=store,
                points_balance=100 + n,
            )
        )
    db.session.add_all(cards)
    dbmod.commit()
    return [c.id for c in cards]


def _start_consumer(env: dict[str, str], log_path: Path, workers: int) -> subprocess.Popen[bytes]:
    consumer = Path(sys.executable).with_name("huey_consumer")
    log_file = log_path.open("wb")
    return subprocess.Popen(
        [
            str(consumer),
            "platform_core.worker.huey",
            "-w",
            str(workers),
            "-k",
            "thread",
            "-q",
            "-d",
            "0.01",
            "-m",
            "0.05",
            "-n",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def _postgres(workdir: Path) -> tuple[str, Path]:
    """A throwaway PostgreSQL (scripts/pg-throwaway.sh); returns its DSN and directory."""
    directory = workdir / "pg"
    # The server runs as the postgres user, which must be able to reach the directory.
    workdir.chmod(0o755)
    dsn = (
        subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "pg-throwaway.sh"), "start", str(directory)],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return dsn, directory


def _consumer_messages(rows: list[Any], mail_from: str) -> list[tuple[Any, str]]:
    """The consumer's messages built by the consumer's own MIME code, from the log."""
    from messaging.mime import build_mime

    return [
        (
            build_mime(
                from_name="Pâtisserie Ëlsa",
                mail_from=mail_from,
                to=row.recipient,
                reply_to="hi@elsa.lu",
                subject=row.subject,
                body_text=row.body_text,
                body_html=row.body_html,
            ),
            row.recipient,
        )
        for row in rows
    ]


def _bare_loop(
    port: int,
    handler: _CountingHandler,
    messages: list[tuple[Any, str]],
    mail_from: str,
    timeout: float,
    *,
    serialize: Any = None,
) -> float:
    """Seconds to send ``messages`` over one connection (``serialize``: bytes + sendmail)."""
    import smtplib

    handler.reset(len(messages))
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as conn:
        for message, recipient in messages:
            if serialize is None:
                conn.send_message(message, from_addr=mail_from, to_addrs=[recipient])
            else:
                conn.sendmail(mail_from, [recipient], serialize(message))
    handler.done.wait(timeout)
    return time.perf_counter() - start


def _bare_messages(rows: list[Any], mail_from: str) -> list[tuple[EmailMessage, str]]:
    """The consumer's messages rebuilt from the log (same headers, subjects and bodies)."""
    from email.utils import format_datetime, make_msgid

    from platform_core.models_base import utcnow

    username, _, domain = mail_from.partition("@")
    messages = []
    for row in rows:
        message = EmailMessage()
        message["From"] = Address(display_name="Pâtisserie Ëlsa", username=username, domain=domain)
        message["To"] = row.recipient
        message["Reply-To"] = "hi@elsa.lu"
        message["Subject"] = row.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(row.body_text, charset="utf-8")
        message.add_alternative(row.body_html, subtype="html", charset="utf-8")
        messages.append((message, row.recipient))
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="worker threads of the one consumer process"
    )
    parser.add_argument(
        "--stack",
        choices=("dev", "production"),
        default="dev",
        help="dev: SQLite database and queue; production: PostgreSQL + Redis",
    )
    args = parser.parse_args(argv)
    count = args.count

    from contextlib import ExitStack

    from aiosmtpd.controller import Controller

    workdir = Path(tempfile.mkdtemp(prefix="bench-email-"))
    cleanup = ExitStack()
    database_url = huey_url = None
    if args.stack == "production":
        sys.path.insert(0, str(PROJECT_ROOT))
        from tests.support.redis_server import redis_server

        huey_url = cleanup.enter_context(redis_server())
        database_url, pg_dir = _postgres(workdir)
        cleanup.callback(
            subprocess.run,
            [str(PROJECT_ROOT / "scripts" / "pg-throwaway.sh"), "stop", str(pg_dir)],
            check=False,
            capture_output=True,
        )
    handler = _CountingHandler(count)
    port = _free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    env = _prepare_environment(workdir, port, database_url=database_url, huey_url=huey_url)

    # Imported only now: the Huey instance and the configuration read the environment above.
    from sqlalchemy import select

    from loyalty.notifications import loyalty_notifications
    from messaging.models import EmailLog, EmailStatus
    from platform_core import db as dbmod
    from platform_core.app import create_app
    from platform_core.extensions import db

    app = create_app()
    import logging

    # aiosmtpd logs every SMTP command at INFO; the server is not what is measured.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    consumer = None
    try:
        with app.app_context():
            warm_up_card, *card_ids = _build_world(count + 1)
            consumer = _start_consumer(env, workdir / "consumer.log", args.workers)
            # One email before the clock starts: the consumer builds its app and opens its SMTP
            # connection on its first task; the rates are about the messages after that.
            handler.reset(1)
            loyalty_notifications.enrollment(warm_up_card)
            dbmod.commit()
            if not handler.done.wait(60):
                print(f"the warm-up email never arrived; see {workdir / 'consumer.log'}")
                return 1
            time.sleep(0.2)  # its row commits after the SMTP server answered
            handler.reset(count)

            # The log rows are written first (what enrollments do in their requests); the
            # clock starts at the commit that enqueues their send tasks.
            queued_start = time.perf_counter()
            for card_id in card_ids:
                loyalty_notifications.enrollment(card_id)
            db.session.flush()
            queue_seconds = time.perf_counter() - queued_start
            start = time.perf_counter()
            dbmod.commit()  # enqueues the send tasks
            finished = handler.done.wait(args.timeout)
            consumer_seconds = time.perf_counter() - start
            if not finished:
                print(
                    f"consumer delivered only {handler.count}/{count} messages in "
                    f"{args.timeout:.0f} s; see {workdir / 'consumer.log'}"
                )
                return 1
            time.sleep(0.5)  # let the last task commit its row (and any retry show up)
            smtp_deliveries, distinct = handler.count, len(handler.recipients)
            db.session.expire_all()
            rows = db.session.scalars(select(EmailLog).order_by(EmailLog.id)).all()[1:]
            sent = sum(1 for r in rows if r.status == EmailStatus.SENT)

            mail_from = app.config["MAIL_FROM"]
            # The floors send what was sent (a row the consumer failed to record has no body).
            sent_rows = [r for r in rows if r.status == EmailStatus.SENT]
            messages = _bare_messages(sent_rows, mail_from)
            same_build = _consumer_messages(sent_rows, mail_from)
        from messaging.mime import message_bytes

        bare_seconds = _bare_loop(port, handler, messages, mail_from, args.timeout)
        same_seconds = _bare_loop(
            port, handler, same_build, mail_from, args.timeout, serialize=message_bytes
        )
    finally:
        if consumer is not None:
            consumer.terminate()
            consumer.wait(timeout=10)
        smtp.stop()
        cleanup.close()

    db_name = env["DATABASE_URL"].partition(":")[0]
    queue_name = env["HUEY_URL"].partition(":")[0]
    consumer_rate = count / consumer_seconds
    bare_rate = len(messages) / bare_seconds
    same_rate = len(messages) / same_seconds
    ratio = bare_rate / consumer_rate
    label = f"huey consumer ({args.workers} thread{'s' if args.workers > 1 else ''}):"
    print(f"storage:                  database {db_name}, huey queue {queue_name}")
    print(
        f"messages:                 {count} (log rows sent: {sent}; SMTP deliveries: "
        f"{smtp_deliveries}, distinct recipients: {distinct})"
    )
    print(f"queueing the log rows:    {queue_seconds:6.2f} s (not part of the rates)")
    print(f"{label:<26}{consumer_seconds:6.2f} s  {consumer_rate:8.1f} msg/s")
    print(
        f"bare smtplib loop:        {bare_seconds:6.2f} s  {bare_rate:8.1f} msg/s"
        "  (EmailMessage, send_message)"
    )
    print(
        f"bare loop, same MIME:     {same_seconds:6.2f} s  {same_rate:8.1f} msg/s"
        "  (consumer's MIME code, sendmail)"
    )
    print(
        f"ratio bare/consumer:      {ratio:6.2f}x   (same MIME: {same_rate / consumer_rate:.2f}x)"
    )
    ok = (
        consumer_rate >= TARGET_RATE
        and ratio <= TARGET_RATIO
        and sent == count
        and smtp_deliveries == distinct == count
    )
    print(
        f"targets (>= {TARGET_RATE:.0f} msg/s, <= {TARGET_RATIO:.0f}x, all sent once): "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
