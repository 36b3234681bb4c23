"""Invitations: an account created without a password gets an email with a link to choose
one, from the admin form and from ``flask users invite``."""

from __future__ import annotations

from messaging.models import EmailStatus
from platform_core.auth.tokens import TokenPurpose, make_password_token
from platform_core.staff.models import StaffRole
from platform_core.staff.services import authenticate, get_staff_user_by_email
from tests.platform_core.password_support import (
    clock_moved_back,
    email_logs,
    link_in,
    text_of,
)

PASSWORD = "my own chosen password"


def _staff_form(**overrides):
    data = {
        "email": "new.person@example.lu",
        "full_name": "Nora Klein",
        "role": "store_staff",
        "password": "",
        "is_active_user": "y",
    }
    data.update(overrides)
    return data


def test_admin_form_says_an_empty_password_sends_an_invitation(client, login_as, merchant_admin):
    login_as(merchant_admin)
    form = client.get("/admin/staffuser/new/").text
    assert "Leave empty to email an invitation" in form


def test_admin_creates_an_account_without_password_and_it_is_invited(
    client, login_as, merchant_admin, dummy_store, staff_templates, session
):
    merchant_admin.full_name = "Claire Schmit"
    session.flush()
    login_as(merchant_admin)
    response = client.post(
        "/admin/staffuser/new/",
        data=_staff_form(
            merchant=str(merchant_admin.merchant_id),
            stores=str(dummy_store.id),
            preferred_locale="en",
        ),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "An invitation was sent to new.person@example.lu." in response.text

    user = get_staff_user_by_email("new.person@example.lu")
    assert user is not None
    assert user.is_active
    assert user.stores == [dummy_store]
    logs = email_logs("staff_invitation")
    assert [(log.recipient, log.status, log.merchant_id) for log in logs] == [
        ("new.person@example.lu", EmailStatus.SENT, merchant_admin.merchant_id)
    ]
    assert len(staff_templates) == 1
    message = staff_templates[0]
    assert message["To"] == "new.person@example.lu"
    body = text_of(message)
    assert "Hello Nora Klein," in body
    assert "Claire Schmit has invited you" in body
    assert dummy_store.merchant.name in message["Subject"]

    client.post("/logout")
    path = link_in(message, "/password/set/")
    page = client.get(path)
    assert page.status_code == 200
    assert "Welcome! Choose your password" in page.text
    assert "new.person@example.lu" in page.text
    done = client.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302
    assert "Your password is set" in client.get("/admin/").text
    session.expire_all()
    assert authenticate("new.person@example.lu", PASSWORD) is not None
    assert client.get(path).status_code == 410, "an invitation works once"


def test_admin_with_a_password_sends_no_invitation(
    client, login_as, platform_admin, staff_templates, session
):
    login_as(platform_admin)
    response = client.post(
        "/admin/staffuser/new/",
        data=_staff_form(role="platform_admin", password="a long enough password"),
    )
    assert response.status_code == 302
    assert authenticate("new.person@example.lu", "a long enough password") is not None
    assert email_logs("staff_invitation") == []
    assert staff_templates == []


def test_inactive_account_without_password_is_refused(
    client, login_as, platform_admin, staff_templates, session
):
    login_as(platform_admin)
    data = _staff_form(role="platform_admin")
    del data["is_active_user"]
    response = client.post("/admin/staffuser/new/", data=data)
    assert response.status_code == 200
    assert "An invitation needs an active account" in response.text
    assert get_staff_user_by_email("new.person@example.lu") is None
    assert staff_templates == []


def test_invitation_breaking_a_rule_creates_nothing_and_sends_nothing(
    client, login_as, platform_admin, dummy_merchant, staff_templates, session
):
    login_as(platform_admin)
    response = client.post(
        "/admin/staffuser/new/", data=_staff_form(merchant=str(dummy_merchant.id))
    )
    assert "Store staff need at least one store." in response.text
    assert get_staff_user_by_email("new.person@example.lu") is None
    assert email_logs("staff_invitation") == []
    assert staff_templates == []


def test_cli_invites_a_store_staff_member(runner, dummy_store, staff_templates, session):
    result = runner.invoke(
        args=[
            "users",
            "invite",
            "Cashier@Example.lu",
            "--role",
            "store_staff",
            "--merchant",
            dummy_store.merchant.slug,
            "--store",
            dummy_store.slug,
            "--name",
            "Jim Hoffmann",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "cashier@example.lu" in result.output
    user = get_staff_user_by_email("cashier@example.lu")
    assert user.role == StaffRole.STORE_STAFF
    assert user.stores == [dummy_store]
    assert [log.recipient for log in email_logs("staff_invitation")] == ["cashier@example.lu"]
    # No preference given: the merchant's language (French for the test merchant).
    assert email_logs("staff_invitation")[0].locale == "fr"
    message = staff_templates[0]
    assert "Invitation" in message["Subject"]
    path = link_in(message, "/password/set/")
    page = runner.app.test_client().get(path + "?lang=en")
    assert page.status_code == 200
    assert "Welcome! Choose your password" in page.text
    assert "cashier@example.lu" in page.text


def test_cli_invite_in_a_chosen_language(runner, staff_templates, session):
    result = runner.invoke(
        args=["users", "invite", "root@example.lu", "--role", "platform_admin", "--locale", "en"]
    )
    assert result.exit_code == 0, result.output
    body = text_of(staff_templates[0])
    assert "The loyalty platform team has invited you" in body


def test_cli_invite_reports_the_rule_broken(runner, dummy_merchant, staff_templates, session):
    result = runner.invoke(
        args=[
            "users",
            "invite",
            "boss@example.lu",
            "--role",
            "merchant_admin",
            "--merchant",
            "nope",
        ]
    )
    assert result.exit_code != 0
    assert "There is no merchant with the slug nope." in result.output
    result = runner.invoke(
        args=[
            "users",
            "invite",
            "boss@example.lu",
            "--role",
            "store_staff",
            "--merchant",
            dummy_merchant.slug,
        ]
    )
    assert result.exit_code != 0
    assert "Store staff need at least one store." in result.output
    assert get_staff_user_by_email("boss@example.lu") is None
    assert staff_templates == []


def test_invitation_expires_after_seven_days(client, merchant_admin, monkeypatch, session):
    with clock_moved_back(monkeypatch, 7 * 24 * 3600 + 5):
        token = make_password_token(merchant_admin, TokenPurpose.INVITATION)
    page = client.get(f"/password/set/{token}")
    assert page.status_code == 410
    assert "This link has expired." in page.text
    with clock_moved_back(monkeypatch, 6 * 24 * 3600):
        token = make_password_token(merchant_admin, TokenPurpose.INVITATION)
    page = client.get(f"/password/set/{token}?lang=en")
    assert page.status_code == 200
    assert "Welcome! Choose your password" in page.text
    assert f"Account: {merchant_admin.email}" in page.text


def test_set_password_page_in_french(client, merchant_admin, session):
    path = f"/password/set/{make_password_token(merchant_admin, TokenPurpose.INVITATION)}"
    page = client.get(path + "?lang=fr")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Bienvenue\u00a0! Choisissez votre mot de passe" in page.text
    assert "Nouveau mot de passe" in page.text
    mismatch = client.post(path, data={"password": PASSWORD, "confirm": "autre chose ici"})
    assert mismatch.status_code == 400
    assert "Les deux mots de passe ne sont pas identiques." in mismatch.text
    done = client.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302
    assert "Votre mot de passe est enregistré" in client.get("/admin/").text
