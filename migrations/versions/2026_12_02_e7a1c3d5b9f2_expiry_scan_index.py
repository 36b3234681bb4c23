"""expiry scan index: a program's cards that still have points, by id

Revision ID: e7a1c3d5b9f2
Revises: 3f7a9c2e1b04
Create Date: 2026-12-02 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a1c3d5b9f2'
down_revision = '3f7a9c2e1b04'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.create_index(
            'ix_loyalty_cards_program_with_points',
            ['program_id', 'id', 'last_activity_at'],
            unique=False,
            sqlite_where=sa.text('points_balance > 0'),
            postgresql_where=sa.text('points_balance > 0'),
        )


def downgrade():
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_cards_program_with_points')
