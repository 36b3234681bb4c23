"""``flask seed demo``: realistic Luxembourg demo data, and a second run changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.staff.services import authenticate
from platform_core.tenancy.models import Merchant, Store, StoreDomain
from platform_core.tenancy.resolver import store_for_host

MODELS = (Merchant, Store, StoreDomain, Customer, StaffUser)


def _snapshot() -> dict[str, tuple[int, object]]:
    db.session.expire_all()
    return {
        model.__tablename__: (
            db.session.scalar(select(func.count()).select_from(model)),
            db.session.scalar(select(func.max(model.updated_at))),
        )
        for model in MODELS
    }


def test_seed_demo_twice_creates_once_and_then_changes_nothing(runner, session):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    after_first = _snapshot()
    assert after_first["merchants"][0] == 2
    assert after_first["stores"][0] == 5
    assert after_first["store_domains"][0] == 5
    # 40 named customers here; the loyalty demo seed may add more.
    assert after_first["customers"][0] >= 40
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.email.like("%@mail.example.lu"), ~Customer.email.like("demo.%"))
        )
        == 40
    )
    assert after_first["staff_users"][0] == 4

    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    assert _snapshot() == after_first
    assert "created" not in second.output.replace("Demo logins", "")
    assert "admin@demo.example" in second.output  # the logins are printed every time


def test_demo_data_is_usable(runner, session):
    result = runner.invoke(args=["seed", "demo"])
    assert "http://hoffmann-gare.localhost:5000/" in result.output
    db.session.expire_all()
    assert store_for_host("hoffmann-gare.localhost:5000").name == "Hoffmann Gare"
    locales = set(db.session.scalars(select(Customer.preferred_locale)))
    assert locales == {"en", "fr", "de", "lb"}
    roles = {}
    for line in result.output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in {r.value for r in StaffRole}:
            roles[parts[0]] = authenticate(parts[1], parts[2])
    assert set(roles) == {r.value for r in StaffRole}
    assert all(user is not None for user in roles.values()), "printed passwords log in"
    cashier = roles["store_staff"]
    assert [store.slug for store in cashier.stores] == ["hoffmann-gare"]


def test_demo_seed_prints_the_urls_of_the_port_in_use(runner, session, monkeypatch):
    monkeypatch.setenv("PORT", "5001")
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    assert "http://hoffmann-gare.localhost:5001/" in result.output
    assert "http://127.0.0.1:5001/login" in result.output
    assert ":5000" not in result.output


def test_demo_seed_dates_no_transaction_after_now(runner, session):
    from loyalty.models import LoyaltyTransaction
    from platform_core.models_base import utcnow

    before = utcnow()
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    after = utcnow()
    db.session.expire_all()
    total = db.session.scalar(select(func.count()).select_from(LoyaltyTransaction))
    assert total > 100
    latest = db.session.scalar(select(func.max(LoyaltyTransaction.created_at)))
    if latest.tzinfo is None:
        latest = latest.replace(tzinfo=after.tzinfo)
    assert latest <= after, (latest, before)
