"""Import customers and cards with opening balances from a legacy system's CSV file.

Reading and checking (:func:`read_import_file`) is separate from writing
(:func:`import_chunk`), so the console can show a preview and the command line a dry run
with exactly the problems a real run would report. The file is read whole: it is at most
``IMPORT_MAX_BYTES``, and its lines are needed for the report.

Columns are found by their header, in any of the four languages (``email``, ``E-Mail``,
``courriel``; ``points``, ``Punkte``, ``solde``; ...). A bad row is reported with its line
number and a localized reason, and the other rows still import. An email that already has a
card at the merchant is left as it is, so importing the same file again changes nothing.

Each chunk is a few statements: the look-ups of existing customers and card numbers, one
multi-row insert each for customers, cards, opening-balance ledger rows and consent rows.
No email is sent and no webhook is emitted: the customers did not just join, they moved.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from flask_babel import format_decimal
from sqlalchemy import Table, insert, select, text

from loyalty.bounds import Bound
from loyalty.models import LoyaltyCard, LoyaltyProgram, LoyaltyTransaction, TransactionType
from loyalty.services.cards import is_valid_card_number, normalize_card_number, random_card_number
from loyalty.services.enrollment import SUPPORTED_LOCALES
from platform_core.customers.consent import record_consent, wording_hash
from platform_core.customers.models import ConsentPurpose, ConsentRecord, ConsentSource, Customer
from platform_core.extensions import db
from platform_core.i18n_lazy import _, _l
from platform_core.models_base import utcnow
from platform_core.tenancy.models import Merchant, Store

# Core tables: the ORM's bulk insert costs more than the statements themselves here.
_customers = cast(Table, Customer.__table__)
_cards = cast(Table, LoyaltyCard.__table__)
_ledger = cast(Table, LoyaltyTransaction.__table__)
_consents = cast(Table, ConsentRecord.__table__)

#: Rows per chunk: one transaction, a handful of statements.
CHUNK_SIZE = 500
#: The opening balance a file may give one card.
OPENING_POINTS = Bound(0, 10_000_000)
OPENING_STAMPS = Bound(0, 1_000)
#: Idempotency key of the opening-balance row: one per card.
OPENING_KEY = "opening-balance"

#: Accepted headers per field, compared without case, accents, spaces, dashes and underscores.
HEADERS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "mail", "courriel", "adresse e-mail", "email address"),
    "first_name": ("first name", "firstname", "given name", "prénom", "vorname", "virnumm"),
    "last_name": ("last name", "lastname", "surname", "family name", "nom", "nachname", "numm"),
    "phone": ("phone", "telephone", "téléphone", "mobile", "telefon", "handy", "gsm"),
    "birthday": (
        "birthday",
        "birth date",
        "date of birth",
        "date de naissance",
        "geburtsdatum",
        "gebuertsdag",
    ),
    "locale": ("locale", "language", "langue", "sprache", "sprooch"),
    "points": ("points", "balance", "points balance", "solde", "punkte", "punkten"),
    "stamps": ("stamps", "timbres", "tampons", "stempel", "stempelen"),
    "marketing_consent": (
        "marketing consent",
        "marketing",
        "newsletter",
        "opt in",
        "consentement marketing",
        "werbeeinwilligung",
        "marketing averständnis",
    ),
    "card_number": ("card number", "card", "numéro de carte", "carte", "kartennummer", "kaart"),
    "store": ("store", "shop", "magasin", "filiale", "geschäft", "buttek"),
}
REQUIRED = ("email", "first_name", "last_name")

_YES = {"1", "y", "yes", "true", "x", "oui", "o", "vrai", "ja", "j", "wahr", "jo"}
_NO = {"0", "n", "no", "false", "non", "faux", "nein", "falsch", "nee", "neen", ""}
_LOCALE_NAMES = {
    "english": "en", "anglais": "en", "englisch": "en",
    "francais": "fr", "french": "fr", "franzosisch": "fr", "franseisch": "fr",
    "deutsch": "de", "german": "de", "allemand": "de", "daitsch": "de",
    "letzebuergesch": "lb", "luxembourgish": "lb", "luxembourgeois": "lb",
    "luxemburgisch": "lb",
}  # fmt: skip
#: 1990-05-31, and 31.05.1990, 31/05/1990 or 31-05-1990.
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_LOCAL_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, no email column, too large)."""


@dataclass(frozen=True)
class RowProblem:
    #: The line in the file (the header is line 1).
    line: int
    message: str
    #: The column at fault, as the file names it.
    column: str | None = None


