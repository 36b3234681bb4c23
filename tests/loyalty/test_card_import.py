"""CSV import from a legacy system: encodings, separators, bad rows, a second run, the console."""

from __future__ import annotations

import html
import io
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select

from loyalty.models import LoyaltyCard, LoyaltyTransaction, TransactionType
from loyalty.services.card_import import ImportFileError, import_file, read_import_file
from loyalty.services.verify import verify_ledger
from platform_core import db as dbmod
from platform_core.audit.models import AuditLog
from platform_core.customers.models import ConsentRecord, ConsentSource, Customer
from tests.loyalty.console_world import World, build_world

GERMAN_CP1252 = (
    "E-Mail;Vorname;Nachname;Punkte;Geburtsdatum;Sprache;Newsletter\n"
    "ines@example.lu;Inês;Martins;1.250;31.05.1990;fr;ja\n"
    "bad-email;Jo;Weber;10;;de;nein\n"
    "marc@example.lu;Marc;Schmit;abc;;lb;\n"
    "lea@example.lu;Léa;Muller;300;1985-02-30;fr;oui\n"
    "anna.klein@example.lu;Anna;Klein;57;;Lëtzebuergesch;jo\n"
).encode("cp1252")

ENGLISH_UTF8 = (
    "\ufeffemail,first_name,last_name,points,stamps,marketing_consent\n"
    "zoe@example.lu,Zoë,Reuter,120,2,yes\n"
    '"paul@example.lu","Paul, Jr.",Wagner,0,0,no\n'
).encode()


@pytest.fixture
def world(dummy_merchant, dummy_store, create_store, create_merchant, create_staff_user) -> World:
    return build_world(
        dummy_merchant,
        dummy_store,
        {"store": create_store, "merchant": create_merchant, "staff": create_staff_user},
    )


