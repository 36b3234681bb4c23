"""programs and loyalty settings: every numeric field within its documented range

Revision ID: 3b8e1f0c7d2a
Revises: e14b519b6564
Create Date: 2026-12-02 07:00:00

Values already out of range are first brought to the nearest bound, so the constraints can
be added on a live database (docs/architecture.md, "Ranges of programs and settings").
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3b8e1f0c7d2a'
down_revision = 'e14b519b6564'
branch_labels = None
depends_on = None

# Written out here rather than imported: a migration must not change when the code does.
_PROGRAM_CHECKS = {
    'points_per_euro_in_range': 'points_per_euro >= 0 AND points_per_euro <= 1000',
    'welcome_bonus_in_range': 'welcome_bonus_points >= 0 AND welcome_bonus_points <= 100000',
    'stamps_target_in_range':
        'stamps_target IS NULL OR (stamps_target >= 1 AND stamps_target <= 100)',
    'expiry_days_in_range':
        'points_expiry_days IS NULL OR (points_expiry_days >= 1 AND points_expiry_days <= 3650)',
    'warning_days_in_range': 'expiry_warning_days >= 1 AND expiry_warning_days <= 90',
    'warning_shorter_than_expiry':
        'points_expiry_days IS NULL OR expiry_warning_days < points_expiry_days',
}
_OLD_PROGRAM_CHECKS = {
    'points_per_euro_not_negative': 'points_per_euro >= 0',
    'welcome_bonus_not_negative': 'welcome_bonus_points >= 0',
    'stamps_target_positive': 'stamps_target IS NULL OR stamps_target > 0',
    'expiry_days_positive': 'points_expiry_days IS NULL OR points_expiry_days > 0',
    'warning_days_not_negative': 'expiry_warning_days >= 0',
}
_SETTINGS_CHECKS = {
    'void_window_in_range': 'void_window_days >= 0 AND void_window_days <= 365',
    'min_redeem_in_range': 'min_points_to_redeem >= 0 AND min_points_to_redeem <= 1000000',
}
_OLD_SETTINGS_CHECKS = {
    'void_window_not_negative': 'void_window_days >= 0',
    'min_redeem_not_negative': 'min_points_to_redeem >= 0',
}

_CLAMP_PROGRAMS = [
    # Stored as infinity (SQLite) or NaN (PostgreSQL): neither is a rate anyone chose.
    "UPDATE loyalty_programs SET points_per_euro = 1 WHERE points_per_euro IS NULL"
    " OR points_per_euro <> points_per_euro OR points_per_euro > 1e300",
    "UPDATE loyalty_programs SET points_per_euro = 1000 WHERE points_per_euro > 1000",
    "UPDATE loyalty_programs SET welcome_bonus_points = 100000"
    " WHERE welcome_bonus_points > 100000",
    "UPDATE loyalty_programs SET stamps_target = 100 WHERE stamps_target > 100",
    "UPDATE loyalty_programs SET points_expiry_days = 3650 WHERE points_expiry_days > 3650",
    "UPDATE loyalty_programs SET expiry_warning_days = 1 WHERE expiry_warning_days < 1",
    "UPDATE loyalty_programs SET expiry_warning_days = 90 WHERE expiry_warning_days > 90",
    "UPDATE loyalty_programs SET points_expiry_days = 2 WHERE points_expiry_days = 1",
    "UPDATE loyalty_programs SET expiry_warning_days = points_expiry_days - 1"
    " WHERE points_expiry_days IS NOT NULL AND expiry_warning_days >= points_expiry_days",
]
_CLAMP_SETTINGS = [
    "UPDATE merchant_loyalty_settings SET void_window_days = 365 WHERE void_window_days > 365",
    "UPDATE merchant_loyalty_settings SET min_points_to_redeem = 1000000"
    " WHERE min_points_to_redeem > 1000000",
]


def _swap(table, drop, create):
    # On SQLite, batch mode copies the table, drops the original and renames the copy: the
    # cards referencing the programs allow that only with foreign keys off (migrations/env.py).
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name in drop:
            batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
        for name, sql in create.items():
            batch_op.create_check_constraint(op.f(f'ck_{table}_{name}'), sql)


def upgrade():
    for statement in _CLAMP_PROGRAMS:
        op.execute(statement)
    for statement in _CLAMP_SETTINGS:
        op.execute(statement)
    _swap('loyalty_programs', _OLD_PROGRAM_CHECKS, _PROGRAM_CHECKS)
    _swap('merchant_loyalty_settings', _OLD_SETTINGS_CHECKS, _SETTINGS_CHECKS)


def downgrade():
    _swap('merchant_loyalty_settings', _SETTINGS_CHECKS, _OLD_SETTINGS_CHECKS)
    _swap('loyalty_programs', _PROGRAM_CHECKS, _OLD_PROGRAM_CHECKS)
