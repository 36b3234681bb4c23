"""Platform templates of the seven loyalty emails in en/fr/de/lb (28 rows).

The five lifecycle emails are service messages; the birthday and "we miss you" emails are
marketing: their footer carries a visible unsubscribe link (``{{ unsubscribe_url }}``).

Each email greets the customer, says what happened with the figures that matter, links to the
card page and, when Google Wallet is set up, offers the "add to wallet" button.
"""

from __future__ import annotations

from collections.abc import Iterable

from seeds.seed_email_templates_core import (
    SeedTemplate,
    button,
    layout,
    paragraph,
    upsert_templates,
)

_COLOR = "{{ brand_color }}"
_WALLET_COLOR = "#1f1f1f"
NBSP = "\u00a0"

#: Words every loyalty email of a language shares.
_COMMON = {
    "en": {
        "hello": "Hello {{ customer_first_name }},",
        "open_card": "Open my card",
        "wallet": "Add to Google Wallet",
        "card_number": "Card number: {{ card_number }}",
        "closing": "See you soon,<br>{{ merchant_name }}",
        "footer": "You receive this email because you are a member of {{ program_name }} at "
        "{{ merchant_name }}. Any questions? Simply reply to this email.",
    },
    "fr": {
        "hello": "Bonjour {{ customer_first_name }},",
        "open_card": "Voir ma carte",
        "wallet": "Ajouter à Google Wallet",
        "card_number": f"Numéro de carte{NBSP}: {{{{ card_number }}}}",
        "closing": "À très bientôt,<br>{{ merchant_name }}",
        "footer": "Vous recevez cet e-mail parce que vous êtes membre de {{ program_name }} chez "
        f"{{{{ merchant_name }}}}. Une question{NBSP}? Répondez simplement à cet "
        "e-mail.",
    },
    "de": {
        "hello": "Hallo {{ customer_first_name }},",
        "open_card": "Meine Karte öffnen",
        "wallet": "Zu Google Wallet hinzufügen",
        "card_number": "Kartennummer: {{ card_number }}",
        "closing": "Bis bald,<br>{{ merchant_name }}",
        "footer": "Sie erhalten diese E-Mail, weil Sie Mitglied bei {{ program_name }} von "
        "{{ merchant_name }} sind. Fragen? Antworten Sie einfach auf diese E-Mail.",
    },
    "lb": {
        "hello": "Moien {{ customer_first_name }},",
        "open_card": "Meng Kaart opmaachen",
        "wallet": "A Google Wallet späicheren",
        "card_number": "Kaartennummer: {{ card_number }}",
        "closing": "Bis geschwënn,<br>{{ merchant_name }}",
        "footer": "Dir kritt dës Noriicht, well Dir Member "
        "{{ 'vun'|n_rule(program_name) }} {{ program_name }} bei "
        "{{ merchant_name }} sidd. Froen? Äntwert einfach op dës Noriicht.",
    },
}