@dataclass(frozen=True)
class ImportRow:
    line: int
    email: str
    first_name: str
    last_name: str
    phone: str | None
    birthday: date | None
    locale: str | None
    points: int
    stamps: int
    #: ``None`` when the file says nothing about it.
    marketing_consent: bool | None
    card_number: str | None
    store_slug: str | None


@dataclass
class ParsedFile:
    encoding: str
    delimiter: str
    #: field → the header it was read from.
    columns: dict[str, str]
    #: Headers we do not know, ignored.
    ignored: list[str]
    rows: list[ImportRow]
    problems: list[RowProblem]


@dataclass
class ImportReport:
    created: int = 0
    #: Rows whose email already had a card at the merchant: left unchanged.
    existing: int = 0
    opening_points: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        self.created += other.created
        self.existing += other.existing
        self.opening_points += other.opening_points
        self.problems.extend(other.problems)


def _key(header: str) -> str:
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[\s_\-.]+", "", plain)


_BY_KEY = {_key(alias): name for name, aliases in HEADERS.items() for alias in aliases}
for _name in HEADERS:
    _BY_KEY.setdefault(_key(_name), _name)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the ANSI code page, cp1252 in Western Europe.
        return data.decode("cp1252", errors="replace"), "Windows-1252"


def _delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def read_import_file(data: bytes, *, max_rows: int | None = None) -> ParsedFile:
    """Decode, split and check a CSV file; nothing is written.

    :param data: the file's bytes (UTF-8 with or without BOM, or Windows-1252).
    :param max_rows: refuse files with more data rows than this.
    :raises ImportFileError: no header, or no email / name column.
    """
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ImportFileError(_("The file is empty or has no header line."))
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = next(reader)
    columns: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored = []
    for index, header in enumerate(headers):
        name = _BY_KEY.get(_key(header))
        if name is None or name in columns:
            if header.strip():
                ignored.append(header.strip())
            continue
        columns[name] = index
        names[name] = header.strip()
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ImportFileError(
            _(
                "The file has no column for: %(columns)s. The first line must name the "
                "columns, for example: email;first_name;last_name;points.",
                columns=", ".join(missing),
            )
        )
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if max_rows is not None and len(rows) + len(problems) >= max_rows:
            raise ImportFileError(
                _("The file has more than %(count)s rows. Please split it.", count=max_rows)
            )
        row, row_problems = _read_row(line, values, columns, names)
        if row is not None and row.email in seen:
            row_problems.append(
                RowProblem(
                    line,
                    _("This email is already on line %(line)s.", line=seen[row.email]),
                    names["email"],
                )
            )
        if row is not None and row.card_number and row.card_number in seen_numbers:
            row_problems.append(
                RowProblem(
                    line,
                    _(
                        "This card number is already on line %(line)s.",
                        line=seen_numbers[row.card_number],
                    ),
                    names.get("card_number"),
                )
            )
        if row_problems or row is None:
            problems.extend(row_problems)
            continue
        seen[row.email] = line
        if row.card_number:
            seen_numbers[row.card_number] = line
        rows.append(row)
    return ParsedFile(
        encoding=encoding,
        delimiter=delimiter,
        columns=names,
        ignored=ignored,
        rows=rows,
        problems=problems,
    )


