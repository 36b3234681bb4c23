"""The Luxembourgish n-rule before inserted names, and the lb word for expired points."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from messaging.sandbox import text_env
from platform_core.i18n_lb import apply_n_rule, lb_gettext, lb_n_rule


@pytest.mark.parametrize(
    ("word", "next_word", "expected"),
    [
        ("vun", "Hoffmann", "vun"),
        ("vun", "Boulangerie", "vu"),
        ("vu", "Hoffmann", "vun"),
        ("vun", "Inês", "vun"),
        ("vun", "Kirchberg", "vu"),
        ("vun", "Naumann", "vun"),
        ("vun", "Dupont", "vun"),
        ("vun", "Tom", "vun"),
        ("vun", "Zenner", "vun"),
        ("un", "Paul", "u"),
        ("den", "Mëttwoch", "de"),
        ("een", "Bäcker", "ee"),
        ("hien", "seet", "hie"),
        ("Vun", "Boulangerie", "Vu"),
        ("vun", "„Boulangerie“", "vu"),
        ("vun", "42", "vun"),
        ("Haus", "Boulangerie", "Haus"),
    ],
)
def test_lb_n_rule(word, next_word, expected):
    assert lb_n_rule(word, next_word) == expected


def test_apply_n_rule_only_touches_the_word_before_a_placeholder():
    template = "Administrateur vun %(merchant)s, den %(date)s"
    fixed = apply_n_rule(template, {"merchant": "Boulangerie Hoffmann", "date": "2. Mäerz"})
    assert fixed == "Administrateur vu %(merchant)s, den %(date)s"


def test_lb_strings_with_names_follow_the_rule(app_ctx):
    with force_locale("lb"):
        assert lb_gettext("Logo of %(name)s", name="Boulangerie Ney") == "Logo vu Boulangerie Ney"
        assert lb_gettext("Logo of %(name)s", name="Hoffmann") == "Logo vun Hoffmann"
        assert lb_gettext("by %(name)s, %(when)s", name="Paul", when="x") == "vu Paul, x"
        assert gettext("Points expired") == "Punkten ofgelaf"
    with force_locale("de"):
        assert lb_gettext("Logo of %(name)s", name="Boulangerie") == "Logo von Boulangerie"


def test_the_admin_home_applies_the_rule(app, login_as, merchant_admin):
    client = login_as(merchant_admin)
    page = client.get("/admin/?lang=lb").text
    name = merchant_admin.merchant.name
    expected = lb_n_rule("vun", name)
    assert f"Administrateur {expected} {name}" in page


def test_email_templates_have_an_n_rule_filter():
    template = text_env.from_string("Member {{ 'vun'|n_rule(name) }} {{ name }}")
    assert template.render(name="Kirchberg Rewards") == "Member vu Kirchberg Rewards"
    assert template.render(name="Hoffmann") == "Member vun Hoffmann"
