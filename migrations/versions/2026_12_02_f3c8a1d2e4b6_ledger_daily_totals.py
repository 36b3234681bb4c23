"""dashboard at scale: daily totals of the ledger and enrollments, indexes for the card figures

Revision ID: f3c8a1d2e4b6
Revises: 4712c420286a
Create Date: 2026-12-02 18:00:00

``ledger_daily_totals`` starts empty: the dashboard reads the ledger until the first nightly
refresh (or ``flask --app wsgi loyalty rollup-ledger``) has summed the closed days. Two
partial card indexes serve the points expiring soon and the count of deactivated cards.
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "f3c8a1d2e4b6"
down_revision = "4712c420286a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_daily_totals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("redeemed", sa.BigInteger(), nullable=False),
        sa.Column("expired", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"],
            name=op.f("fk_ledger_daily_totals_merchant_id_merchants"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["loyalty_programs.id"],
            name=op.f("fk_ledger_daily_totals_program_id_loyalty_programs"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"],
            name=op.f("fk_ledger_daily_totals_store_id_stores"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_daily_totals")),
    )
    with op.batch_alter_table("ledger_daily_totals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_daily_totals_day"), ["day"], unique=False)
        batch_op.create_index(
            "ix_ledger_daily_totals_merchant_day", ["merchant_id", "day"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_daily_totals_program_id"), ["program_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_daily_totals_store_id"), ["store_id"], unique=False
        )
    op.create_table(
        "ledger_rollup_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("through_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ledger_rollup_state")),
    )
    with op.batch_alter_table("loyalty_cards", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loyalty_cards_program_expiring", ["program_id", "last_activity_at"], unique=False,
            postgresql_include=["points_balance"],
            sqlite_where=sa.text("points_balance > 0"),
            postgresql_where=sa.text("points_balance > 0"),
        )
        batch_op.create_index(
            "ix_loyalty_cards_program_inactive", ["program_id"], unique=False,
            sqlite_where=sa.text("NOT is_active"),
            postgresql_where=sa.text("NOT is_active"),
        )


def downgrade():
    with op.batch_alter_table("loyalty_cards", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_cards_program_inactive")
        batch_op.drop_index("ix_loyalty_cards_program_expiring")
    op.drop_table("ledger_rollup_state")
    with op.batch_alter_table("ledger_daily_totals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_daily_totals_store_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_daily_totals_program_id"))
        batch_op.drop_index("ix_ledger_daily_totals_merchant_day")
        batch_op.drop_index(batch_op.f("ix_ledger_daily_totals_day"))
    op.drop_table("ledger_daily_totals")