def _read_row(
    line: int, values: Sequence[str], columns: dict[str, int], names: dict[str, str]
) -> tuple[ImportRow | None, list[RowProblem]]:
    problems: list[RowProblem] = []

    def cell(name: str) -> str:
        index = columns.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    def problem(name: str, message: str) -> None:
        problems.append(RowProblem(line, message, names.get(name)))

    email = cell("email").lower()
    if not _EMAIL.match(email) or len(email) > 254:
        problem("email", _("“%(value)s” is not an email address.", value=cell("email")))
    first, last = cell("first_name"), cell("last_name")
    for name, value in (("first_name", first), ("last_name", last)):
        if not value:
            problem(name, _("The name is missing."))
        elif len(value) > 100:
            problem(name, _("The name is longer than 100 characters."))
    phone = cell("phone") or None
    if phone is not None and len(phone) > 40:
        problem("phone", _("The phone number is longer than 40 characters."))
    try:
        birthday = _date(cell("birthday"))
    except ValueError:
        birthday = None
        problem(
            "birthday",
            _(
                "“%(value)s” is not a date: write it as 1990-05-31 or 31.05.1990.",
                value=cell("birthday"),
            ),
        )
    try:
        locale = _locale(cell("locale"))
    except ValueError:
        locale = None
        problem(
            "locale",
            _("“%(value)s” is not a language: use en, fr, de or lb.", value=cell("locale")),
        )
    points = _count(cell("points"), OPENING_POINTS)
    if points is None:
        problem(
            "points",
            _(
                "“%(value)s” is not a number of points from %(min)s to %(max)s.",
                value=cell("points"),
                min=format_decimal(OPENING_POINTS.minimum),
                max=format_decimal(OPENING_POINTS.maximum),
            ),
        )
    stamps = _count(cell("stamps"), OPENING_STAMPS)
    if stamps is None:
        problem(
            "stamps",
            _(
                "“%(value)s” is not a number of stamps from %(min)s to %(max)s.",
                value=cell("stamps"),
                min=format_decimal(OPENING_STAMPS.minimum),
                max=format_decimal(OPENING_STAMPS.maximum),
            ),
        )
    consent_text = cell("marketing_consent")
    consent = _yes_no(consent_text) if "marketing_consent" in columns else None
    if consent_text and consent is None:
        problem(
            "marketing_consent",
            _("“%(value)s” is neither yes nor no.", value=consent_text),
        )
    number = normalize_card_number(cell("card_number")) or None
    if number is not None and not is_valid_card_number(number):
        problem(
            "card_number",
            _("“%(value)s” is not a card number of this platform.", value=cell("card_number")),
        )
    if problems:
        return None, problems
    assert points is not None
    assert stamps is not None
    return (
        ImportRow(
            line=line,
            email=email,
            first_name=first,
            last_name=last,
            phone=phone,
            birthday=birthday,
            locale=locale,
            points=points,
            stamps=stamps,
            marketing_consent=consent,
            card_number=number,
            store_slug=cell("store") or None,
        ),
        [],
    )


def _date(value: str) -> date | None:
    """The date, or ``None`` when empty; :class:`ValueError` when unreadable or in the future."""
    if not value:
        return None
    # Regular expressions rather than strptime: a 100,000-row file spends a third of its
    # reading time in strptime otherwise.
    iso = _ISO_DATE.fullmatch(value)
    local = None if iso else _LOCAL_DATE.fullmatch(value)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif local:
        day, month, year = (int(part) for part in local.groups())
    else:
        raise ValueError(value)
    parsed = date(year, month, day)  # ValueError for 30 February
    if not date(1900, 1, 1) <= parsed <= date.today():
        raise ValueError(value)
    return parsed


