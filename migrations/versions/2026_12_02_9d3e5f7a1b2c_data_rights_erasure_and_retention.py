"""data rights: customers.erased_at, per-merchant retention of inactive customers

Revision ID: 9d3e5f7a1b2c
Revises: 8c2d4e6f1a37
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d3e5f7a1b2c'
down_revision = '8c2d4e6f1a37'
branch_labels = None
depends_on = None

_RETENTION_CHECK = (
    'retention_inactive_months IS NULL OR '
    '(retention_inactive_months >= 1 AND retention_inactive_months <= 240)'
)


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('merchant_loyalty_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_inactive_months', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_merchant_loyalty_settings_retention_months_in_range'), _RETENTION_CHECK
        )


def downgrade():
    with op.batch_alter_table('merchant_loyalty_settings', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('ck_merchant_loyalty_settings_retention_months_in_range'), type_='check'
        )
        batch_op.drop_column('retention_inactive_months')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
