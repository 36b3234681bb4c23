"""The console dashboard: figures that match the ledger, scoped to the viewer, in their language."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services import dashboard
from loyalty.services.ledger import redeem_points
from messaging.models import EmailLog, EmailStatus
from platform_core.extensions import db
from platform_core.models_base import utcnow
from platform_core.task_runs.models import TaskRun, TaskRunStatus
from tests.loyalty.console_world import World, build_world

TZ = ZoneInfo("Europe/Luxembourg")


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user):
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def _ledger_sum(merchant_id: int | None, kind: TransactionType) -> int:
    stmt = select(func.coalesce(func.sum(LoyaltyTransaction.points_delta), 0)).where(
        LoyaltyTransaction.type == kind
    )
    if merchant_id is not None:
        stmt = stmt.where(LoyaltyTransaction.merchant_id == merchant_id)
    return int(db.session.scalar(stmt))


def test_card_figures_are_the_merchants_own(world: World, merchant_admin, platform_admin):
    world.program.point_value = Decimal("0.05")
    world.program.points_expiry_days = 60
    # Bob's last visit was 40 days ago: his points expire within 30 days; Anna's do not.
    world.second_card.last_activity_at = utcnow() - timedelta(days=40)
    db.session.flush()

    mine = dashboard.card_figures(merchant_admin)
    assert mine.active_cards == 2
    assert mine.outstanding_points == world.card.points_balance + world.second_card.points_balance
    assert mine.liability == Decimal("0.05") * mine.outstanding_points
    assert mine.expiring_points == world.second_card.points_balance
    assert mine.expiring_cards == 1

    everyone = dashboard.card_figures(platform_admin)
    assert everyone.active_cards == 3
    assert everyone.outstanding_points == mine.outstanding_points + world.other_card.points_balance
    # Rouge Points has no point value: its points are not counted in euros.
    assert everyone.liability == mine.liability


def test_points_per_week_match_the_ledger(world: World, merchant_admin, platform_admin):
    redeem_points(world.card, store=world.store, points=15)
    db.session.flush()
    mine = dashboard.points_per_week(merchant_admin, TZ)
    assert len(mine.weeks) == dashboard.POINTS_WEEKS
    assert mine.weeks[-1].weekday() == 0
    assert sum(mine.issued) == _ledger_sum(world.merchant.id, TransactionType.EARN)
    assert mine.issued[-1] == 40 + 25
    assert mine.redeemed[-1] == 15
    assert sum(mine.expired) == 0

    everyone = dashboard.points_per_week(platform_admin, TZ)
    assert everyone.issued[-1] == 40 + 25 + 20


def test_enrollments_per_day_by_store_in_local_days(world: World, merchant_admin, store_staff):
    # Enrolled at 23:30 UTC in summer: already the next day in Luxembourg.
    today = utcnow().astimezone(TZ).date()
    late = utcnow().replace(hour=23, minute=30) - timedelta(days=10)
    world.second_card.created_at = late
    db.session.flush()

    series = dashboard.enrollments(merchant_admin, TZ)
    assert series.days[-1] == today
    assert len(series.days) == dashboard.ENROLLMENT_DAYS
    assert set(series.by_store) == {world.store.name, world.second_store.name}
    assert series.total == 2
    local_day = late.astimezone(TZ).date()
    assert series.by_store[world.second_store.name][series.days.index(local_day)] == 1
    assert series.last(30).total == 2
    assert world.other_store.name not in series.by_store


def test_email_figures_and_job_runs_are_scoped(world: World, merchant_admin, platform_admin):
    for status in (EmailStatus.SENT, EmailStatus.SENT, EmailStatus.FAILED):
        db.session.add(
            EmailLog(
                merchant_id=world.merchant.id,
                recipient="a@example.lu",
                code="loyalty_enrollment",
                locale="en",
                status=status,
            )
        )
    db.session.add(
        EmailLog(
            merchant_id=world.other_merchant.id,
            recipient="z@example.lu",
            code="loyalty_enrollment",
            locale="en",
            status=EmailStatus.SENT,
        )
    )
    db.session.add(TaskRun(task_name="expire_points_task", status=TaskRunStatus.SUCCEEDED))
    db.session.flush()
    mine = dashboard.email_figures(merchant_admin)
    assert (mine.sent, mine.failed) == (2, 1)
    assert dashboard.email_figures(platform_admin).sent == 3
    assert dashboard.last_job_runs(merchant_admin) == []
    runs = dashboard.last_job_runs(platform_admin)
    assert [(r.task_name, r.status) for r in runs] == [
        ("expire_points_task", TaskRunStatus.SUCCEEDED)
    ]


def _charts(html: str) -> dict[str, str]:
    found = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)" data-chart="([^"]+)"', html)
    return {name: base64.b64decode(data).decode("utf-8") for data, name in found}


def test_home_page_shows_figures_and_charts_in_luxembourgish(
    client, login_as, merchant_admin, world: World
):
    world.program.point_value = Decimal("0.05")
    db.session.flush()
    login_as(merchant_admin)
    page = client.get("/admin/?lang=lb")
    assert page.status_code == 200
    html = page.text
    outstanding = world.card.points_balance + world.second_card.points_balance
    assert f'data-figure="outstanding-points">{outstanding}<' in html
    assert 'data-figure="active-cards">2<' in html
    assert "Punkten" in html  # a Luxembourgish caption, not English
    charts = _charts(html)
    assert set(charts) == {"enrollments-30", "enrollments-90", "points"}
    for svg in charts.values():
        assert svg.lstrip().startswith("<svg")
        # No script from another host, as pygal would link by default.
        assert "kozea.github.io" not in svg
    assert world.second_store.name in charts["enrollments-30"]
    assert world.other_store.name not in html
    # The screen-reader table beside the chart carries the same figures.
    assert 'data-table="points"' in html
    assert "Rouge" not in html


def test_counters_use_the_plural_the_count_needs(client, login_as, merchant_admin, world):
    login_as(merchant_admin)
    html = client.get("/admin/?lang=en").text
    card = re.search(r'data-count="merchant">1</div>\s*<a [^>]*>([^<]+)</a>', html)
    assert card is not None
    assert card.group(1) == "merchant"
    stores = re.search(r'data-count="store">2</div>\s*<a [^>]*>([^<]+)</a>', html)
    assert stores is not None
    assert stores.group(1) == "stores"


def test_cards_without_programs_leave_an_empty_dashboard(client, login_as, merchant_admin):
    login_as(merchant_admin)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert 'data-figure="active-cards">0<' in page.text
    assert db.session.scalar(select(func.count()).select_from(LoyaltyCard)) == 0
