"""Outbox under faults: what is delivered, lost and duplicated, and how long recovery takes.

    .venv/bin/python bench/outbox_faults.py [--enrollments 100] [--workers 2] [--stale-after 2]

Two scenarios, each on its own stack of real processes (``tests/support/outbox_stack.py``:
redis-server, a ``huey_consumer``, aiosmtpd on loopback, a SQLite database):

* **Redis down**: redis-server is stopped, one enrollment commits (its two emails are logged,
  their enqueues fail), redis-server starts again. Nobody runs the CLI: the consumer's own
  periodic sweeper (every minute) must find the rows. Target: both delivered once each
  within ``MAIL_STALE_AFTER`` + 60 s of the restart.
* **Consumer killed**: enrollments queue 2 x ``--enrollments`` emails; the consumer gets
  SIGKILL once 40 have arrived, and is started again; ``flask messaging requeue-stale`` runs
  every ``MAIL_STALE_AFTER`` seconds. Target: all delivered, 0 lost, duplicates only from
  messages in flight (at most one per consumer thread), each with its row's Message-ID.

The SMTP server answers each message after 20 ms, so that the kill lands mid-stream.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.support.outbox_stack import (  # noqa: E402
    Figures,
    OutboxStack,
    consumer_killed_scenario,
    redis_down_scenario,
)


def _print(name: str, figures: Figures, target: str, ok: bool) -> None:
    print(f"{name}")
    print(f"  log rows:              {figures.rows} (sent: {figures.sent})")
    print(f"  delivered:             {figures.rows - figures.lost}")
    print(f"  lost:                  {figures.lost}")
    print(
        f"  duplicates:            {figures.duplicates} "
        f"(same Message-ID: {figures.duplicates_same_id}, new Message-ID: {figures.foreign_ids})"
    )
    print(f"  time to recovery:      {figures.recovery_seconds:.1f} s after the restart")
    print(f"  target ({target}): {'met' if ok else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="consumer threads")
    parser.add_argument("--stale-after", type=int, default=2, help="MAIL_STALE_AFTER (s)")
    args = parser.parse_args(argv)
    ok = True

    stack = OutboxStack(stale_after=args.stale_after, workers=args.workers, smtp_delay=0.02)
    stack.start()
    try:
        started = time.monotonic()
        figures = redis_down_scenario(stack, sweep_every=None)
        met = (
            figures.sent == figures.rows == 2
            and figures.lost == figures.duplicates == 0
            and 0 <= figures.recovery_seconds <= args.stale_after + 60
        )
        ok &= met
        took = time.monotonic() - started
        _print(
            f"Redis down during an enrollment (periodic sweeper; {took:.0f} s)",
            figures,
            f"2 delivered once, within {args.stale_after} + 60 s",
            met,
        )
    finally:
        stack.stop()

    stack = OutboxStack(stale_after=args.stale_after, workers=args.workers, smtp_delay=0.02)
    stack.start()
    try:
        figures = consumer_killed_scenario(stack, enrollments=args.enrollments)
        met = (
            figures.sent == figures.rows == 2 * args.enrollments
            and figures.lost == 0
            and figures.duplicates <= args.workers
            and figures.duplicates == figures.duplicates_same_id
            and figures.foreign_ids == 0
        )
        ok &= met
        print()
        _print(
            f"Consumer SIGKILLed during {2 * args.enrollments} emails "
            f"({args.workers} threads), then restarted",
            figures,
            f"0 lost, <= {args.workers} duplicates with the same Message-ID",
            met,
        )
    finally:
        stack.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
