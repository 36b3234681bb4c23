"""The dashboard's daily ledger totals: the same figures as the ledger, whether the nightly
refresh ran or not; each closed day summed once, even by two refreshes at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update

from loyalty.models import LedgerDailyTotal, LoyaltyTransaction
from loyalty.services import dashboard
from loyalty.services.ledger import earn_points, redeem_points
from loyalty.services.ledger_rollup import (
    _LOCK_KEY,
    last_closed_day,
    refresh_ledger_rollup,
    rolled_up_through,
)
from platform_core.extensions import db
from platform_core.models_base import utcnow
from tests.conftest import is_postgres
from tests.loyalty.console_world import World, build_world

TZ = ZoneInfo("Europe/Luxembourg")


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def _stamp(row: LoyaltyTransaction, when: datetime) -> None:
    db.session.execute(
        update(LoyaltyTransaction).where(LoyaltyTransaction.id == row.id).values(created_at=when)
    )


def _history(world: World) -> None:
    """Rows on closed days across weeks, one at 23:30 local (the next UTC day is not it),
    and today's rows from the world."""
    now = utcnow()
    for days_ago, amount in ((3, "12.00"), (9, "7.00"), (20, "30.00")):
        row = earn_points(world.card, store=world.store, amount=Decimal(amount))
        _stamp(row, now - timedelta(days=days_ago))
    late = earn_points(world.second_card, store=world.second_store, amount=Decimal("5.00"))
    local = (now - timedelta(days=5)).astimezone(TZ).replace(hour=23, minute=30)
    _stamp(late, local.astimezone(UTC))
    spent = redeem_points(world.card, store=world.store, points=9)
    _stamp(spent, now - timedelta(days=9))
    db.session.flush()


def test_the_rolled_up_figures_are_the_ledgers(world: World, merchant_admin, platform_admin):
    _history(world)
    before = (
        dashboard.points_per_week(merchant_admin, TZ),
        dashboard.points_per_week(platform_admin, TZ),
    )
    report = refresh_ledger_rollup(TZ)
    assert report.rows > 0
    assert rolled_up_through() == last_closed_day(TZ)
    after = (
        dashboard.points_per_week(merchant_admin, TZ),
        dashboard.points_per_week(platform_admin, TZ),
    )
    assert after == before
    # And the figures did come from the totals: drop the ledger rows of closed days and the
    # chart still shows them (while the live part still reads today's rows).
    mine = after[0]
    assert sum(mine.issued) == 40 + 25 + 12 + 7 + 30 + 5
    assert sum(mine.redeemed) == 9
    assert mine.issued[-1] >= 40 + 25  # today's rows, read live


def test_closed_days_come_from_the_totals_not_the_ledger(world: World, merchant_admin):
    _history(world)
    refresh_ledger_rollup(TZ)
    since = (
        datetime.combine(last_closed_day(TZ) + timedelta(days=1), datetime.min.time(), TZ)
    ).astimezone(UTC)
    # Mark the closed days' ledger rows: were the dashboard to read them, the figures would
    # change. (The ledger is append-only in production; this test cheats on purpose.)
    db.session.execute(
        update(LoyaltyTransaction)
        .where(LoyaltyTransaction.created_at < since)
        .values(points_delta=LoyaltyTransaction.points_delta * 1000)
    )
    mine = dashboard.points_per_week(merchant_admin, TZ)
    assert sum(mine.issued) == 40 + 25 + 12 + 7 + 30 + 5


def test_a_second_refresh_sums_nothing_twice(world: World, merchant_admin):
    _history(world)
    refresh_ledger_rollup(TZ)
    rows = db.session.scalar(select(func.count()).select_from(LedgerDailyTotal))
    again = refresh_ledger_rollup(TZ)
    assert again.rows == 0
    assert again.first_day is None
    assert db.session.scalar(select(func.count()).select_from(LedgerDailyTotal)) == rows
    assert sum(dashboard.points_per_week(merchant_admin, TZ).issued) == 119


def test_a_day_is_closed_an_hour_after_local_midnight():
    # 00:30 in Luxembourg on 2 December (23:30 UTC on 1 December): 1 December may still get
    # rows committed late, so the last closed day is 30 November.
    now = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert last_closed_day(TZ, now) == datetime(2026, 11, 30).date()
    later = datetime(2026, 12, 2, 0, 5, tzinfo=UTC)  # 01:05 local
    assert last_closed_day(TZ, later) == datetime(2026, 12, 1).date()


def test_the_next_days_rows_join_the_totals_the_next_night(world: World, merchant_admin):
    _history(world)
    refresh_ledger_rollup(TZ)
    through = rolled_up_through()
    assert through is not None
    # A night later: today's rows (the world's earns) are now a closed day.
    tomorrow = utcnow() + timedelta(days=1, hours=2)
    report = refresh_ledger_rollup(TZ, now=tomorrow)
    assert report.first_day == through + timedelta(days=1)
    today_rows = db.session.scalar(
        select(func.sum(LedgerDailyTotal.issued)).where(
            LedgerDailyTotal.day == report.first_day,
            LedgerDailyTotal.merchant_id == world.merchant.id,
        )
    )
    assert today_rows == 40 + 25
    assert (
        sum(dashboard.points_per_week(merchant_admin, TZ, now=tomorrow).issued)
        == 40 + 25 + 12 + 7 + 30 + 5
    )


