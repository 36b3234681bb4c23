"""Forgot password: neutral answer, email with a signed link, expiry, single use, locales,
rate limits and CSRF."""

from __future__ import annotations

import pytest

from messaging.models import EmailStatus
from platform_core.auth.tokens import TokenPurpose, make_password_token
from platform_core.staff.services import authenticate
from tests.factories import STAFF_PASSWORD
from tests.platform_core.password_support import (
    clock_moved_back,
    csrf_token,
    email_logs,
    link_in,
    text_of,
)

NEW_PASSWORD = "a brand new passphrase"


def _forgot(client, email, **kwargs):
    return client.post("/password/forgot", data={"email": email}, **kwargs)


def _choose(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(
        path, data={"password": password, "confirm": password if confirm is None else confirm}
    )


def _is_the_choose_password_form(page: str, email: str) -> None:
    """The reset page: its heading, whose account it is, and both password fields."""
    assert "<h1>Choose a new password</h1>" in page
    assert f"Account: {email}" in page
    assert 'name="password"' in page
    assert 'name="confirm"' in page
    assert "expired" not in page


def test_login_page_links_to_the_forgot_password_form(client):
    login = client.get("/login").text
    assert 'href="/password/forgot"' in login
    assert "Forgot your password?" in login
    page = client.get("/password/forgot")
    assert page.status_code == 200
    assert 'name="email"' in page.text


def test_unknown_and_known_email_get_the_same_answer(client, merchant_admin, staff_templates):
    unknown = _forgot(client, "nobody@merchant.example")
    known = _forgot(client, "Owner@Merchant.example")
    assert unknown.status_code == known.status_code == 200
    assert unknown.text == known.text
    assert "Check your inbox" in known.text
    logs = email_logs("staff_password_reset")
    assert [(log.recipient, log.status) for log in logs] == [
        ("owner@merchant.example", EmailStatus.SENT)
    ]
    assert len(staff_templates) == 1
    message = staff_templates[0]
    assert message["To"] == "owner@merchant.example"
    assert message["Subject"] == "Reset your password"
    assert "2 hours" in text_of(message)
    assert link_in(message, "/password/reset/")


def test_reset_link_sets_the_password_once(client, merchant_admin, staff_templates, session):
    _forgot(client, merchant_admin.email)
    path = link_in(staff_templates[0], "/password/reset/")
    page = client.get(path)
    assert page.status_code == 200
    _is_the_choose_password_form(page.text, merchant_admin.email)
    assert page.headers["Referrer-Policy"] == "no-referrer"

    mismatch = _choose(client, path, confirm="something else entirely")
    assert mismatch.status_code == 400
    assert "The two passwords are not the same." in mismatch.text
    short = _choose(client, path, password="short")
    assert short.status_code == 400
    assert "at least 10 characters" in short.text

    done = _choose(client, path)
    assert done.status_code == 302
    assert done.headers["Location"] == "/admin/"
    home = client.get("/admin/")
    assert home.status_code == 200, "the reset logs the user in"
    assert "Your password has been changed" in home.text
    session.expire_all()
    assert authenticate(merchant_admin.email, NEW_PASSWORD) is not None
    assert authenticate(merchant_admin.email, STAFF_PASSWORD) is None

    again = client.get(path)
    assert again.status_code == 410
    assert "already been used" in again.text
    assert _choose(client, path, password="yet another passphrase").status_code == 410
    session.expire_all()
    assert authenticate(merchant_admin.email, NEW_PASSWORD) is not None


def test_a_newer_password_kills_every_older_link(client, merchant_admin, staff_templates):
    _forgot(client, merchant_admin.email)
    _forgot(client, merchant_admin.email)
    first, second = (link_in(m, "/password/reset/") for m in staff_templates)
    assert _choose(client, second).status_code == 302
    assert client.get(first).status_code == 410


def test_expired_link_is_refused(client, merchant_admin, monkeypatch, session):
    with clock_moved_back(monkeypatch, 2 * 3600 + 5):
        token = make_password_token(merchant_admin, TokenPurpose.RESET)
    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 410
    assert "This link has expired." in page.text
    assert _choose(client, f"/password/reset/{token}").status_code == 410
    assert authenticate(merchant_admin.email, STAFF_PASSWORD) is not None


def test_link_just_inside_its_lifetime_works(client, merchant_admin, monkeypatch, session):
    with clock_moved_back(monkeypatch, 2 * 3600 - 60):
        token = make_password_token(merchant_admin, TokenPurpose.RESET)
    page = client.get(f"/password/reset/{token}?lang=en")
    assert page.status_code == 200
    _is_the_choose_password_form(page.text, merchant_admin.email)


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "garbage"]
)
def test_tampered_link_is_refused(client, merchant_admin, session, mangle):
    token = make_password_token(merchant_admin, TokenPurpose.RESET)
    page = client.get(f"/password/reset/{mangle(token)}")
    assert page.status_code == 404
    assert "This link is not valid." in page.text


