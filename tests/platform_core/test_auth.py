"""Staff login: credentials, inactive accounts, safe redirects, rate limits, CSRF, logout."""

from __future__ import annotations

import html
import re

import pytest

from platform_core.staff.models import StaffRole
from tests.factories import STAFF_PASSWORD


@pytest.fixture
def csrf_on(app, monkeypatch):
    """CSRF protection as in production (the test config turns it off for other tests)."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _token(client, url="/login"):
    html = client.get(url).text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _login(client, email, password=STAFF_PASSWORD, next_url=None, **extra):
    url = "/login" + (f"?next={next_url}" if next_url is not None else "")
    return client.post(url, data={"email": email, "password": password, **extra})


def test_login_with_right_password_opens_the_console(client, merchant_admin):
    response = _login(client, "Owner@Merchant.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(client, merchant_admin):
    wrong = _login(client, merchant_admin.email, "not the password")
    unknown = _login(client, "nobody@merchant.example")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or password is not correct" in wrong.text
    assert "The email or password is not correct" in unknown.text
    assert client.get("/admin/").status_code == 302


def test_inactive_user_cannot_log_in(client, create_staff_user, session):
    user = create_staff_user(role=StaffRole.PLATFORM_ADMIN, is_active_user=False)
    assert _login(client, user.email).status_code == 401
    assert client.get("/admin/").status_code == 302


def test_user_deactivated_while_logged_in_is_logged_out(client, login_as, merchant_admin, session):
    login_as(merchant_admin)
    assert client.get("/admin/").status_code == 200
    merchant_admin.is_active_user = False
    session.flush()
    assert client.get("/admin/").status_code == 302


def test_invalid_form_keeps_the_email_typed(client):
    response = _login(client, "not-an-email", "")
    assert response.status_code == 400
    assert 'value="not-an-email"' in response.text
    assert "Please enter your password." in response.text


@pytest.mark.parametrize("next_url", ["/admin/store/", "/admin/customer/?search=anna"])
def test_next_on_this_site_is_followed(client, merchant_admin, next_url):
    response = _login(client, merchant_admin.email, next_url=next_url)
    assert response.headers["Location"] == next_url


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "https:/evil.example",
    ],
)
def test_next_elsewhere_is_ignored(client, merchant_admin, next_url):
    from urllib.parse import quote

    response = _login(client, merchant_admin.email, next_url=quote(next_url, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_remember_me_sets_a_lasting_cookie_only_when_asked(app, merchant_admin, connection):
    forgetful = app.test_client()
    _login(forgetful, merchant_admin.email)
    assert forgetful.get_cookie("remember_token") is None
    remembered = app.test_client()
    _login(remembered, merchant_admin.email, remember="y")
    cookie = remembered.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.expires is not None


def test_failed_logins_are_limited_per_address(client, merchant_admin):
    for n in range(5):
        assert _login(client, f"guess{n}@merchant.example", "wrong").status_code == 401
    blocked = client.post(
        "/login",
        data={"email": merchant_admin.email, "password": STAFF_PASSWORD},
        headers={"Accept-Language": "fr"},
    )
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    assert '<html lang="fr">' in blocked.text
    assert "Too many attempts" in blocked.text or "Trop" in blocked.text


def test_the_login_lockout_links_back_to_the_login_form(client, merchant_admin):
    for n in range(5):
        assert _login(client, f"guess{n}@merchant.example", "wrong").status_code == 401
    blocked = client.post(
        "/login",
        data={"email": merchant_admin.email, "password": STAFF_PASSWORD},
        headers={"Accept-Language": "de"},
    )
    assert blocked.status_code == 429
    assert 'href="/login"' in blocked.text
    assert "Zurück zur Anmeldeseite" in html.unescape(blocked.text)


def test_failed_logins_are_limited_per_email_across_addresses(client, merchant_admin):
    for n in range(5):
        response = client.post(
            "/login",
            data={"email": merchant_admin.email, "password": "x"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"},
        )
        assert response.status_code == 401
    blocked = client.post(
        "/login",
        data={"email": merchant_admin.email, "password": STAFF_PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert blocked.status_code == 429
    # Another account from a fresh address is not affected.
    other = client.post(
        "/login",
        data={"email": "someone@else.example", "password": "x"},
        environ_base={"REMOTE_ADDR": "10.0.0.98"},
    )
    assert other.status_code == 401


def test_successful_logins_do_not_count(app, merchant_admin, connection):
    for _ in range(8):
        fresh = app.test_client()
        assert _login(fresh, merchant_admin.email).status_code == 302


def test_login_post_without_csrf_token_is_refused(client, merchant_admin, csrf_on):
    response = _login(client, merchant_admin.email)
    assert response.status_code == 400
    assert "The form expired" in response.text
    assert client.get("/admin/").status_code == 302


def test_login_with_the_page_token_works(client, merchant_admin, csrf_on):
    token = _token(client)
    response = _login(client, merchant_admin.email, csrf_token=token)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_logout_needs_post_with_token(client, merchant_admin, csrf_on):
    _login(client, merchant_admin.email, csrf_token=_token(client))
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/admin/").status_code == 200, "a forged logout must not log out"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/").text).group(1)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/admin/").status_code == 302