def test_a_merchant_sees_only_its_own_totals(world: World, merchant_admin, store_staff):
    other = earn_points(world.other_card, store=world.other_store, amount=Decimal("500.00"))
    _stamp(other, utcnow() - timedelta(days=4))
    _history(world)
    refresh_ledger_rollup(TZ)
    mine = dashboard.points_per_week(merchant_admin, TZ)
    assert sum(mine.issued) == 40 + 25 + 12 + 7 + 30 + 5
    staff = dashboard.points_per_week(store_staff, TZ)
    # Store staff of the first store: its rows only, not the second store's 25 and 5.
    assert sum(staff.issued) == 40 + 12 + 7 + 30


@pytest.mark.postgres
def test_a_refresh_holds_the_lock_another_refresh_waits_for(app, world: World) -> None:
    """Two refreshes at once must not both sum the same days: while one runs (until its
    commit), another connection cannot take the refresh lock."""
    if not is_postgres():
        pytest.skip("PostgreSQL only")
    _history(world)
    refresh_ledger_rollup(TZ)
    with db.engine.connect() as other:
        taken = other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        other.rollback()
    assert taken is False


def test_the_command_sums_now_and_is_recorded_as_a_task_run(runner, world: World, session):
    from platform_core.task_runs.models import TaskRun, TaskRunSource

    _history(world)
    session.commit()
    result = runner.invoke(args=["loyalty", "rollup-ledger"])
    assert result.exit_code == 0, result.output
    assert "Summed" in result.output
    assert f"to {last_closed_day(TZ)}" in result.output
    again = runner.invoke(args=["loyalty", "rollup-ledger"])
    assert "up to date" in again.output
    runs = session.scalars(select(TaskRun).where(TaskRun.task_name == "ledger_rollup_task")).all()
    assert [r.source for r in runs] == [TaskRunSource.CLI, TaskRunSource.CLI]
    assert "rows" in runs[0].summary


def _direct_card_figures(merchant_id: int) -> tuple[int, int]:
    """(active cards, outstanding points) read from the cards themselves."""
    from loyalty.models import LoyaltyCard

    active = db.session.scalar(
        select(func.count()).where(LoyaltyCard.merchant_id == merchant_id, LoyaltyCard.is_active)
    )
    points = db.session.scalar(
        select(func.sum(LoyaltyCard.points_balance)).where(LoyaltyCard.merchant_id == merchant_id)
    )
    return int(active), int(points)


def _backdate_cards(world: World) -> None:
    from loyalty.models import LoyaltyCard

    db.session.execute(
        update(LoyaltyCard)
        .where(LoyaltyCard.id == world.card.id)
        .values(created_at=utcnow() - timedelta(days=25))
    )
    db.session.execute(
        update(LoyaltyCard)
        .where(LoyaltyCard.id == world.second_card.id)
        .values(created_at=utcnow() - timedelta(days=6))
    )


def test_enrollments_and_card_figures_are_the_same_from_the_totals(
    world: World, merchant_admin, platform_admin, store_staff
):
    _history(world)
    _backdate_cards(world)
    world.second_card.is_active = False
    db.session.flush()
    viewers = (merchant_admin, platform_admin, store_staff)
    before = [(dashboard.enrollments(u, TZ), dashboard.card_figures(u, TZ)) for u in viewers]
    refresh_ledger_rollup(TZ)
    after = [(dashboard.enrollments(u, TZ), dashboard.card_figures(u, TZ)) for u in viewers]
    assert after == before
    mine = after[0][1]
    assert (mine.active_cards, mine.outstanding_points) == _direct_card_figures(world.merchant.id)
    # The enrolled cards of closed days did come from the totals.
    assert after[0][0].total == 2
    # Points move today: the live part adds them to the closed days' balance.
    earn_points(world.card, store=world.store, amount=Decimal("3.00"))
    db.session.flush()
    now_mine = dashboard.card_figures(merchant_admin, TZ)
    assert now_mine.outstanding_points == _direct_card_figures(world.merchant.id)[1]


def test_deleting_a_customer_in_the_console_takes_them_out_of_the_totals(
    client, login_as, platform_admin, world: World, session
):
    _history(world)
    _backdate_cards(world)
    session.flush()
    refresh_ledger_rollup(TZ)
    session.commit()
    login_as(platform_admin)
    customer_id = world.second_card.customer_id
    response = client.post("/admin/customer/delete/", data={"id": str(customer_id)})
    assert response.status_code == 302
    session.expire_all()
    figures = dashboard.card_figures(platform_admin, TZ)
    mine = [p for p in figures.programs if p.program == world.program.name][0]
    active, outstanding = _direct_card_figures(world.merchant.id)
    assert mine.outstanding_points == outstanding
    assert dashboard.enrollments(platform_admin, TZ).total == 1 + 1  # world.card, other_card
