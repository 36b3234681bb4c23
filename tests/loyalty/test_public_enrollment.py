"""The public enrollment form: /enroll/<slug> and the root of a store's own domain."""

from __future__ import annotations

import re
from html import unescape as html_unescape

from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import func, select

from loyalty.models import LoyaltyCard
from loyalty.services.program_texts import set_program_texts
from messaging.models import EmailLog
from platform_core.customers.models import Customer
from platform_core.i18n_lazy import _l

FORM = {
    "email": "Lea.Hoffmann@Example.lu",
    "first_name": "Léa",
    "last_name": "Hoffmann",
    "preferred_locale": "de",
    "phone": "+352 621 123 456",
    "birthday": "1990-04-23",
    "marketing_consent": "y",
    "accept_terms": "y",
}


def _cards(session) -> int:
    return session.scalar(select(func.count(LoyaltyCard.id)))


def test_form_shows_the_program_and_what_you_earn(client, session, dummy_store, points_program):
    set_program_texts(
        points_program,
        {
            "en": {
                "description": "Bread lovers earn more.",
                "terms_url": "https://kirchberg.example/terms",
            }
        },
    )
    response = client.get("/enroll/kirchberg?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Kirchberg Points" in html
    assert "Bread lovers earn more." in html
    assert "Earn 1 point for every euro you spend." in html
    assert "Get 50 points as a welcome bonus." in html
    assert 'href="https://kirchberg.example/terms"' in html
    assert 'name="email"' in html
    assert 'name="accept_terms"' in html
    # The page's language is preselected as the customer's language.
    assert re.search(r'<option selected value="en">|<option value="en" selected>', html)
    assert "<script" not in html


def test_form_uses_the_program_brand_colour_but_never_raw_css(
    client, session, dummy_store, points_program
):
    points_program.brand_color = "#aa3300"
    session.flush()
    assert "--brand: #aa3300;" in client.get("/enroll/kirchberg").get_data(as_text=True)
    points_program.brand_color = "red;}</"
    session.flush()
    html = client.get("/enroll/kirchberg").get_data(as_text=True)
    assert "red;}</" not in html
    assert "--brand: #1f5f8b;" in html


def test_enrolling_shows_the_new_card_with_qr_and_card_page_link(
    client, session, dummy_store, points_program
):
    response = client.post("/enroll/kirchberg?lang=en", data=FORM, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/enroll/kirchberg/welcome"
    html = response.get_data(as_text=True)
    card = session.scalar(select(LoyaltyCard))
    assert card is not None
    assert card.customer.email == "lea.hoffmann@example.lu"
    assert card.customer.preferred_locale == "de"
    assert card.customer.marketing_consent is True
    assert str(card.customer.birthday) == "1990-04-23"
    grouped = " ".join(card.card_number[i : i + 4] for i in range(0, 16, 4))
    assert grouped in html
    assert "<svg" in html
    assert 'class="qr"' in html
    assert ">50<" in html  # the welcome bonus is on the card already
    # On the configured base, not on the request's host (tests/links: forged hosts).
    assert re.search(r'href="http://127.0.0.1:5000/card/[^"]+"', html)
    assert "Welcome, Léa!" in html


def test_validation_errors_are_localized_next_to_fields_and_input_is_kept(
    app, client, session, dummy_store, points_program
):
    data = dict(FORM, email="not-an-email", first_name="", accept_terms="", birthday="23/04/1990")
    response = client.post("/enroll/kirchberg?lang=fr", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'lang="fr"' in html
    # Next to the fields, in the page's language (French once the catalog has the string).
    with app.test_request_context(), force_locale("fr"):
        expected = [
            str(_l("Enter a valid email address, like name@example.lu.")),
            str(_l("Enter your first name.")),
            str(_l("You need to accept the terms to join.")),
            str(_l("Enter the date as YYYY-MM-DD, e.g. 1990-04-23.")),
        ]
    for message in expected:
        assert f'<p class="error" role="alert">{escape(message)}</p>' in html
    assert 'value="not-an-email"' in html
    assert 'value="Hoffmann"' in html
    assert 'value="+352 621 123 456"' in html
    assert 'value="23/04/1990"' in html
    assert _cards(session) == 0


def test_validation_messages_follow_the_page_language(client, dummy_store, points_program):
    html_en = client.post("/enroll/kirchberg?lang=en", data=dict(FORM, accept_terms="")).get_data(
        as_text=True
    )
    assert "You need to accept the terms to join." in html_en


def test_already_enrolled_email_gets_the_neutral_page_without_card_details(
    client, session, dummy_store, points_program, make_card
):
    card = make_card(dummy_store, email="lea.hoffmann@example.lu", first_name="Léa")
    response = client.post("/enroll/kirchberg?lang=en", data=FORM, follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Check your email" in html
    assert card.card_number not in html
    assert " ".join(card.card_number[i : i + 4] for i in range(0, 16, 4)) not in html
    assert "/card/" not in html
    assert "Léa" not in html
    assert _cards(session) == 1
    assert session.scalar(select(func.count(Customer.id))) == 1


def test_already_enrolled_owner_gets_an_email_with_the_card(
    client, session, dummy_store, points_program, make_card
):
    make_card(dummy_store, email="lea.hoffmann@example.lu", first_name="Léa")

    def enrollment_emails() -> int:
        return session.scalar(
            select(func.count(EmailLog.id)).where(
                EmailLog.recipient == "lea.hoffmann@example.lu",
                EmailLog.code == "loyalty_enrollment",
            )
        )

    before = enrollment_emails()
    assert client.post("/enroll/kirchberg?lang=en", data=FORM).status_code == 303
    assert enrollment_emails() == before + 1
    # Reloading the neutral result page sends nothing more.
    assert "Check your email" in client.get("/enroll/kirchberg/welcome").get_data(as_text=True)
    assert enrollment_emails() == before + 1


def test_unknown_store_is_a_localized_404(client, session):
    response = client.get("/enroll/nowhere?lang=en")
    assert response.status_code == 404
    assert "We could not find this store" in response.get_data(as_text=True)


def test_store_without_program_gets_a_friendly_page(client, dummy_store):
    response = client.get("/enroll/kirchberg?lang=en")
    assert response.status_code == 404
    assert "does not run a loyalty program" in response.get_data(as_text=True)


def test_self_enrollment_switched_off_shows_join_in_store(
    client, session, dummy_store, points_program, settings
):
    settings.self_enrollment_enabled = False
    session.flush()
    response = client.get("/enroll/kirchberg?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Online enrollment is closed" in html
    assert "<form" not in html
    assert client.post("/enroll/kirchberg?lang=en", data=FORM).status_code == 200
    assert _cards(session) == 0


def test_store_domain_root_shows_the_enrollment_form(
    client, session, dummy_store, points_program, create_store_domain
):
    create_store_domain(store=dummy_store, host="bakery.example.lu")
    response = client.get("/?lang=en", headers={"Host": "bakery.example.lu"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Kirchberg Points" in html
    assert 'action="/enroll/kirchberg"' in html
    response = client.post(
        "/enroll/kirchberg?lang=en",
        data=FORM,
        headers={"Host": "bakery.example.lu"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    # The store's own domain (from StoreDomain), with PUBLIC_BASE_URL's scheme and port.
    assert "http://bakery.example.lu:5000/card/" in response.get_data(as_text=True)


def test_platform_host_root_still_goes_to_the_console(client, session):
    response = client.get("/")
    assert response.status_code == 302


# --- Post/Redirect/Get: the result page can be reloaded -----------------------------------------
def _enrollment_emails(session) -> int:
    return session.scalar(select(func.count(EmailLog.id)))


def test_enrolling_redirects_to_a_result_page_that_reloads_without_posting_or_emailing(
    client, session, dummy_store, points_program
):
    response = client.post("/enroll/kirchberg?lang=en", data=FORM)
    assert response.status_code == 303
    assert response.headers["Location"] == "/enroll/kirchberg/welcome"
    card = session.scalar(select(LoyaltyCard))
    assert card is not None
    grouped = " ".join(card.card_number[i : i + 4] for i in range(0, 16, 4))
    emails = _enrollment_emails(session)
    assert emails >= 1, "the welcome email was logged by the POST"
    for _reload in range(2):
        page = client.get("/enroll/kirchberg/welcome")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Welcome, Léa!" in html
        assert grouped in html
        assert "/card/" in html
        assert _enrollment_emails(session) == emails, "a reload sends no email"
        assert _cards(session) == 1, "a reload creates no card"
        assert session.scalar(select(func.count(Customer.id))) == 1


def test_result_page_without_this_browsers_enrollment_shows_no_card(
    app, client, session, dummy_store, points_program
):
    assert client.post("/enroll/kirchberg?lang=en", data=FORM).status_code == 303
    card = session.scalar(select(LoyaltyCard))
    assert card is not None
    grouped = " ".join(card.card_number[i : i + 4] for i in range(0, 16, 4))

    def assert_friendly(response) -> None:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Nothing to show here" in html
        assert 'href="/enroll/kirchberg"' in html
        assert grouped not in html
        assert "Léa" not in html
        assert "/card/" not in html

    # Another visitor (no session) guessing the address.
    stranger = app.test_client()
    assert_friendly(stranger.get("/enroll/kirchberg/welcome?lang=en"))
    # A forged session cookie naming Léa's card: its signature does not match, so it is empty.
    forged = app.test_client()
    forged.get("/enroll/kirchberg?lang=en")
    forged.set_cookie(
        app.config.get("SESSION_COOKIE_NAME", "session"),
        f'{{"enrollment_result":{{"store":{dummy_store.id},"card":{card.id},"at":9999999999}}}}'
        ".bad.sig",
    )
    assert_friendly(forged.get("/enroll/kirchberg/welcome?lang=en"))
    # A result that is too old, or for another store, shows nothing either.
    with client.session_transaction() as cookie:
        old = dict(cookie["enrollment_result"])
        cookie["enrollment_result"] = dict(old, at=old["at"] - 2 * 3600)
    assert_friendly(client.get("/enroll/kirchberg/welcome?lang=en"))
    with client.session_transaction() as cookie:
        cookie["enrollment_result"] = dict(old, store=dummy_store.id + 1000)
    assert_friendly(client.get("/enroll/kirchberg/welcome?lang=en"))


def test_result_page_in_french_for_a_stranger(client, dummy_store, points_program):
    response = client.get(
        "/enroll/kirchberg/welcome", headers={"Accept-Language": "fr-FR,fr;q=0.9"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="fr"' in html
    assert "Nothing to show here" not in html


def test_unknown_host_shows_the_localized_unknown_store_page_not_the_login(
    app, client, session, dummy_store, points_program, create_store_domain
):
    create_store_domain(store=dummy_store, host="bakery.example.lu")
    response = client.get(
        "/", headers={"Host": "not-configured.example.lu", "Accept-Language": "fr-FR,fr;q=0.9"}
    )
    assert response.status_code == 404
    assert "Location" not in response.headers
    html = html_unescape(response.get_data(as_text=True))
    assert 'lang="fr"' in html
    assert "Nous n'avons pas trouvé ce magasin." in html
    assert "/login" not in html
    assert 'name="password"' not in html
    # The platform's own host (PUBLIC_BASE_URL's) still goes to the console.
    assert client.get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 302
