"""birthday and re-engagement emails: program settings, once-per-year/per-period guards

Revision ID: b1d7a9e4c3f2
Revises: 9d3e5f7a1b2c
Create Date: 2026-12-02 15:00:00

Both marketing emails are off for every existing program (birthday emails off, no bonus,
no re-engagement delay). On the cards, ``last_birthday_year`` and ``reengagement_sent_for``
record what was already sent, so a rerun sends nothing twice.
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "b1d7a9e4c3f2"
down_revision = "9d3e5f7a1b2c"
branch_labels = None
depends_on = None

# Written out here rather than imported: a migration must not change when the code does.
_CHECKS = {
    "birthday_bonus_in_range": "birthday_bonus_points >= 0 AND birthday_bonus_points <= 100000",
    "reengagement_days_in_range": "reengagement_days IS NULL OR (reengagement_days >= 0 AND reengagement_days <= 3650)",
}


def upgrade():
    with op.batch_alter_table("loyalty_programs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "birthday_emails_enabled", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("birthday_bonus_points", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("reengagement_days", sa.Integer(), nullable=True))
        for name, sql in _CHECKS.items():
            batch_op.create_check_constraint(op.f(f"ck_loyalty_programs_{name}"), sql)
    # The model has Python-side defaults only, like the other columns.
    with op.batch_alter_table("loyalty_programs", schema=None) as batch_op:
        batch_op.alter_column("birthday_emails_enabled", server_default=None)
        batch_op.alter_column("birthday_bonus_points", server_default=None)
    with op.batch_alter_table("loyalty_cards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_birthday_year", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reengagement_sent_for", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("loyalty_cards", schema=None) as batch_op:
        batch_op.drop_column("reengagement_sent_for")
        batch_op.drop_column("last_birthday_year")
    with op.batch_alter_table("loyalty_programs", schema=None) as batch_op:
        for name in _CHECKS:
            batch_op.drop_constraint(op.f(f"ck_loyalty_programs_{name}"), type_="check")
        batch_op.drop_column("reengagement_days")
        batch_op.drop_column("birthday_bonus_points")
        batch_op.drop_column("birthday_emails_enabled")
