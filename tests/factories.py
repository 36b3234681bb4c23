"""factory_boy factories, and fixtures that hand them out (loaded as a pytest plugin).

Fixtures return the factory class itself, so a test calls ``create_store(merchant=m)``;
``dummy_*`` fixtures give the common case ready-made.
"""

from __future__ import annotations

from typing import Any

import factory
import pytest
from argon2 import PasswordHasher

from platform_core.customers.models import Customer
from platform_core.extensions import db
from platform_core.staff.models import StaffRole, StaffUser
from platform_core.tenancy.models import Merchant, Store, StoreDomain

#: Every factory-made staff user has this password.
STAFF_PASSWORD = "correct horse battery"
# Hashing once keeps factories fast; the hash is a real Argon2 hash of STAFF_PASSWORD.
_STAFF_PASSWORD_HASH = PasswordHasher().hash(STAFF_PASSWORD)


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class MerchantFactory(BaseFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")
    slug = factory.Sequence(lambda n: f"merchant-{n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} S.à r.l.")
    contact_email = factory.Sequence(lambda n: f"contact{n}@merchant.example")
    default_locale = "fr"


class StoreFactory(BaseFactory):
    class Meta:
        model = Store

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}")
    address = "1, rue de la Gare\nL-1611 Luxembourg"
    default_locale = "fr"


class StoreDomainFactory(BaseFactory):
    class Meta:
        model = StoreDomain

    store = factory.SubFactory(StoreFactory)
    host = factory.Sequence(lambda n: f"store{n}.example.lu")


class CustomerFactory(BaseFactory):
    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.lu")
    first_name = factory.Sequence(lambda n: f"Anna{n}")
    last_name = "Muller"
    preferred_locale = "en"
    marketing_consent = False


class StaffUserFactory(BaseFactory):
    class Meta:
        model = StaffUser

    email = factory.Sequence(lambda n: f"staff{n}@platform.example")
    full_name = factory.Sequence(lambda n: f"Staff {n}")
    password_hash = _STAFF_PASSWORD_HASH
    role = StaffRole.PLATFORM_ADMIN
    merchant = None
    is_active_user = True
    preferred_locale = None

    @factory.post_generation
    def stores(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted:
            self.stores = list(extracted)
            if create:
                db.session.flush()


@pytest.fixture
def create_merchant(session: Any) -> type[MerchantFactory]:
    return MerchantFactory


@pytest.fixture
def create_store(session: Any) -> type[StoreFactory]:
    return StoreFactory


@pytest.fixture
def create_store_domain(session: Any) -> type[StoreDomainFactory]:
    return StoreDomainFactory


@pytest.fixture
def create_customer(session: Any) -> type[CustomerFactory]:
    return CustomerFactory


@pytest.fixture
def create_staff_user(session: Any) -> type[StaffUserFactory]:
    return StaffUserFactory


@pytest.fixture
def dummy_merchant(create_merchant: type[MerchantFactory]) -> Merchant:
    return create_merchant(name="Boulangerie Kirchberg", slug="boulangerie-kirchberg")


@pytest.fixture
def dummy_store(create_store: type[StoreFactory], dummy_merchant: Merchant) -> Store:
    return create_store(merchant=dummy_merchant, name="Kirchberg", slug="kirchberg")


@pytest.fixture
def platform_admin(create_staff_user: type[StaffUserFactory]) -> StaffUser:
    return create_staff_user(role=StaffRole.PLATFORM_ADMIN, email="admin@platform.example")


@pytest.fixture
def merchant_admin(
    create_staff_user: type[StaffUserFactory], dummy_merchant: Merchant
) -> StaffUser:
    return create_staff_user(
        role=StaffRole.MERCHANT_ADMIN, merchant=dummy_merchant, email="owner@merchant.example"
    )


@pytest.fixture
def store_staff(
    create_staff_user: type[StaffUserFactory], dummy_merchant: Merchant, dummy_store: Store
) -> StaffUser:
    return create_staff_user(
        role=StaffRole.STORE_STAFF,
        merchant=dummy_merchant,
        stores=[dummy_store],
        email="cashier@merchant.example",
    )