def _count(session: Any, model: Any, **where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_windows_1252_with_semicolons_and_german_headers(session: Any) -> None:
    parsed = read_import_file(GERMAN_CP1252)
    assert parsed.encoding == "Windows-1252"
    assert parsed.delimiter == ";"
    assert parsed.columns["email"] == "E-Mail"
    assert [r.email for r in parsed.rows] == ["ines@example.lu", "anna.klein@example.lu"]
    ines = parsed.rows[0]
    assert (ines.first_name, ines.points, ines.locale, ines.marketing_consent) == (
        "Inês",
        1250,
        "fr",
        True,
    )
    assert parsed.rows[1].locale == "lb"
    assert [(p.line, p.column) for p in parsed.problems] == [
        (3, "E-Mail"),
        (4, "Punkte"),
        (5, "Geburtsdatum"),
    ]


def test_utf8_with_bom_commas_and_quotes(session: Any) -> None:
    parsed = read_import_file(ENGLISH_UTF8)
    assert (parsed.encoding, parsed.delimiter) == ("UTF-8", ",")
    assert [(r.first_name, r.points, r.stamps, r.marketing_consent) for r in parsed.rows] == [
        ("Zoë", 120, 2, True),
        ("Paul, Jr.", 0, 0, False),
    ]
    assert parsed.problems == []


def test_reasons_are_localized(session: Any) -> None:
    with force_locale("de"):
        parsed = read_import_file(GERMAN_CP1252)
    assert "ist keine E-Mail-Adresse" in parsed.problems[0].message
    with force_locale("lb"), pytest.raises(ImportFileError, match="Kolonn"):
        read_import_file(b"name;points\nx;1\n")


def test_a_file_without_the_required_columns_is_refused(session: Any) -> None:
    with pytest.raises(ImportFileError, match="first_name"):
        read_import_file(b"email;points\na@b.lu;1\n")
    with pytest.raises(ImportFileError):
        read_import_file(b"")


def test_duplicates_in_the_file_are_reported_with_both_lines(session: Any) -> None:
    parsed = read_import_file(b"email;first_name;last_name\na@b.lu;A;B\nA@B.lu;A;B\n")
    assert len(parsed.rows) == 1
    (problem,) = parsed.problems
    assert problem.line == 3
    assert "line 2" in problem.message


def test_good_rows_import_and_a_second_import_changes_nothing(session: Any, world: World) -> None:
    before = {m: _count(session, m) for m in (Customer, LoyaltyCard, LoyaltyTransaction)}
    parsed = read_import_file(GERMAN_CP1252)
    report = import_file(world.merchant, parsed, store=world.second_store)
    dbmod.commit()
    assert (report.created, report.existing, len(report.problems)) == (2, 0, 3)
    assert report.opening_points == 1307

    card = session.scalar(
        select(LoyaltyCard).join(Customer).where(Customer.email == "ines@example.lu")
    )
    assert (card.points_balance, card.total_points_earned) == (1250, 1250)
    assert card.enrolled_at_store_id == world.second_store.id
    assert card.customer.first_name == "Inês"
    assert card.customer.marketing_consent is True
    (row,) = session.scalars(select(LoyaltyTransaction).filter_by(card_id=card.id)).all()
    assert (row.type, row.points_delta, row.points_balance_after) == (
        TransactionType.OPENING_BALANCE,
        1250,
        1250,
    )
    (consent,) = session.scalars(
        select(ConsentRecord).filter_by(customer_id=card.customer_id)
    ).all()
    assert (consent.source, consent.granted, consent.locale) == (ConsentSource.IMPORT, True, "fr")
    assert verify_ledger(world.merchant.id).ok

    after = {m: _count(session, m) for m in before}
    assert after[LoyaltyCard] == before[LoyaltyCard] + 2
    again = import_file(world.merchant, read_import_file(GERMAN_CP1252))
    dbmod.commit()
    assert (again.created, again.existing) == (0, 2)
    assert {m: _count(session, m) for m in before} == after
    assert _count(session, ConsentRecord, source=ConsentSource.IMPORT) == 2


def test_a_dry_run_changes_nothing(session: Any, world: World) -> None:
    before = _count(session, LoyaltyCard)
    report = import_file(world.merchant, read_import_file(ENGLISH_UTF8), dry_run=True)
    dbmod.commit()
    assert report.created == 2
    assert _count(session, LoyaltyCard) == before


def test_an_existing_customer_of_another_merchant_is_another_customer(
    session: Any, world: World
) -> None:
    other_email = world.other_card.customer.email
    data = f"email;first_name;last_name;points\n{other_email};Same;Person;10\n".encode()
    report = import_file(world.merchant, read_import_file(data))
    dbmod.commit()
    assert report.created == 1
    assert world.other_card.points_balance != 10 or world.other_card.customer.first_name != "Same"
    assert _count(session, Customer, email=other_email) == 2


def test_stores_and_card_numbers_from_the_file(session: Any, world: World) -> None:
    taken = world.card.card_number
    data = (
        "email;first_name;last_name;store;card_number\n"
        f"x1@example.lu;X;One;{world.second_store.slug};\n"
        f"x2@example.lu;X;Two;{world.other_store.slug};\n"
        f"x3@example.lu;X;Three;;{taken}\n"
        "x4@example.lu;X;Four;;1234\n"
    ).encode()
    report = import_file(world.merchant, read_import_file(data))
    assert report.created == 1
    assert [p.line for p in report.problems] == [3, 4, 5]


def _upload(client: Any, store_id: int, data: bytes, name: str = "legacy.csv") -> Any:
    return client.post(
        "/admin/card-import/preview",
        data={"store_id": str(store_id), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_console_preview_then_import(
    client: Any, login_as: Any, merchant_admin: Any, world: World, session: Any
) -> None:
    login_as(merchant_admin)
    preview = _upload(client, world.store.id, GERMAN_CP1252)
    assert preview.status_code == 200
    page = html.unescape(preview.get_data(as_text=True))
    assert "ines@example.lu" in page
    assert "“abc”" in page
    before = _count(session, LoyaltyCard)
    assert _count(session, LoyaltyCard) == before  # the preview wrote nothing

    import re

    fields = dict(
        re.findall(r'name="(store_id|content|filename)" type="hidden" value="([^"]*)"', page)
    )
    if not fields:
        fields = dict(
            (m[1], m[0])
            for m in re.findall(r'value="([^"]*)"[^>]*name="(store_id|content|filename)"', page)
        )
    assert set(fields) >= {"store_id", "content"}
    done = client.post("/admin/card-import/run", data=fields)
    assert done.status_code == 200
    result = html.unescape(done.get_data(as_text=True))
    assert "2 cards imported." in result
    assert "Line" in result
    assert "“1985-02-30”" in result
    assert _count(session, LoyaltyCard) == before + 2
    audit = session.scalars(select(AuditLog).filter_by(action="import")).one()
    assert audit.merchant_id == world.merchant.id
    assert audit.changes["created"] == [None, 2]


def test_console_is_scoped(
    client: Any, login_as: Any, merchant_admin: Any, store_staff: Any, world: World, session: Any
) -> None:
    login_as(merchant_admin)
    assert _upload(client, world.other_store.id, ENGLISH_UTF8).status_code in (400, 404)
    import base64

    forged = client.post(
        "/admin/card-import/run",
        data={
            "store_id": str(world.other_store.id),
            "content": base64.b64encode(ENGLISH_UTF8).decode(),
        },
    )
    assert forged.status_code == 404
    assert _count(session, Customer, email="zoe@example.lu") == 0
    login_as(store_staff)
    assert client.get("/admin/card-import/").status_code == 403


def test_console_checks_csrf_and_takes_files_over_one_megabyte(
    app: Flask,
    client: Any,
    login_as: Any,
    merchant_admin: Any,
    world: World,
    session: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login_as(merchant_admin)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    # Without a token: refused, nothing imported.
    refused = _upload(client, world.store.id, ENGLISH_UTF8)
    assert refused.status_code == 400
    page = client.get("/admin/card-import/").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    rows = "".join(f"big{i}@example.lu;Big;Number{i};{i}\n" for i in range(40_000))
    big = ("email;first_name;last_name;points\n" + rows).encode()
    assert len(big) > 1024 * 1024
    response = client.post(
        "/admin/card-import/preview",
        data={
            "store_id": str(world.store.id),
            "csrf_token": token,
            "file": (io.BytesIO(big), "big.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "40,000 cards will be created" in response.get_data(as_text=True) or (
        "40000 cards will be created" in response.get_data(as_text=True)
    )


def test_cli_dry_run_then_import(runner: Any, world: World, session: Any, tmp_path: Any) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes(GERMAN_CP1252)
    slug = world.merchant.slug
    dry = runner.invoke(
        args=["loyalty", "import-cards", str(path), "--merchant", slug, "--dry-run"]
    )
    assert "2 cards would be imported" in dry.output
    assert "line 4 [Punkte]" in dry.output
    assert _count(session, Customer, email="ines@example.lu") == 0
    real = runner.invoke(args=["loyalty", "import-cards", str(path), "--merchant", slug])
    assert "2 cards imported" in real.output
    assert real.exit_code == 1  # some rows were refused
    assert _count(session, Customer, email="ines@example.lu") == 1
    wrong = runner.invoke(args=["loyalty", "import-cards", str(path), "--merchant", "nope"])
    assert wrong.exit_code != 0


def test_points_for_a_stamps_program_are_refused_per_row(
    session: Any, stamps_merchant: Any, stamps_store: Any, stamps_program: Any
) -> None:
    data = b"email;first_name;last_name;points;stamps\na@b.lu;A;B;10;0\nc@d.lu;C;D;;3\n"
    report = import_file(stamps_merchant, read_import_file(data))
    assert report.created == 1
    assert [p.line for p in report.problems] == [2]
    assert "no points" in report.problems[0].message
