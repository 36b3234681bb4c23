"""dashboard: a program's point value, indexes for the dashboard's aggregates

Revision ID: d4a5b0a2d001
Revises: c9bc5c66bed2
Create Date: 2026-12-02 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a5b0a2d001'
down_revision = 'c9bc5c66bed2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('point_value', sa.Numeric(precision=10, scale=4), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_loyalty_programs_point_value_in_range'),
            'point_value IS NULL OR (point_value >= 0 AND point_value <= 1000)',
        )
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.create_index(
            'ix_loyalty_cards_created', ['created_at'], unique=False,
            postgresql_include=['merchant_id', 'enrolled_at_store_id'],
        )
    with op.batch_alter_table('loyalty_transactions', schema=None) as batch_op:
        batch_op.create_index(
            'ix_loyalty_transactions_created_points', ['created_at'], unique=False,
            postgresql_include=['type', 'points_delta'],
        )


def downgrade():
    with op.batch_alter_table('loyalty_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_transactions_created_points')
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_cards_created')
    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_loyalty_programs_point_value_in_range'), type_='check')
        batch_op.drop_column('point_value')
