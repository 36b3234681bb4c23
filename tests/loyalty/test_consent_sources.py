"""Consent rows through every source: the public form, the public and merchant APIs, the
terminal and the console; each with its locale and the hash of the exact wording shown."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import select

from loyalty.consent_wording import public_wording, terms_hash
from loyalty.models import LoyaltyCard
from loyalty.services.program_texts import set_program_texts
from platform_core.customers.consent import consent_history, has_consent, wording_hash
from platform_core.customers.models import ConsentPurpose, ConsentSource, Customer

TERMS = ConsentPurpose.TERMS
MARKETING = ConsentPurpose.MARKETING_EMAIL
TERMS_URL = "https://kirchberg.example/terms"

FORM = {
    "email": "lea@example.lu",
    "first_name": "Léa",
    "last_name": "Hoffmann",
    "preferred_locale": "de",
    "marketing_consent": "y",
    "accept_terms": "y",
}


def _customer(session: Any, email: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.email == email))
    assert customer is not None
    return customer


def _rows(customer: Customer) -> list[tuple[Any, ...]]:
    return [
        (r.purpose, r.granted, r.source, r.locale, r.wording_hash, r.staff_user_id)
        for r in consent_history(customer.id)
    ]


def test_the_form_records_terms_and_marketing_in_the_page_language(
    client: Any, session: Any, dummy_store: Any, points_program: Any
) -> None:
    # The page is French; the customer picks German for their emails: the rows say French,
    # the language of the wording they read.
    response = client.post("/enroll/kirchberg?lang=fr", data=FORM)
    assert response.status_code == 303  # Post/Redirect/Get to the success page
    customer = _customer(session, "lea@example.lu")
    assert _rows(customer) == [
        (
            TERMS,
            True,
            ConsentSource.PUBLIC_FORM,
            "fr",
            wording_hash("J'accepte les conditions générales", TERMS_URL),
            None,
        ),
        (
            MARKETING,
            True,
            ConsentSource.PUBLIC_FORM,
            "fr",
            wording_hash("Je souhaite recevoir les nouveautés et les offres par e-mail"),
            None,
        ),
    ]
    assert customer.marketing_consent is True
    assert {r.merchant_id for r in consent_history(customer.id)} == {dummy_store.merchant_id}


def test_a_changed_terms_address_is_another_wording(
    client: Any, session: Any, dummy_store: Any, points_program: Any
) -> None:
    client.post("/enroll/kirchberg?lang=lb", data={**FORM, "email": "a@example.lu"})
    set_program_texts(points_program, {"en": {"terms_url": "https://kirchberg.example/terms-2"}})
    session.commit()
    client.post("/enroll/kirchberg?lang=lb", data={**FORM, "email": "b@example.lu"})
    first = consent_history(_customer(session, "a@example.lu").id)[0]
    second = consent_history(_customer(session, "b@example.lu").id)[0]
    assert first.wording_hash == terms_hash(public_wording("lb", terms_url=TERMS_URL), TERMS_URL)
    assert second.wording_hash != first.wording_hash
    assert {first.locale, second.locale} == {"lb"}


def test_joining_without_marketing_consent_records_no_marketing_row(
    client: Any, session: Any, dummy_store: Any, points_program: Any
) -> None:
    form = {k: v for k, v in FORM.items() if k != "marketing_consent"}
    response = client.post("/enroll/kirchberg?lang=en", data=form)
    assert response.status_code == 303
    assert session.scalar(select(LoyaltyCard)) is not None
    customer = _customer(session, "lea@example.lu")
    assert [(r.purpose, r.granted) for r in consent_history(customer.id)] == [(TERMS, True)]
    assert customer.marketing_consent is False
    assert not has_consent(customer.id, MARKETING)


def test_the_public_api_records_source_api(
    client: Any, session: Any, dummy_store: Any, points_program: Any
) -> None:
    body = {
        "email": "jean@example.lu",
        "first_name": "Jean",
        "last_name": "Schmit",
        "locale": "lb",
        "marketing_consent": True,
        "accept_terms": True,
    }
    response = client.post("/api/v1/stores/kirchberg/enroll?lang=de", json=body)
    assert response.status_code == 201, response.get_json()
    customer = _customer(session, "jean@example.lu")
    assert _rows(customer) == [
        (
            TERMS,
            True,
            ConsentSource.API,
            "de",
            terms_hash(public_wording("de", terms_url=TERMS_URL), TERMS_URL),
            None,
        ),
        (
            MARKETING,
            True,
            ConsentSource.API,
            "de",
            wording_hash("Senden Sie mir Neuigkeiten und Angebote per E-Mail"),
            None,
        ),
    ]
    # Without the box: terms only.
    client.post(
        "/api/v1/stores/kirchberg/enroll",
        json={**body, "email": "x@example.lu", "marketing_consent": False},
    )
    assert [r.purpose for r in consent_history(_customer(session, "x@example.lu").id)] == [TERMS]


def test_the_terminal_records_the_staff_member_and_its_own_wording(
    client: Any,
    login_as: Any,
    store_staff: Any,
    session: Any,
    dummy_store: Any,
    points_program: Any,
) -> None:
    login_as(store_staff)
    done = client.post(
        f"/admin/terminal/{dummy_store.id}/enroll/?lang=lb",
        data={**FORM, "preferred_locale": "fr"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    customer = _customer(session, "lea@example.lu")
    assert _rows(customer) == [
        (
            TERMS,
            True,
            ConsentSource.TERMINAL,
            "lb",
            wording_hash("De Client akzeptéiert d'Bedéngungen", TERMS_URL),
            store_staff.id,
        ),
        (
            MARKETING,
            True,
            ConsentSource.TERMINAL,
            "lb",
            wording_hash("De Client wëll Neiegkeeten an Offere per E-Mail kréien"),
            store_staff.id,
        ),
    ]


def _console_form(merchant_id: int, **extra: str) -> dict[str, str]:
    return {
        "merchant": str(merchant_id),
        "first_name": "Anna",
        "last_name": "Muller",
        "email": "anna@example.lu",
        "preferred_locale": "fr",
        **extra,
    }


def test_the_console_checkbox_appends_a_row_when_it_changes(
    client: Any, login_as: Any, merchant_admin: Any, session: Any
) -> None:
    login_as(merchant_admin)
    merchant_id = merchant_admin.merchant_id
    created = client.post(
        "/admin/customer/new/?lang=de", data=_console_form(merchant_id, marketing_consent="y")
    )
    assert created.status_code == 302
    customer = _customer(session, "anna@example.lu")
    label = wording_hash("Der Kunde möchte Neuigkeiten und Angebote per E-Mail erhalten")
    assert _rows(customer) == [
        (MARKETING, True, ConsentSource.CONSOLE, "de", label, merchant_admin.id)
    ]
    # Saved again with the box as it was (in another language): nothing new.
    edit = f"/admin/customer/edit/?id={customer.id}"
    client.post(edit + "&lang=en", data=_console_form(merchant_id, marketing_consent="y"))
    assert len(consent_history(customer.id)) == 1
    # Unticked: a withdrawal, and the flag follows the row.
    client.post(edit + "&lang=en", data=_console_form(merchant_id))
    session.expire_all()
    rows = consent_history(customer.id)
    assert [(r.granted, r.source, r.locale, r.staff_user_id) for r in rows] == [
        (True, ConsentSource.CONSOLE, "de", merchant_admin.id),
        (False, ConsentSource.CONSOLE, "en", merchant_admin.id),
    ]
    assert _customer(session, "anna@example.lu").marketing_consent is False
    # The edit form shows the current state.
    page = client.get(edit).text
    assert 'id="marketing_consent" name="marketing_consent" type="checkbox" value="y">' in page


def test_the_console_never_writes_the_flag_without_a_row(
    client: Any, login_as: Any, platform_admin: Any, session: Any, dummy_merchant: Any
) -> None:
    login_as(platform_admin)
    client.post("/admin/customer/new/", data=_console_form(dummy_merchant.id))
    customer = _customer(session, "anna@example.lu")
    assert consent_history(customer.id) == []
    client.post(
        f"/admin/customer/edit/?id={customer.id}",
        data=_console_form(dummy_merchant.id, marketing_consent="y"),
    )
    session.expire_all()
    customer = _customer(session, "anna@example.lu")
    assert customer.marketing_consent is True
    assert [(r.granted, r.staff_user_id) for r in consent_history(customer.id)] == [
        (True, platform_admin.id)
    ]


def test_the_details_page_shows_the_consent_and_its_history(
    client: Any,
    login_as: Any,
    store_staff: Any,
    merchant_admin: Any,
    session: Any,
    dummy_store: Any,
    points_program: Any,
    create_merchant: Any,
    create_customer: Any,
) -> None:
    login_as(store_staff)
    client.post(f"/admin/terminal/{dummy_store.id}/enroll/?lang=en", data=FORM)
    customer = _customer(session, "lea@example.lu")
    history = consent_history(customer.id)
    login_as(merchant_admin)
    page = html.unescape(client.get(f"/admin/customer/details/?id={customer.id}&lang=en").text)
    assert "Consent history" in page
    current = page.split('data-testid="consent-current"')[1].split("</table>")[0]
    assert current.count("Granted") == 2
    assert "Store terminal" in current
    table = page.split('data-testid="consent-history"')[1].split("</table>")[0]
    assert table.count("<tr>") == 3  # the header and two rows
    assert "Terms and conditions" in table
    assert "News and offers by email" in table
    assert history[0].wording_hash[:12] in table
    assert store_staff.email in table or store_staff.full_name in table
    # Append-only: no link edits or deletes the rows.
    assert "consentrecord" not in page
    # Another merchant's customer: 404.
    other = create_customer(merchant=create_merchant(slug="elsewhere"), email="o@example.lu")
    session.commit()
    assert client.get(f"/admin/customer/details/?id={other.id}").status_code == 404


def test_the_details_page_says_when_nothing_was_recorded(
    client: Any, login_as: Any, merchant_admin: Any, create_customer: Any, session: Any
) -> None:
    customer = create_customer(merchant=merchant_admin.merchant)
    session.commit()
    login_as(merchant_admin)
    page = client.get(f"/admin/customer/details/?id={customer.id}&lang=fr").text
    assert "Jamais donné" in html.unescape(page)


def test_a_consent_change_by_staff_is_in_the_audit_log_as_old_and_new(
    client: Any, login_as: Any, merchant_admin: Any, session: Any
) -> None:
    from platform_core.audit.models import AuditLog

    login_as(merchant_admin)
    merchant_id = merchant_admin.merchant_id
    client.post("/admin/customer/new/?lang=en", data=_console_form(merchant_id))
    customer = _customer(session, "anna@example.lu")
    client.post(
        f"/admin/customer/edit/?id={customer.id}&lang=en",
        data=_console_form(merchant_id, marketing_consent="y"),
    )
    session.expire_all()
    updates = session.scalars(
        select(AuditLog).where(
            AuditLog.model == "Customer",
            AuditLog.object_id == str(customer.id),
            AuditLog.action == "update",
        )
    ).all()
    assert [u.changes.get("marketing_consent") for u in updates] == [[False, True]]
    assert updates[0].actor_email == merchant_admin.email
    assert updates[0].merchant_id == merchant_id
