"""Platform email templates for staff accounts (invitation, password reset) in en/fr/de/lb.

Also holds what both email seeds share: the responsive HTML layout and the idempotent upsert
that never overwrites a template staff edited after it was seeded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from messaging.catalog import get_spec
from messaging.models import EmailTemplate
from platform_core.extensions import db

#: Colour of the staff emails' header and button (loyalty emails use the program's colour).
PLATFORM_COLOR = "#1f5f8b"
_FONT = "Arial,Helvetica,sans-serif"


@dataclass(frozen=True)
class SeedTemplate:
    code: str
    locale: str
    subject: str
    body_html: str
    body_text: str = ""


def content_hash(subject: str, body_html: str, body_text: str) -> str:
    """Fingerprint of a template's content, stored as ``seeded_hash``."""
    data = "\x00".join((subject, body_html, body_text or ""))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def button(label: str, url_expr: str, color_expr: str) -> str:
    """A bulletproof button (a table cell, so Outlook keeps the colour)."""
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" '
        'style="margin:8px 0 16px 0;"><tr>'
        f'<td align="center" bgcolor="{color_expr}" style="border-radius:6px;'
        f'background-color:{color_expr};">'
        f'<a href="{url_expr}" style="display:inline-block;padding:12px 24px;'
        f"font-family:{_FONT};font-size:16px;font-weight:bold;line-height:20px;"
        f'color:#ffffff;text-decoration:none;border-radius:6px;">{label}</a>'
        "</td></tr></table>"
    )


def paragraph(text: str, *, small: bool = False) -> str:
    style = (
        "margin:0 0 12px 0;font-size:13px;line-height:19px;color:#52606d;"
        if small
        else "margin:0 0 16px 0;font-size:16px;line-height:24px;"
    )
    return f'<p style="{style}">{text}</p>'


def layout(
    *,
    lang: str,
    heading: str,
    blocks: Sequence[str],
    footer: str,
    color_expr: str = PLATFORM_COLOR,
    header: str = "{{ merchant_name }}",
) -> str:
    """A simple single-column email: coloured header with the merchant, content, footer.

    Table layout and inline styles only, 560 px wide at most and fluid below: it reads the
    same in webmail, Outlook and phone mail apps.
    """
    table = 'role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
    card_style = (
        "max-width:560px;background-color:#ffffff;border-radius:8px;"
        f"font-family:{_FONT};color:#1f2933;"
    )
    header_style = (
        f"background-color:{color_expr};padding:20px 28px;"
        "border-radius:8px 8px 0 0;font-size:20px;line-height:26px;"
        "font-weight:bold;color:#ffffff;"
    )
    footer_style = (
        "padding:16px 28px 24px 28px;border-top:1px solid #e4e7eb;"
        "font-size:12px;line-height:18px;color:#7b8794;"
    )
    heading_style = "margin:0 0 16px 0;font-size:22px;line-height:28px;color:#1f2933;"
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{heading}</title>",
        "</head>",
        '<body style="margin:0;padding:0;background-color:#f1f3f5;">',
        f'<table {table} style="background-color:#f1f3f5;">',
        '<tr><td align="center" style="padding:24px 12px;">',
        f'<table {table} style="{card_style}">',
        f'<tr><td style="{header_style}">{header}</td></tr>',
        '<tr><td style="padding:28px 28px 12px 28px;">',
        f'<h1 style="{heading_style}">{heading}</h1>',
        *blocks,
        "</td></tr>",
        f'<tr><td style="{footer_style}">{footer}</td></tr>',
        "</table>",
        "</td></tr>",
        "</table>",
        "</body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class SeedCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0

    def line(self, label: str) -> str:
        return (
            f"{label}: created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, kept {self.kept} edited"
        )


