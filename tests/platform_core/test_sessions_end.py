"""Sessions that end: a cookie copied before logout, a password reset or change, a
deactivation or a role change stops working; idle sessions expire.

The attacker is a second browser holding copies of the victim's cookies (session and
remember-me), taken right after the victim logged in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from platform_core.staff.models import StaffRole
from tests.factories import STAFF_PASSWORD
from tests.platform_core.password_support import link_in

COOKIES = ("session", "remember_token")


def _log_in(client: Any, user: Any, remember: bool = True) -> None:
    data = {"email": user.email, "password": STAFF_PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.text


def _copy_cookies(app: Any, source: Any, names: tuple[str, ...] = COOKIES) -> Any:
    thief = app.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value, domain=cookie.domain or "localhost")
    return thief


def _in_console(client: Any) -> bool:
    response = client.get("/admin/")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


@pytest.fixture
def victim(create_staff_user, dummy_merchant, dummy_store):
    return create_staff_user(
        role=StaffRole.STORE_STAFF,
        merchant=dummy_merchant,
        stores=[dummy_store],
        email="victim@merchant.example",
    )


@pytest.fixture
def stolen(app, client, victim) -> Callable[[tuple[str, ...]], Any]:
    """Log the victim in; return a function copying their cookies into another browser."""
    _log_in(client, victim)
    assert _in_console(client)
    return lambda names=COOKIES: _copy_cookies(app, client, names)


@pytest.mark.parametrize("names", [COOKIES, ("session",), ("remember_token",)])
def test_a_copied_cookie_works_until_an_event_ends_it(stolen, names):
    thief = stolen(names)
    assert _in_console(thief), "the copy works as long as nothing ended the session"


@pytest.mark.parametrize("names", [COOKIES, ("session",), ("remember_token",)])
def test_logout_ends_every_session_of_the_user(client, stolen, names):
    thief = stolen(names)
    assert client.post("/logout").status_code == 302
    assert not _in_console(thief)
    assert not _in_console(client)


def test_password_reset_ends_every_session(client, app, stolen, victim, staff_templates):
    thief = stolen()
    other_browser = app.test_client()
    other_browser.post("/password/forgot", data={"email": victim.email})
    path = link_in(staff_templates[0], "/password/reset/")
    done = other_browser.post(
        path, data={"password": "a brand new passphrase", "confirm": "a brand new passphrase"}
    )
    assert done.status_code == 302
    assert _in_console(other_browser), "the reset logs in the browser that made it"
    assert not _in_console(thief)
    assert not _in_console(client)


def _edit_victim(app: Any, admin: Any, victim: Any, **changes: Any) -> None:
    admin_browser = app.test_client()
    _log_in(admin_browser, admin, remember=False)
    data = {
        "email": victim.email,
        "full_name": victim.full_name,
        "role": "store_staff",
        "merchant": str(victim.merchant_id),
        "stores": [str(s.id) for s in victim.stores],
        "password": "",
        "is_active_user": "y",
        "preferred_locale": "",
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    response = admin_browser.post(f"/admin/staffuser/edit/?id={victim.id}", data=data)
    assert response.status_code == 302, response.text
    assert _in_console(admin_browser), "the admin who made the change stays logged in"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"password": "a new password typed by the admin"}, id="password-change"),
        pytest.param({"is_active_user": None}, id="deactivation"),
        pytest.param({"role": "merchant_admin", "stores": []}, id="role-change"),
    ],
)
def test_admin_changes_end_every_session(app, client, stolen, victim, merchant_admin, changes):
    thief = stolen()
    _edit_victim(app, merchant_admin, victim, **changes)
    assert not _in_console(thief)
    assert not _in_console(client)


def test_an_unrelated_edit_keeps_the_sessions(app, client, stolen, victim, merchant_admin):
    thief = stolen()
    _edit_victim(app, merchant_admin, victim, full_name="Victim Renamed")
    assert _in_console(thief)
    assert _in_console(client)


def test_changing_your_own_password_keeps_only_this_session(app, client, stolen, merchant_admin):
    admin_browser = app.test_client()
    _log_in(admin_browser, merchant_admin)
    admin_copy = _copy_cookies(app, admin_browser)
    response = admin_browser.post(
        f"/admin/staffuser/edit/?id={merchant_admin.id}",
        data={
            "email": merchant_admin.email,
            "full_name": "",
            "role": "merchant_admin",
            "merchant": str(merchant_admin.merchant_id),
            "password": "my own new long password",
            "is_active_user": "y",
            "preferred_locale": "",
        },
    )
    assert response.status_code == 302, response.text
    assert _in_console(admin_browser)
    assert not _in_console(admin_copy)


def test_remember_me_cookie_flags(app, client, victim, monkeypatch):
    _log_in(client, victim)
    cookie = client.get_cookie("remember_token")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure  # plain HTTP in development and tests

    from platform_core.config import ProductionConfig

    assert ProductionConfig.REMEMBER_COOKIE_SECURE is True
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_SECURE", True)
    browser = app.test_client()
    _log_in(browser, victim)
    assert browser.get_cookie("remember_token").secure


@pytest.fixture
def clock(app, monkeypatch) -> list[float]:
    """A frozen clock for the idle check: ``clock[0]`` is now (epoch seconds)."""
    now = [1_800_000_000.0]
    monkeypatch.setitem(app.config, "SESSION_CLOCK", lambda: now[0])
    return now


def test_an_idle_session_expires_after_twelve_hours(app, client, victim, clock):
    assert app.config["SESSION_IDLE_HOURS"] == 12
    _log_in(client, victim, remember=False)
    clock[0] += 11 * 3600
    assert _in_console(client)
    clock[0] += 11 * 3600  # active 11 h ago: still alive, 22 h after login
    assert _in_console(client)
    clock[0] += 12 * 3600 + 61
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    login_page = client.get(response.headers["Location"])
    assert "Your session ended after a long time without activity" in login_page.text
    assert not _in_console(client)


def test_idle_expiry_also_clears_the_remember_me_cookie(app, client, victim, clock):
    _log_in(client, victim, remember=True)
    clock[0] += 12 * 3600 + 61
    assert not _in_console(client)
    assert client.get_cookie("remember_token") is None
    assert not _in_console(client), "the remember-me cookie does not bring the session back"


def test_idle_limit_is_configurable(app, client, victim, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_HOURS", 1)
    _log_in(client, victim, remember=False)
    clock[0] += 3600 + 61
    assert not _in_console(client)


def test_a_new_login_starts_a_fresh_idle_clock(app, client, victim, clock):
    _log_in(client, victim, remember=False)
    client.post("/logout")
    clock[0] += 13 * 3600
    _log_in(client, victim, remember=False)
    assert _in_console(client)