#: Per email and language: subject, heading and the paragraphs between greeting and button.
_EMAILS: dict[str, dict[str, dict[str, object]]] = {
    "loyalty_enrollment": {
        "en": {
            "subject": "Welcome to {{ program_name }}, {{ customer_first_name }}!",
            "heading": "Welcome, {{ customer_first_name }}!",
            "greet": False,
            "paragraphs": [
                "Thank you for joining {{ program_name }} at {{ store_name }}. From now on, "
                "every visit to {{ merchant_name }} counts.",
                "Your card number is <strong>{{ card_number }}</strong>. Show it at the till, "
                "or open your card on your phone.",
            ],
        },
        "fr": {
            "subject": "Bienvenue dans {{ program_name }}, "
            f"{{{{ customer_first_name }}}}{NBSP}!",
            "heading": f"Bienvenue, {{{{ customer_first_name }}}}{NBSP}!",
            "greet": False,
            "paragraphs": [
                "Merci d’avoir rejoint {{ program_name }} chez {{ store_name }}. Désormais, "
                "chacune de vos visites chez {{ merchant_name }} compte.",
                "Votre numéro de carte est <strong>{{ card_number }}</strong>. Présentez-le en "
                "caisse ou ouvrez votre carte sur votre téléphone.",
            ],
        },
        "de": {
            "subject": "Willkommen bei {{ program_name }}, {{ customer_first_name }}!",
            "heading": "Willkommen, {{ customer_first_name }}!",
            "greet": False,
            "paragraphs": [
                "Vielen Dank für Ihre Anmeldung bei {{ program_name }} in unserer Filiale "
                "{{ store_name }}. Ab sofort zählt jeder Besuch bei {{ merchant_name }}.",
                "Ihre Kartennummer lautet <strong>{{ card_number }}</strong>. Zeigen Sie sie "
                "einfach an der Kasse vor oder öffnen Sie Ihre Karte auf dem Handy.",
            ],
        },
        "lb": {
            "subject": "Wëllkomm bei {{ program_name }}, {{ customer_first_name }}!",
            "heading": "Wëllkomm, {{ customer_first_name }}!",
            "greet": False,
            "paragraphs": [
                "Merci, datt Dir Iech bei {{ program_name }} an eisem Geschäft "
                "{{ store_name }} ugemellt hutt. Vun elo un zielt all Besuch bei "
                "{{ merchant_name }}.",
                "Är Kaart ass elo aktiv. Är Kaartennummer ass "
                "<strong>{{ card_number }}</strong>: weist se einfach un der Keess vir oder "
                "maacht Är Kaart op Ärem Handy op.",
            ],
        },
    },
    "loyalty_welcome_bonus": {
        "en": {
            "subject": "{{ points }} welcome points are waiting for you",
            "heading": "A welcome gift for you",
            "paragraphs": [
                "To celebrate your first visit, we have credited "
                "<strong>{{ points }} points</strong> to your {{ program_name }} card.",
                "Your balance is now <strong>{{ points_balance }} points</strong>. Collect more "
                "with every purchase and exchange them for rewards at {{ merchant_name }}.",
            ],
        },
        "fr": {
            "subject": "{{ points }} points de bienvenue vous attendent",
            "heading": "Un cadeau de bienvenue pour vous",
            "paragraphs": [
                "Pour fêter votre arrivée, nous avons crédité "
                "<strong>{{ points }} points</strong> sur votre carte {{ program_name }}.",
                "Votre solde est désormais de <strong>{{ points_balance }} points</strong>. "
                "Cumulez-en davantage à chaque achat et échangez-les contre des récompenses "
                "chez {{ merchant_name }}.",
            ],
        },
        "de": {
            "subject": "{{ points }} Willkommenspunkte warten auf Sie",
            "heading": "Ein Willkommensgeschenk für Sie",
            "paragraphs": [
                "Zur Begrüßung haben wir Ihrer Karte für {{ program_name }} "
                "<strong>{{ points }} Punkte</strong> gutgeschrieben.",
                "Ihr Punktestand beträgt jetzt <strong>{{ points_balance }} Punkte</strong>. "
                "Sammeln Sie bei jedem Einkauf weiter und lösen Sie Ihre Punkte bei "
                "{{ merchant_name }} gegen Prämien ein.",
            ],
        },
        "lb": {
            "subject": "{{ points }} Wëllkommpunkten waarden op Iech",
            "heading": "E Wëllkommskaddo fir Iech",
            "paragraphs": [
                "Fir Iech wëllkomm ze heeschen, hu mir <strong>{{ points }} Punkten</strong> op "
                "Är Kaart fir {{ program_name }} gutgeschriwwen.",
                "Äre Punktestand ass elo <strong>{{ points_balance }} Punkten</strong>. Sammelt "
                "bei all Akaf weider Punkten a léist se bei {{ merchant_name }} géint "
                "Belounungen an.",
            ],
        },
    },
    "loyalty_points_expiring": {
        "en": {
            "subject": "{{ customer_first_name }}, your {{ points }} points expire on "
            "{{ expiry_date }}",
            "heading": "Your points expire soon",
            "paragraphs": [
                "<strong>{{ points }} points</strong> on your {{ program_name }} card will "
                "expire on <strong>{{ expiry_date }}</strong>.",
                "Make a purchase at {{ merchant_name }} before that date and your points stay "
                "on your card.",
            ],
        },
        "fr": {
            "subject": "{{ customer_first_name }}, vos {{ points }} points expirent le "
            "{{ expiry_date }}",
            "heading": "Vos points expirent bientôt",
            "paragraphs": [
                "<strong>{{ points }} points</strong> de votre carte {{ program_name }} "
                "expireront le <strong>{{ expiry_date }}</strong>.",
                f"Passez chez {{{{ merchant_name }}}} et effectuez un achat avant cette "
                f"date{NBSP}: vos points resteront sur votre carte.",
            ],
        },
        "de": {
            "subject": "{{ customer_first_name }}, Ihre {{ points }} Punkte verfallen am "
            "{{ expiry_date }}",
            "heading": "Ihre Punkte verfallen bald",
            "paragraphs": [
                "<strong>{{ points }} Punkte</strong> auf Ihrer Karte für {{ program_name }} "
                "verfallen am <strong>{{ expiry_date }}</strong>.",
                "Kaufen Sie vor diesem Datum bei {{ merchant_name }} ein, dann bleiben Ihre "
                "Punkte erhalten.",
            ],
        },
        "lb": {
            "subject": "{{ customer_first_name }}, Är {{ points }} Punkten verfalen den "
            "{{ expiry_date }}",
            "heading": "Är Punkten verfalen geschwënn",
            "paragraphs": [
                "<strong>{{ points }} Punkten</strong> op Ärer Kaart fir {{ program_name }} "
                "verfalen den <strong>{{ expiry_date }}</strong>.",
                "Kaaft virun deem Datum bei {{ merchant_name }} an, da bleiwen Är Punkten op "
                "der Kaart.",
            ],
        },
    },
    "loyalty_points_expired": {
        "en": {
            "subject": "Your {{ program_name }} points have expired",
            "heading": "Your points have expired",
            "paragraphs": [
                "Because your {{ program_name }} card has not been used for a while, "
                "<strong>{{ points }} points</strong> have expired. Your balance is now "
                "<strong>{{ points_balance }} points</strong>.",
                "Your card is still active: your next purchase at {{ merchant_name }} earns "
                "you points again.",
            ],
        },
        "fr": {
            "subject": "Vos points {{ program_name }} ont expiré",
            "heading": "Vos points ont expiré",
            "paragraphs": [
                "Votre carte {{ program_name }} n’ayant pas été utilisée depuis un certain "
                "temps, <strong>{{ points }} points</strong> ont expiré. Votre solde est "
                "désormais de <strong>{{ points_balance }} points</strong>.",
                f"Votre carte reste active{NBSP}: dès votre prochain achat chez "
                "{{ merchant_name }}, vous cumulez à nouveau des points.",
            ],
        },
        "de": {
            "subject": "Ihre Punkte bei {{ program_name }} sind verfallen",
            "heading": "Ihre Punkte sind verfallen",
            "paragraphs": [
                "Da Ihre Karte für {{ program_name }} längere Zeit nicht genutzt wurde, sind "
                "<strong>{{ points }} Punkte</strong> verfallen. Ihr Punktestand beträgt jetzt "
                "<strong>{{ points_balance }} Punkte</strong>.",
                "Ihre Karte bleibt aktiv: Mit Ihrem nächsten Einkauf bei {{ merchant_name }} "
                "sammeln Sie wieder Punkte.",
            ],
        },
        "lb": {
            "subject": "Är Punkten bei {{ program_name }} sinn verfall",
            "heading": "Är Punkten sinn verfall",
            "paragraphs": [
                "Well Är Kaart fir {{ program_name }} eng Zäit laang net benotzt gouf, sinn "
                "<strong>{{ points }} Punkten</strong> verfall. Äre Punktestand ass elo "
                "<strong>{{ points_balance }} Punkten</strong>.",
                "Är Kaart bleift aktiv: mat Ärem nächsten Akaf bei {{ merchant_name }} "
                "sammelt Dir nees Punkten.",
            ],
        },
    },
    "loyalty_reward_ready": {
        "en": {
            "subject": "Your reward is ready, {{ customer_first_name }}!",
            "heading": "Your reward is ready",
            "paragraphs": [
                "You have collected all <strong>{{ stamps_target }} stamps</strong> on your "
                "{{ program_name }} card.{% if stamps_reward %} Your reward: "
                "<strong>{{ stamps_reward }}</strong>.{% endif %}",
                "Just show your card on your next visit to {{ merchant_name }} to claim it.",
            ],
        },
        "fr": {
            "subject": f"Votre récompense vous attend, {{{{ customer_first_name }}}}{NBSP}!",
            "heading": "Votre récompense est prête",
            "paragraphs": [
                "Vous avez réuni les <strong>{{ stamps_target }} tampons</strong> de votre "
                "carte {{ program_name }}.{% if stamps_reward %} Votre récompense"
                f"{NBSP}: <strong>{{{{ stamps_reward }}}}</strong>.{{% endif %}}",
                "Présentez simplement votre carte lors de votre prochaine visite chez "
                "{{ merchant_name }} pour en profiter.",
            ],
        },
        "de": {
            "subject": "Ihre Prämie wartet auf Sie, {{ customer_first_name }}!",
            "heading": "Ihre Prämie ist bereit",
            "paragraphs": [
                "Sie haben alle <strong>{{ stamps_target }} Stempel</strong> auf Ihrer Karte "
                "für {{ program_name }} gesammelt.{% if stamps_reward %} Ihre Prämie: "
                "<strong>{{ stamps_reward }}</strong>.{% endif %}",
                "Zeigen Sie bei Ihrem nächsten Besuch bei {{ merchant_name }} einfach Ihre "
                "Karte vor, um sie einzulösen.",
            ],
        },
        "lb": {
            "subject": "Är Belounung waart op Iech, {{ customer_first_name }}!",
            "heading": "Är Belounung ass prett",
            "paragraphs": [
                "Dir hutt all <strong>{{ stamps_target }} Stempelen</strong> op Ärer Kaart fir "
                "{{ program_name }} gesammelt.{% if stamps_reward %} Är Belounung: "
                "<strong>{{ stamps_reward }}</strong>.{% endif %}",
                "Weist einfach bei Ärem nächste Besuch bei {{ merchant_name }} Är Kaart vir, "
                "fir se anzeléisen.",
            ],
        },
    },
}