def upsert_templates(templates: Iterable[SeedTemplate]) -> SeedCounts:
    """Create missing templates and refresh untouched ones; never overwrite an edited one.

    A template counts as edited when its current content no longer matches the
    ``seeded_hash`` the seed wrote: staff changed it, and their version wins.
    """
    counts = SeedCounts()
    for item in templates:
        new_hash = content_hash(item.subject, item.body_html, item.body_text)
        row = db.session.scalar(select(EmailTemplate).filter_by(code=item.code, locale=item.locale))
        if row is None:
            db.session.add(
                EmailTemplate(
                    code=item.code,
                    locale=item.locale,
                    subject=item.subject,
                    body_html=item.body_html,
                    body_text=item.body_text,
                    description=str(get_spec(item.code).description),
                    is_active=True,
                    seeded_hash=new_hash,
                )
            )
            counts.created += 1
            continue
        current_hash = content_hash(row.subject, row.body_html, row.body_text)
        if current_hash == new_hash:
            if row.seeded_hash != new_hash:
                row.seeded_hash = new_hash
            counts.unchanged += 1
        elif row.seeded_hash is None or current_hash != row.seeded_hash:
            counts.kept += 1
        else:
            row.subject, row.body_html, row.body_text = (
                item.subject,
                item.body_html,
                item.body_text,
            )
            row.seeded_hash = new_hash
            counts.updated += 1
    db.session.flush()
    return counts


# --- the staff templates ------------------------------------------------------------------

_CORE_TEXT = {
    "en": {
        "platform": "Loyalty platform",
        "footer": "This message was sent automatically by the loyalty platform.",
        "hello": "Hello {{ recipient_name }},",
        "invite_subject": "You are invited to the loyalty console"
        "{% if merchant_name %} of {{ merchant_name }}{% endif %}",
        "invite_heading": "You are invited",
        "invite_body": "{{ inviter_name }} has invited you to join the loyalty console"
        "{% if merchant_name %} of {{ merchant_name }}{% endif %}.",
        "invite_action": "Choose your password with the button below. The link works until "
        "{{ expiry_date }}.",
        "invite_button": "Accept the invitation",
        "invite_ignore": "If you were not expecting this invitation, you can ignore this email.",
        "reset_subject": "Reset your password",
        "reset_heading": "Reset your password",
        "reset_body": "We received a request to reset the password of your loyalty console "
        "account. Choose a new password with the button below.",
        "reset_button": "Choose a new password",
        "reset_valid": "The link expires in {{ valid_hours }} hours.",
        "reset_ignore": "If you did not ask for this, you can ignore this email: your password "
        "stays the same.",
    },
    "fr": {
        "platform": "Plateforme de fidélité",
        "footer": "Ce message a été envoyé automatiquement par la plateforme de fidélité.",
        "hello": "Bonjour {{ recipient_name }},",
        "invite_subject": "Invitation à la console de fidélité"
        "{% if merchant_name %} de {{ merchant_name }}{% endif %}",
        "invite_heading": "Une invitation pour vous",
        "invite_body": "{{ inviter_name }} vous invite à rejoindre la console de fidélité"
        "{% if merchant_name %} de {{ merchant_name }}{% endif %}.",
        "invite_action": "Choisissez votre mot de passe à l’aide du bouton ci-dessous. Le lien "
        "est valable jusqu’au {{ expiry_date }}.",
        "invite_button": "Accepter l’invitation",
        "invite_ignore": "Si vous n’attendiez pas cette invitation, vous pouvez ignorer cet "
        "e-mail.",
        "reset_subject": "Réinitialisation de votre mot de passe",
        "reset_heading": "Réinitialisez votre mot de passe",
        "reset_body": "Nous avons reçu une demande de réinitialisation du mot de passe de votre "
        "compte sur la console de fidélité. Choisissez un nouveau mot de passe à "
        "l’aide du bouton ci-dessous.",
        "reset_button": "Choisir un nouveau mot de passe",
        "reset_valid": "Ce lien expire dans {{ valid_hours }}\u00a0heures.",
        "reset_ignore": "Si vous n’êtes pas à l’origine de cette demande, ignorez cet "
        "e-mail\u00a0: votre mot de passe reste inchangé.",
    },
    "de": {
        "platform": "Treueplattform",
        "footer": "Diese Nachricht wurde automatisch von der Treueplattform versendet.",
        "hello": "Hallo {{ recipient_name }},",
        "invite_subject": "Ihre Einladung zur Treuekonsole"
        "{% if merchant_name %} von {{ merchant_name }}{% endif %}",
        "invite_heading": "Eine Einladung für Sie",
        "invite_body": "{{ inviter_name }} lädt Sie ein, der Treuekonsole"
        "{% if merchant_name %} von {{ merchant_name }}{% endif %} beizutreten.",
        "invite_action": "Wählen Sie über die Schaltfläche unten Ihr Passwort. Der Link ist bis "
        "zum {{ expiry_date }} gültig.",
        "invite_button": "Einladung annehmen",
        "invite_ignore": "Falls Sie diese Einladung nicht erwartet haben, können Sie diese "
        "E-Mail ignorieren.",
        "reset_subject": "Passwort zurücksetzen",
        "reset_heading": "Setzen Sie Ihr Passwort zurück",
        "reset_body": "Wir haben eine Anfrage erhalten, das Passwort Ihres Kontos für die "
        "Treuekonsole zurückzusetzen. Wählen Sie über die Schaltfläche unten ein "
        "neues Passwort.",
        "reset_button": "Neues Passwort wählen",
        "reset_valid": "Der Link ist {{ valid_hours }} Stunden gültig.",
        "reset_ignore": "Falls Sie das nicht angefordert haben, können Sie diese E-Mail "
        "ignorieren: Ihr Passwort bleibt unverändert.",
    },
    "lb": {
        "platform": "Fidelitéitsplattform",
        "footer": "Dës Noriicht gouf automatesch vun der Fidelitéitsplattform verschéckt.",
        "hello": "Moien {{ recipient_name }},",
        "invite_subject": "Är Invitatioun fir d’Fidelitéitskonsol"
        "{% if merchant_name %} – {{ merchant_name }}{% endif %}",
        "invite_heading": "Eng Invitatioun fir Iech",
        "invite_body": "{{ inviter_name }} invitéiert Iech, bei der Fidelitéitskonsol"
        "{% if merchant_name %} fir {{ merchant_name }}{% endif %} matzemaachen.",
        "invite_action": "Wielt iwwer de Knäppchen hei ënnendrënner Äert Passwuert. De Link ass "
        "gëlteg bis den {{ expiry_date }}.",
        "invite_button": "Invitatioun unhuelen",
        "invite_ignore": "Wann Dir dës Invitatioun net erwaart hutt, kënnt Dir dës Noriicht "
        "einfach ignoréieren.",
        "reset_subject": "Äert Passwuert zrécksetzen",
        "reset_heading": "Äert Passwuert zrécksetzen",
        "reset_body": "Mir hunn eng Ufro kritt, fir d’Passwuert vun Ärem Kont op der "
        "Fidelitéitskonsol zréckzesetzen. Wielt iwwer de Knäppchen hei "
        "ënnendrënner en neit Passwuert.",
        "reset_button": "Neit Passwuert wielen",
        "reset_valid": "De Link ass {{ valid_hours }} Stonne gëlteg.",
        "reset_ignore": "Wann Dir dat net ugefrot hutt, kënnt Dir dës Noriicht ignoréieren: "
        "Äert Passwuert bleift d’selwecht.",
    },
}


