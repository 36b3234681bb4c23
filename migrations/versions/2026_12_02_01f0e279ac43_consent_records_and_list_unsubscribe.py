"""consent records (append-only history of consents) and List-Unsubscribe on email rows

The customers who had the old ``marketing_consent`` flag get one granted row, dated when the
customer was created, with source ``console`` and the hash of a fixed "before consent
records" wording, so the derived state matches the flag.

Revision ID: 01f0e279ac43
Revises: 5e55104a7c3d
Create Date: 2026-12-02 14:21:21.021788

"""
import hashlib

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '01f0e279ac43'
down_revision = '5e55104a7c3d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('terms', 'marketing_email', name='consent_purpose', native_enum=False, length=20), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Enum('public_form', 'api', 'terminal', 'console', 'unsubscribe', 'import', name='consent_source', native_enum=False, length=20), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('wording_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_consent_records_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_consent_records_merchant_id_merchants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_consent_records_staff_user_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index('ix_consent_records_customer_purpose', ['customer_id', 'purpose', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_records_merchant_id'), ['merchant_id'], unique=False)

    with op.batch_alter_table('email_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_unsubscribe_url', sa.String(length=500), nullable=True))

    legacy = hashlib.sha256(b"marketing_consent flag, before consent records").hexdigest()
    op.execute(
        sa.text(
            "INSERT INTO consent_records (customer_id, merchant_id, purpose, granted, "
            "recorded_at, source, locale, wording_hash) "
            "SELECT id, merchant_id, 'marketing_email', :yes, created_at, 'console', "
            "preferred_locale, :legacy FROM customers WHERE marketing_consent = :yes"
        ).bindparams(yes=True, legacy=legacy)
    )


def downgrade():
    with op.batch_alter_table('email_logs', schema=None) as batch_op:
        batch_op.drop_column('list_unsubscribe_url')

    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_records_merchant_id'))
        batch_op.drop_index('ix_consent_records_customer_purpose')

    op.drop_table('consent_records')