_EMAILS["loyalty_birthday"] = {
    "en": {
        "subject": "Happy birthday, {{ customer_first_name }}!",
        "heading": "Happy birthday!",
        "paragraphs": [
            "Everyone at {{ merchant_name }} wishes you a wonderful day.",
            "{% if bonus_points %}To celebrate, we have added <strong>{{ bonus_points }} "
            "points</strong> to your {{ program_name }} card. Enjoy!{% endif %}",
            "We look forward to seeing you soon.",
        ],
    },
    "fr": {
        "subject": f"Joyeux anniversaire, {{{{ customer_first_name }}}}{NBSP}!",
        "heading": f"Joyeux anniversaire{NBSP}!",
        "paragraphs": [
            "Toute l’équipe de {{ merchant_name }} vous souhaite une très belle journée.",
            "{% if bonus_points %}Pour l’occasion, nous avons crédité <strong>"
            "{{ bonus_points }} points</strong> sur votre carte {{ program_name }}. "
            f"Profitez-en{NBSP}!{{% endif %}}",
            "Au plaisir de vous revoir très bientôt.",
        ],
    },
    "de": {
        "subject": "Alles Gute zum Geburtstag, {{ customer_first_name }}!",
        "heading": "Alles Gute zum Geburtstag!",
        "paragraphs": [
            "Das ganze Team von {{ merchant_name }} wünscht Ihnen einen wunderschönen Tag.",
            "{% if bonus_points %}Als kleines Geschenk haben wir Ihrer Karte für "
            "{{ program_name }} <strong>{{ bonus_points }} Punkte</strong> "
            "gutgeschrieben.{% endif %}",
            "Wir freuen uns auf Ihren nächsten Besuch.",
        ],
    },
    "lb": {
        "subject": "Alles Guddes fir Äre Gebuertsdag, {{ customer_first_name }}!",
        "heading": "Alles Guddes zum Gebuertsdag!",
        "paragraphs": [
            "Haut ass Ären Dag: d’ganzt Team vu {{ merchant_name }} wënscht Iech alles Guddes!",
            "{% if bonus_points %}Als klenge Kaddo hu mir <strong>{{ bonus_points }} "
            "Punkten</strong> op Är Kaart fir {{ program_name }} gutgeschriwwen.{% endif %}",
            "Mir freeën eis, Iech geschwënn erëm ze gesinn.",
        ],
    },
}
_EMAILS["loyalty_we_miss_you"] = {
    "en": {
        "subject": "{{ customer_first_name }}, we miss you!",
        "heading": "We miss you",
        "paragraphs": [
            "Your last visit to {{ merchant_name }} was on {{ last_visit }}.",
            "Your {{ program_name }} card is waiting for you, with "
            "<strong>{{ points_balance }} points</strong> on it. Drop by soon: we would love "
            "to see you again!",
        ],
    },
    "fr": {
        "subject": f"{{{{ customer_first_name }}}}, vous nous manquez{NBSP}!",
        "heading": "Vous nous manquez",
        "paragraphs": [
            "Votre dernière visite chez {{ merchant_name }} remonte au {{ last_visit }}.",
            "Votre carte {{ program_name }} vous attend, avec "
            "<strong>{{ points_balance }} points</strong>. Passez nous voir, nous serons "
            f"ravis de vous retrouver{NBSP}!",
        ],
    },
    "de": {
        "subject": "{{ customer_first_name }}, wir vermissen Sie!",
        "heading": "Wir vermissen Sie",
        "paragraphs": [
            "Ihr letzter Besuch bei {{ merchant_name }} war am {{ last_visit }}.",
            "Ihre Karte für {{ program_name }} wartet auf Sie, mit "
            "<strong>{{ points_balance }} Punkten</strong>. Schauen Sie doch wieder vorbei, "
            "wir freuen uns auf Sie!",
        ],
    },
    "lb": {
        "subject": "{{ customer_first_name }}, mir vermëssen Iech!",
        "heading": "Mir vermëssen Iech",
        "paragraphs": [
            "Mir hunn Iech zanter dem {{ last_visit }} net méi bei {{ merchant_name }} gesinn.",
            "Är Kaart fir {{ program_name }} waart op Iech, mat "
            "<strong>{{ points_balance }} Punkten</strong> drop. Kommt laanscht, mir freeën "
            "eis op Iech!",
        ],
    },
}