def _locale(value: str) -> str | None:
    """en, fr, de or lb (codes like ``fr-LU`` and language names too), ``None`` when empty."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    if code in SUPPORTED_LOCALES:
        return code
    if _key(value) in _LOCALE_NAMES:
        return _LOCALE_NAMES[_key(value)]
    raise ValueError(value)


def _count(value: str, bound: Bound) -> int | None:
    """An integer within ``bound`` (empty: 0), thousands separators allowed; else ``None``."""
    digits = re.sub(r"[\s\u00a0\u202f']", "", value)
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", digits):
        digits = re.sub(r"[.,]", "", digits)
    if not digits:
        return 0
    if not digits.isdigit():
        return None
    number = int(digits)
    return number if bound.minimum <= number <= bound.maximum else None


def _yes_no(value: str) -> bool | None:
    plain = _key(value)
    if plain in _YES:
        return True
    if plain in _NO:
        return False
    return None


def chunks(rows: Sequence[ImportRow], size: int = CHUNK_SIZE) -> Iterator[Sequence[ImportRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


#: What the consent rows of an import are recorded as having shown: the file's column.
IMPORT_WORDING = "import:marketing_consent column of a legacy system's file"

_NOT_A_STORE = _l("The merchant has no store “%(value)s”.")


def import_chunk(
    merchant: Merchant,
    program: LoyaltyProgram,
    rows: Sequence[ImportRow],
    *,
    default_store: Store,
    stores: dict[str, Store],
    dry_run: bool = False,
) -> ImportReport:
    """Write one chunk of checked rows (or, with ``dry_run``, only report what it would do).

    Rows whose email already has a card at the merchant are counted as ``existing`` and
    left alone. The caller commits after each chunk.

    :param stores: the merchant's stores by slug, for the file's ``store`` column.
    """
    report = ImportReport()
    emails = [row.email for row in rows]
    known = dict(
        db.session.execute(
            select(Customer.email, Customer.id).where(
                Customer.merchant_id == merchant.id, Customer.email.in_(emails)
            )
        ).all()
    )
    carded = set(
        db.session.scalars(
            select(Customer.email)
            .join(LoyaltyCard, LoyaltyCard.customer_id == Customer.id)
            .where(Customer.merchant_id == merchant.id, Customer.email.in_(emails))
        )
    )
    wanted_numbers = [row.card_number for row in rows if row.card_number]
    taken = set(
        db.session.scalars(
            select(LoyaltyCard.card_number).where(LoyaltyCard.card_number.in_(wanted_numbers))
        )
        if wanted_numbers
        else ()
    )
    todo: list[tuple[ImportRow, Store]] = []
    for row in rows:
        if row.email in carded:
            report.existing += 1
            continue
        store = stores.get(row.store_slug or "", default_store) if row.store_slug else default_store
        if row.store_slug and row.store_slug not in stores:
            report.problems.append(
                RowProblem(row.line, str(_NOT_A_STORE % {"value": row.store_slug}))
            )
            continue
        if row.points and not program.uses_points:
            report.problems.append(
                RowProblem(row.line, _("The program collects no points: leave the points empty."))
            )
            continue
        if row.stamps and not program.uses_stamps:
            report.problems.append(
                RowProblem(row.line, _("The program collects no stamps: leave the stamps empty."))
            )
            continue
        if row.card_number and row.card_number in taken:
            report.problems.append(
                RowProblem(
                    row.line,
                    _("The card number %(number)s is already in use.", number=row.card_number),
                )
            )
            continue
        todo.append((row, store))
    report.created = len(todo)
    report.opening_points = sum(row.points for row, _store in todo)
    if dry_run or not todo:
        return report
    _write(merchant, program, todo, known)
    return report


def _write(
    merchant: Merchant,
    program: LoyaltyProgram,
    todo: list[tuple[ImportRow, Store]],
    known: dict[str, int],
) -> None:
    now = utcnow()
    new_customers = [
        {
            "merchant_id": merchant.id,
            "email": row.email,
            "first_name": row.first_name,
            "last_name": row.last_name,
            "preferred_locale": row.locale or merchant.default_locale,
            "phone": row.phone,
            "birthday": row.birthday,
            "marketing_consent": bool(row.marketing_consent),
            "created_at": now,
            "updated_at": now,
        }
        for row, _store in todo
        if row.email not in known
    ]
    customer_ids = dict(known)
    if new_customers:
        ids = _insert_with_ids(_customers, new_customers)
        customer_ids.update(
            {str(row["email"]): id_ for row, id_ in zip(new_customers, ids, strict=True)}
        )

    numbers = _card_numbers([row for row, _store in todo])
    card_ids = _insert_with_ids(
        _cards,
        [
            {
                "merchant_id": merchant.id,
                "customer_id": customer_ids[row.email],
                "program_id": program.id,
                "card_number": number,
                "enrolled_at_store_id": store.id,
                "points_balance": row.points,
                "total_points_earned": row.points,
                "stamp_count": row.stamps,
                "last_activity_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for (row, store), number in zip(todo, numbers, strict=True)
        ],
    )
    ledger = [
        {
            "merchant_id": merchant.id,
            "card_id": card_id,
            "type": TransactionType.OPENING_BALANCE,
            "points_delta": row.points,
            "stamps_delta": row.stamps,
            "points_balance_after": row.points,
            "store_id": store.id,
            "idempotency_key": OPENING_KEY,
            "note": "",
            "created_at": now,
        }
        for (row, store), card_id in zip(todo, card_ids, strict=True)
        if row.points or row.stamps
    ]
    if ledger:
        _insert(_ledger, ledger)
    digest = wording_hash(IMPORT_WORDING)
    consents = [
        {
            "customer_id": customer_ids[row.email],
            "merchant_id": merchant.id,
            "purpose": ConsentPurpose.MARKETING_EMAIL,
            "granted": True,
            "recorded_at": now,
            "source": ConsentSource.IMPORT,
            "locale": row.locale or merchant.default_locale,
            "wording_hash": digest,
        }
        for row, _store in todo
        if row.marketing_consent and row.email not in known
    ]
    if consents:
        _insert(_consents, consents)
    for row, _store in todo:
        if row.marketing_consent and row.email in known:
            # A customer we already had: their own history decides what a grant changes.
            customer = db.session.get(Customer, known[row.email])
            if customer is not None:
                record_consent(
                    customer,
                    ConsentPurpose.MARKETING_EMAIL,
                    granted=True,
                    source=ConsentSource.IMPORT,
                    locale=row.locale or customer.preferred_locale,
                    wording=digest,
                )


def _complete(table: Table, rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The rows as tuples over every column that has a value or a default.

    ``COPY`` applies no Python-side column defaults: they are filled in here, from the
    same ``default=`` the ORM uses.
    """
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if default is None or column.name in rows[0]:
            continue
        if getattr(default, "is_scalar", False):
            defaults[column.name] = getattr(default, "arg", None)
        elif getattr(default, "is_callable", False):
            defaults[column.name] = default.arg(None)  # type: ignore[attr-defined]
    names = [*rows[0], *defaults]
    values = [tuple(_copy_value({**defaults, **row}[name]) for name in names) for row in rows]
    return names, values


