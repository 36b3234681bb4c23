"""The email log's resend goes back to a page of this site, never to a posted foreign URL."""

from __future__ import annotations

import pytest

from messaging.models import EmailLog
from platform_core.redirects import is_local_path
from tests.messaging.editor_support import email_log, platform_templates

BASE = "/admin/email-log"

FOREIGN = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/\t/evil.example",
    "http:/evil.example",
    "evil.example",
]


@pytest.mark.parametrize("target", FOREIGN)
def test_resend_refuses_to_redirect_off_site(
    client, login_as, merchant_admin, dummy_store, session, target
):
    platform_templates()
    original = email_log(dummy_store, recipient="anna@example.lu")
    login_as(merchant_admin)
    response = client.post(f"{BASE}/resend/", data={"id": original.id, "url": target})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/"
    # The resend itself still happened.
    assert session.query(EmailLog).filter(EmailLog.resent_from_id == original.id).count() == 1


def test_resend_goes_back_to_the_local_page_it_came_from(
    client, login_as, merchant_admin, dummy_store
):
    platform_templates()
    original = email_log(dummy_store, recipient="anna@example.lu")
    login_as(merchant_admin)
    back = f"{BASE}/details/?id={original.id}&url=%2Fadmin%2Femail-log%2F"
    response = client.post(f"{BASE}/resend/", data={"id": original.id, "url": back})
    assert response.headers["Location"] == back


@pytest.mark.parametrize("target", FOREIGN + ["", None, "/\x00/x", "/a b"])
def test_only_absolute_local_paths_are_local(target):
    assert not is_local_path(target)


def test_local_paths_are_accepted():
    assert is_local_path("/admin/email-log/?page=2")
    assert is_local_path("/")
