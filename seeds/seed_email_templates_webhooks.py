"""The platform email telling a merchant that a webhook endpoint was disabled (en/fr/de/lb)."""

from __future__ import annotations

from collections.abc import Iterable

from seeds.seed_email_templates_core import SeedTemplate, layout, paragraph, upsert_templates

_TEXT = {
    "en": {
        "subject": "Webhook endpoint disabled: {{ endpoint_url }}",
        "heading": "A webhook endpoint was disabled",
        "hello": "Hello,",
        "body": "For 24 hours, every delivery to {{ endpoint_url }} failed. We disabled the "
        "endpoint on {{ disabled_at }} and keep its undelivered events.",
        "action": "Once your server answers again, enable the endpoint under Integrations → "
        "Webhooks in the loyalty console: the waiting events are then sent, in order.",
        "footer": "This message was sent automatically by the loyalty platform.",
    },
    "fr": {
        "subject": "Point de terminaison webhook désactivé : {{ endpoint_url }}",
        "heading": "Un point de terminaison webhook a été désactivé",
        "hello": "Bonjour,",
        "body": "Pendant 24 heures, chaque envoi vers {{ endpoint_url }} a échoué. Nous avons "
        "désactivé ce point de terminaison le {{ disabled_at }} et conservons ses événements "
        "non remis.",
        "action": "Dès que votre serveur répond à nouveau, réactivez-le sous Intégrations → "
        "Webhooks dans la console de fidélité : les événements en attente partiront alors, "
        "dans l'ordre.",
        "footer": "Ce message a été envoyé automatiquement par la plateforme de fidélité.",
    },
    "de": {
        "subject": "Webhook-Endpunkt deaktiviert: {{ endpoint_url }}",
        "heading": "Ein Webhook-Endpunkt wurde deaktiviert",
        "hello": "Guten Tag,",
        "body": "24 Stunden lang ist jede Zustellung an {{ endpoint_url }} fehlgeschlagen. Wir "
        "haben den Endpunkt am {{ disabled_at }} deaktiviert und bewahren seine nicht "
        "zugestellten Ereignisse auf.",
        "action": "Sobald Ihr Server wieder antwortet, aktivieren Sie den Endpunkt unter "
        "Integrationen → Webhooks in der Treue-Konsole: Die wartenden Ereignisse werden dann "
        "der Reihe nach gesendet.",
        "footer": "Diese Nachricht wurde automatisch von der Treueplattform versendet.",
    },
    "lb": {
        "subject": "Webhook-Endpunkt desaktivéiert: {{ endpoint_url }}",
        "heading": "E Webhook-Endpunkt gouf desaktivéiert",
        "hello": "Moien,",
        "body": "24 Stonne laang ass all Zoustellung un {{ endpoint_url }} feelgeschloen. Mir "
        "hunn den Endpunkt den {{ disabled_at }} desaktivéiert a behale seng net "
        "zougestallten Evenementer.",
        "action": "Soubal Äre Server erëm äntwert, aktivéiert den Endpunkt ënner "
        "Integratiounen → Webhooks an der Treiekonsol: Déi waardend Evenementer ginn dann an "
        "der Rei verschéckt.",
        "footer": "Dëse Message gouf automatesch vun der Treieplattform verschéckt.",
    },
}


def webhook_templates() -> list[SeedTemplate]:
    return [
        SeedTemplate(
            "webhook_endpoint_disabled",
            lang,
            t["subject"],
            layout(
                lang=lang,
                heading=t["heading"],
                footer=t["footer"],
                blocks=[paragraph(t["hello"]), paragraph(t["body"]), paragraph(t["action"])],
            ),
        )
        for lang, t in _TEXT.items()
    ]


def seed_email_templates_webhooks() -> Iterable[str]:
    """Seed the webhook template (1 code x 4 locales); yields one summary line."""
    counts = upsert_templates(webhook_templates())
    yield counts.line("webhook email templates")