#: The visible unsubscribe line of the marketing emails (also in their text part).
_UNSUBSCRIBE = {
    "en": "Don’t want our news and offers by email any more? {link}",
    "fr": f"Vous ne souhaitez plus recevoir nos nouveautés et offres par e-mail{NBSP}? {{link}}",
    "de": "Sie möchten keine Neuigkeiten und Angebote mehr per E-Mail erhalten? {link}",
    "lb": "Dir wëllt keng Neiegkeeten an Offere méi per E-Mail vun eis kréien? {link}",
}
_UNSUBSCRIBE_LINK = {
    "en": "Unsubscribe",
    "fr": "Se désinscrire",
    "de": "Hier abmelden",
    "lb": "Hei ofmellen",
}
MARKETING = ("loyalty_birthday", "loyalty_we_miss_you")


def _unsubscribe_line(lang: str) -> str:
    link = (
        '<a href="{{ unsubscribe_url }}" style="color:#52606d;text-decoration:underline;">'
        f"{_UNSUBSCRIBE_LINK[lang]}</a>"
    )
    return _UNSUBSCRIBE[lang].format(link=link)


def _wallet_block(label: str) -> str:
    return "{% if wallet_url %}" + button(label, "{{ wallet_url }}", _WALLET_COLOR) + "{% endif %}"


def loyalty_templates() -> list[SeedTemplate]:
    templates = []
    for code, by_lang in _EMAILS.items():
        for lang, email in by_lang.items():
            common = _COMMON[lang]
            blocks = [] if email.get("greet") is False else [paragraph(common["hello"])]
            blocks += [paragraph(str(p)) for p in email["paragraphs"]]  # type: ignore[attr-defined]
            blocks += [
                button(common["open_card"], "{{ card_url }}", _COLOR),
                _wallet_block(common["wallet"]),
                paragraph(common["closing"]),
                paragraph(common["card_number"], small=True),
            ]
            templates.append(
                SeedTemplate(
                    code,
                    lang,
                    str(email["subject"]),
                    layout(
                        lang=lang,
                        heading=str(email["heading"]),
                        blocks=blocks,
                        footer=common["footer"]
                        + (f"<br><br>{_unsubscribe_line(lang)}" if code in MARKETING else ""),
                        color_expr=_COLOR,
                    ),
                )
            )
    return templates


def seed_email_templates_loyalty() -> Iterable[str]:
    """Seed the seven loyalty templates in four locales; yields one summary line."""
    counts = upsert_templates(loyalty_templates())
    yield counts.line("loyalty email templates")
