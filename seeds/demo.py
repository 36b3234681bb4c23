"""Demo data for developers: two Luxembourg merchants, their stores and customers, and one
staff login per role. Idempotent: rows are looked up by their natural key (slug, host,
email) and left alone when they exist, so a second run changes nothing.

Every store gets a ``<slug>.localhost`` domain, so http://hoffmann-gare.localhost:5000/ opens
that store's public pages on a developer machine (browsers resolve ``*.localhost`` locally).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from loyalty.consent_wording import marketing_hash, public_wording
from platform_core.customers.models import ConsentPurpose, ConsentSource
from platform_core.customers.services import ConsentGiven, create_customer, get_customer_by_email
from platform_core.staff.models import StaffRole
from platform_core.staff.services import create_staff_user, get_staff_user_by_email
from platform_core.tenancy.models import Merchant, Store
from platform_core.tenancy.services import (
    add_store_domain,
    create_merchant,
    create_store,
    get_merchant_by_slug,
    get_store_by_slug,
    get_store_domain_by_host,
)


@dataclass(frozen=True)
class DemoStore:
    slug: str
    name: str
    address: str


@dataclass(frozen=True)
class DemoMerchant:
    slug: str
    name: str
    legal_name: str
    contact_email: str
    default_locale: str
    stores: tuple[DemoStore, ...]
    #: (first name, last name, preferred locale)
    customers: tuple[tuple[str, str, str], ...]


MERCHANTS = (
    DemoMerchant(
        slug="boulangerie-hoffmann",
        name="Boulangerie Hoffmann",
        legal_name="Boulangerie-Pâtisserie Hoffmann S.à r.l.",
        contact_email="contact@hoffmann.example.lu",
        default_locale="lb",
        stores=(
            DemoStore("hoffmann-gare", "Hoffmann Gare", "42, avenue de la Gare\nL-1611 Luxembourg"),
            DemoStore(
                "hoffmann-kirchberg",
                "Hoffmann Kirchberg",
                "12, avenue John F. Kennedy\nL-1855 Luxembourg",
            ),
            DemoStore(
                "hoffmann-esch", "Hoffmann Esch", "27, rue de l'Alzette\nL-4011 Esch-sur-Alzette"
            ),
        ),
        customers=(
            ("Marie", "Weber", "lb"),
            ("Jean", "Schmit", "fr"),
            ("Claude", "Muller", "lb"),
            ("Sophie", "Wagner", "de"),
            ("Paul", "Hoffmann", "lb"),
            ("Anne", "Klein", "fr"),
            ("Luc", "Thill", "lb"),
            ("Carine", "Reuter", "fr"),
            ("Tom", "Kieffer", "en"),
            ("Nathalie", "Schroeder", "de"),
            ("Marc", "Hansen", "lb"),
            ("Isabelle", "Dupont", "fr"),
            ("João", "Ferreira", "fr"),
            ("Ana", "Rodrigues", "en"),
            ("Pedro", "Gonçalves", "fr"),
            ("Inês", "da Silva", "en"),
            ("Lukas", "Becker", "de"),
            ("Julia", "Schneider", "de"),
            ("Yves", "Lentz", "fr"),
            ("Michèle", "Majerus", "lb"),
            ("Pit", "Feller", "lb"),
            ("Laura", "Ries", "en"),
            ("Georges", "Bettendorf", "fr"),
            ("Tessy", "Faber", "lb"),
        ),
    ),
    DemoMerchant(
        slug="cafe-schumann",
        name="Café Schumann",
        legal_name="Café-Librairie Schumann S.à r.l.",
        contact_email="bonjour@schumann.example.lu",
        default_locale="fr",
        stores=(
            DemoStore("schumann-diekirch", "Schumann Diekirch", "8, Grand-Rue\nL-9240 Diekirch"),
            DemoStore(
                "schumann-ettelbruck",
                "Schumann Ettelbruck",
                "3, place de la Libération\nL-9060 Ettelbruck",
            ),
        ),
        customers=(
            ("Françoise", "Nilles", "fr"),
            ("Romain", "Schumacher", "lb"),
            ("Elsa", "Kremer", "de"),
            ("Miguel", "Pereira", "fr"),
            ("Catarina", "Costa", "en"),
            ("Henri", "Mersch", "fr"),
            ("Lisa", "Goedert", "lb"),
            ("Stefan", "Fischer", "de"),
            ("Chantal", "Bausch", "fr"),
            ("Rui", "Martins", "fr"),
            ("Nora", "Wolff", "lb"),
            ("Daniel", "Simon", "en"),
            ("Monique", "Hilbert", "fr"),
            ("Ben", "Weis", "lb"),
            ("Sandra", "Lopes", "fr"),
            ("Max", "Zimmer", "de"),
        ),
    ),
)

#: (email, password, role, merchant slug, store slugs, full name): the printed dev logins.
STAFF = (
    (
        "admin@demo.example",
        "demo-admin-password",
        StaffRole.PLATFORM_ADMIN,
        None,
        (),
        "Platform Admin",
    ),
    (
        "anne.hoffmann@demo.example",
        "demo-hoffmann-password",
        StaffRole.MERCHANT_ADMIN,
        "boulangerie-hoffmann",
        (),
        "Anne Hoffmann",
    ),
    (
        "paul.schumann@demo.example",
        "demo-schumann-password",
        StaffRole.MERCHANT_ADMIN,
        "cafe-schumann",
        (),
        "Paul Schumann",
    ),
    (
        "kasse.gare@demo.example",
        "demo-gare-password",
        StaffRole.STORE_STAFF,
        "boulangerie-hoffmann",
        ("hoffmann-gare",),
        "Kees Gare",
    ),
)


def _email_of(first: str, last: str) -> str:
    plain = f"{first}.{last}".lower().replace(" ", "")
    table = str.maketrans("àâäçéèêëîïôöûüãõíóúñ", "aaaceeeeiioouuaoioun")
    return f"{plain.translate(table)}@mail.example.lu"


def _merchant(spec: DemoMerchant) -> tuple[Merchant, bool]:
    merchant = get_merchant_by_slug(spec.slug)
    if merchant is not None:
        return merchant, False
    return create_merchant(
        spec.name,
        spec.slug,
        spec.contact_email,
        legal_name=spec.legal_name,
        default_locale=spec.default_locale,
    ), True


def _store(merchant: Merchant, spec: DemoStore) -> tuple[Store, bool]:
    store = get_store_by_slug(spec.slug)
    if store is not None:
        return store, False
    return create_store(merchant, spec.name, spec.slug, address=spec.address), True


def dev_port() -> int:
    """The port ``make run`` serves on: ``PORT`` (as scripts/run-dev.sh reads it), else 5000."""
    value = os.environ.get("PORT", "").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else 5000


def _seed_merchant(spec: DemoMerchant) -> Iterator[str]:
    merchant, created = _merchant(spec)
    yield f"{'created' if created else 'kept'} merchant {merchant.name}"
    for store_spec in spec.stores:
        store, created = _store(merchant, store_spec)
        host = f"{store.slug}.localhost"
        if get_store_domain_by_host(host) is None:
            add_store_domain(store, host)
            created = True
        yield f"{'created' if created else 'kept'} store {store.name} (http://{host}:{dev_port()}/)"
    new_customers = 0
    for first, last, locale in spec.customers:
        email = _email_of(first, last)
        if get_customer_by_email(merchant.id, email) is None:
            create_customer(
                merchant,
                email,
                first,
                last,
                preferred_locale=locale,
                consent=[_form_marketing_consent(locale)] if len(first) % 2 == 0 else [],
            )
            new_customers += 1
    yield f"{merchant.name}: {len(spec.customers)} customers ({new_customers} new)"


def _form_marketing_consent(locale: str) -> ConsentGiven:
    """The marketing email box ticked on the public form, in ``locale``."""
    return ConsentGiven(
        purpose=ConsentPurpose.MARKETING_EMAIL,
        source=ConsentSource.PUBLIC_FORM,
        locale=locale,
        wording=marketing_hash(public_wording(locale)),
    )


def _seed_staff() -> Iterator[str]:
    for email, password, role, merchant_slug, store_slugs, full_name in STAFF:
        if get_staff_user_by_email(email) is not None:
            continue
        merchant = get_merchant_by_slug(merchant_slug) if merchant_slug else None
        stores = [store for slug in store_slugs if (store := get_store_by_slug(slug))]
        create_staff_user(
            email, password, role, merchant=merchant, stores=stores, full_name=full_name
        )
        yield f"created {role.value} {email}"


def seed_demo() -> Iterable[str]:
    """Create (or keep) the demo merchants, stores, domains, customers and staff logins,
    then the demo loyalty programs and cards when that seed is installed."""
    for spec in MERCHANTS:
        yield from _seed_merchant(spec)
    yield from _seed_staff()
    if importlib.util.find_spec("seeds.demo_loyalty") is not None:
        from seeds.demo_loyalty import seed_demo_loyalty

        yield from seed_demo_loyalty()
    yield f"Demo logins (development only), at http://127.0.0.1:{dev_port()}/login:"
    for email, password, role, *_ in STAFF:
        yield f"  {role.value:<15} {email:<30} {password}"