def core_templates() -> list[SeedTemplate]:
    templates = []
    for lang, t in _CORE_TEXT.items():
        header = (
            "{% if merchant_name %}{{ merchant_name }}{% else %}" + t["platform"] + "{% endif %}"
        )
        templates.append(
            SeedTemplate(
                "staff_invitation",
                lang,
                t["invite_subject"],
                layout(
                    lang=lang,
                    heading=t["invite_heading"],
                    footer=t["footer"],
                    header=header,
                    blocks=[
                        paragraph(t["hello"]),
                        paragraph(t["invite_body"]),
                        paragraph(t["invite_action"]),
                        button(t["invite_button"], "{{ invitation_url }}", PLATFORM_COLOR),
                        paragraph(t["invite_ignore"], small=True),
                    ],
                ),
            )
        )
        templates.append(
            SeedTemplate(
                "staff_password_reset",
                lang,
                t["reset_subject"],
                layout(
                    lang=lang,
                    heading=t["reset_heading"],
                    footer=t["footer"],
                    header=header,
                    blocks=[
                        paragraph(t["hello"]),
                        paragraph(t["reset_body"]),
                        button(t["reset_button"], "{{ reset_url }}", PLATFORM_COLOR),
                        paragraph(t["reset_valid"]),
                        paragraph(t["reset_ignore"], small=True),
                    ],
                ),
            )
        )
    return templates


def seed_email_templates_core() -> Iterable[str]:
    """Seed the staff templates (2 codes x 4 locales); yields one summary line."""
    counts = upsert_templates(core_templates())
    yield counts.line("core email templates")
