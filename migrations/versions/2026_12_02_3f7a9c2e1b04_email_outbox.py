"""email outbox: claim token and lease, attempt outcomes, sending/suppressed, suppressions

Revision ID: 3f7a9c2e1b04
Revises: d41a7c0e9b13
Create Date: 2026-12-02 07:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f7a9c2e1b04'
down_revision = 'd41a7c0e9b13'
branch_labels = None
depends_on = None

OLD_STATUS = sa.Enum('queued', 'sent', 'failed', name='email_status', native_enum=False, length=10)
NEW_STATUS = sa.Enum(
    'queued', 'sending', 'sent', 'failed', 'suppressed',
    name='email_status', native_enum=False, length=10,
)


def upgrade():
    op.create_table('email_suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('code', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('email_log_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['email_log_id'], ['email_logs.id'], name=op.f('fk_email_suppressions_email_log_id_email_logs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_email_suppressions_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_suppressions')),
    sa.UniqueConstraint('merchant_id', 'address', name=op.f('uq_email_suppressions_merchant_id_address'))
    )
    with op.batch_alter_table('email_suppressions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_suppressions_merchant_id'), ['merchant_id'], unique=False)

    with op.batch_alter_table('email_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unknown_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_outcome', sa.Enum('accepted', 'temporary', 'refused', 'unknown', name='email_outcome', native_enum=False, length=10), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('status', existing_type=OLD_STATUS, type_=NEW_STATUS, existing_nullable=False)
    with op.batch_alter_table('email_logs', schema=None) as batch_op:
        batch_op.alter_column('unknown_attempts', server_default=None)


def downgrade():
    # Rows in the new states go back to what the old code understood: a claimed row is
    # queued again (it may not have been sent), a suppressed one failed.
    op.execute("UPDATE email_logs SET status = 'queued' WHERE status = 'sending'")
    op.execute("UPDATE email_logs SET status = 'failed' WHERE status = 'suppressed'")
    with op.batch_alter_table('email_logs', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=NEW_STATUS, type_=OLD_STATUS, existing_nullable=False)
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('claim_token')
        batch_op.drop_column('last_outcome')
        batch_op.drop_column('unknown_attempts')

    with op.batch_alter_table('email_suppressions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_suppressions_merchant_id'))

    op.drop_table('email_suppressions')