def test_reset_link_is_no_invitation_and_the_other_way_round(client, merchant_admin, session):
    reset = make_password_token(merchant_admin, TokenPurpose.RESET)
    invitation = make_password_token(merchant_admin, TokenPurpose.INVITATION)
    assert client.get(f"/password/set/{reset}").status_code == 404
    assert client.get(f"/password/reset/{invitation}").status_code == 404


def test_inactive_user_gets_nothing(client, create_staff_user, staff_templates):
    from platform_core.staff.models import StaffRole

    user = create_staff_user(
        role=StaffRole.PLATFORM_ADMIN, email="gone@platform.example", is_active_user=False
    )
    answer = _forgot(client, user.email)
    neutral = _forgot(client, "nobody@platform.example")
    assert answer.status_code == 200
    assert answer.text == neutral.text
    assert email_logs("staff_password_reset") == []
    assert staff_templates == []


def test_link_of_a_user_disabled_since_is_refused(client, merchant_admin, session):
    token = make_password_token(merchant_admin, TokenPurpose.RESET)
    merchant_admin.is_active_user = False
    session.flush()
    assert client.get(f"/password/reset/{token}").status_code == 404


def test_email_goes_out_in_the_users_language(client, create_staff_user, staff_templates):
    from platform_core.staff.models import StaffRole

    create_staff_user(
        role=StaffRole.PLATFORM_ADMIN, email="de@platform.example", preferred_locale="de"
    )
    _forgot(client, "de@platform.example", headers={"Accept-Language": "fr"})
    assert email_logs("staff_password_reset")[0].locale == "de"
    assert staff_templates[0]["Subject"] != "Reset your password"


def test_without_a_preference_the_email_follows_the_page(client, merchant_admin, staff_templates):
    answer = _forgot(client, merchant_admin.email, headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in answer.text
    assert email_logs("staff_password_reset")[0].locale == "fr"
    assert "Réinitialisation" in staff_templates[0]["Subject"]


def test_invalid_email_is_shown_next_to_the_field(client, staff_templates):
    answer = _forgot(client, "not-an-email")
    assert answer.status_code == 400
    assert "Please enter a valid email address." in answer.text
    assert 'value="not-an-email"' in answer.text
    assert staff_templates == []


def test_requests_are_limited_per_address(client, merchant_admin, staff_templates):
    for n in range(5):
        assert _forgot(client, f"someone{n}@merchant.example").status_code == 200
    blocked = _forgot(client, merchant_admin.email)
    assert blocked.status_code == 429
    assert "Too many password reset links" in blocked.text
    assert email_logs("staff_password_reset") == []


def test_requests_are_limited_per_email_across_addresses(client, merchant_admin, staff_templates):
    for n in range(5):
        response = _forgot(
            client, merchant_admin.email, environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"}
        )
        assert response.status_code == 200
    blocked = _forgot(client, merchant_admin.email, environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert blocked.status_code == 429
    assert len(email_logs("staff_password_reset")) == 5
    other = _forgot(client, "other@merchant.example", environ_base={"REMOTE_ADDR": "10.0.0.98"})
    assert other.status_code == 200


def test_forgot_form_needs_its_csrf_token(client, merchant_admin, staff_templates, csrf_on):
    refused = _forgot(client, merchant_admin.email)
    assert refused.status_code == 303
    assert email_logs("staff_password_reset") == []
    token = csrf_token(client, "/password/forgot")
    accepted = client.post(
        "/password/forgot", data={"email": merchant_admin.email, "csrf_token": token}
    )
    assert accepted.status_code == 200
    assert len(staff_templates) == 1


def test_reset_form_needs_its_csrf_token(client, merchant_admin, session, csrf_on):
    path = f"/password/reset/{make_password_token(merchant_admin, TokenPurpose.RESET)}"
    refused = _choose(client, path)
    assert refused.status_code == 303
    assert authenticate(merchant_admin.email, STAFF_PASSWORD) is not None
    token = csrf_token(client, path)
    done = client.post(
        path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
    )
    assert done.status_code == 302
    session.expire_all()
    assert authenticate(merchant_admin.email, NEW_PASSWORD) is not None