def _copy_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _copy(table: Table, rows: list[dict[str, Any]]) -> None:
    names, values = _complete(table, rows)
    raw = db.session.connection().connection.driver_connection
    assert raw is not None  # a live psycopg connection inside the transaction
    columns = ", ".join(f'"{name}"' for name in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for value in values:
            copy.write_row(value)


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _insert(table: Table, rows: list[dict[str, Any]]) -> None:
    """A multi-row insert: ``COPY`` on PostgreSQL, ``executemany`` elsewhere."""
    if _postgres():
        _copy(table, rows)
    else:
        db.session.execute(insert(table), rows)


def _insert_with_ids(table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their ids, in the rows' order.

    On PostgreSQL the ids are drawn from the table's sequence first and the rows copied in
    with ``COPY``: a multi-row ``INSERT ... RETURNING`` spent most of an import's time in
    the driver, building and parsing its statement text.
    """
    if not rows:
        return []
    if _postgres():
        ids = list(
            db.session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table.name, "n": len(rows)},
            )
        )
        _copy(table, [{"id": id_, **row} for row, id_ in zip(rows, ids, strict=True)])
        return ids
    return list(
        db.session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    )


def _card_numbers(rows: list[ImportRow]) -> list[str]:
    """The file's number where it gives one (checked free), else a new random one.

    New numbers are checked against the table in one query and drawn again on a clash;
    the unique constraint stays the final judge.
    """
    numbers = [row.card_number or random_card_number() for row in rows]
    while True:
        fresh = [n for row, n in zip(rows, numbers, strict=True) if not row.card_number]
        clashes = (
            set(
                db.session.scalars(
                    select(LoyaltyCard.card_number).where(LoyaltyCard.card_number.in_(fresh))
                )
            )
            if fresh
            else set()
        )
        if len(set(numbers)) == len(numbers) and not clashes:
            return numbers
        seen: set[str] = set()
        for index, (row, number) in enumerate(zip(rows, numbers, strict=True)):
            if not row.card_number and (number in clashes or number in seen):
                numbers[index] = random_card_number()
            seen.add(numbers[index])


def import_file(
    merchant: Merchant,
    parsed: ParsedFile,
    *,
    store: Store | None = None,
    dry_run: bool = False,
    after_chunk: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every checked row of ``parsed`` for ``merchant``, chunk by chunk.

    :param store: where the cards count as enrolled when the file has no store column
        (default: the merchant's first store).
    :param after_chunk: called with the chunk's row count after each chunk; the command
        line and the console commit there, so a long import holds no lock for long and a
        crash keeps what was done (a rerun skips it).
    :raises ImportFileError: the merchant has no active program or no store.
    """
    program = db.session.scalar(
        select(LoyaltyProgram).where(
            LoyaltyProgram.merchant_id == merchant.id, LoyaltyProgram.is_active.is_(True)
        )
    )
    if program is None:
        raise ImportFileError(_("The merchant has no active program to import cards into."))
    stores = {
        s.slug: s
        for s in db.session.scalars(
            select(Store).where(Store.merchant_id == merchant.id).order_by(Store.id)
        )
    }
    if store is not None and store.merchant_id != merchant.id:
        raise ImportFileError(_("This store belongs to another merchant."))
    default_store = store or next(iter(stores.values()), None)
    if default_store is None:
        raise ImportFileError(_("The merchant has no store to enroll the cards at."))
    report = ImportReport(problems=list(parsed.problems))
    for chunk in chunks(parsed.rows):
        report.add(
            import_chunk(
                merchant,
                program,
                chunk,
                default_store=default_store,
                stores=stores,
                dry_run=dry_run,
            )
        )
        if after_chunk is not None:
            after_chunk(len(chunk))
    report.problems.sort(key=lambda p: p.line)
    return report
