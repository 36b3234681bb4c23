"""audit log: append-only record of staff actions and logins

On PostgreSQL a trigger refuses UPDATE and DELETE on the table (the erasure's redaction of
values aside, which sets ``loyalty.audit_redaction`` for its transaction).

Revision ID: a7d3e9f1c2b5
Revises: 01f0e279ac43
Create Date: 2026-12-02 14:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

# A copy of platform_core/audit/models.py's PG_FUNCTION and PG_TRIGGER at this revision.
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('loyalty.audit_redaction', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'audit_log is append-only, ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""

# revision identifiers, used by Alembic.
revision = 'a7d3e9f1c2b5'
down_revision = '01f0e279ac43'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('client_address', sa.String(length=45), nullable=True),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('model', sa.String(length=64), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_log_merchant_id_id', ['merchant_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_model_object', ['model', 'object_id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_model_object')
        batch_op.drop_index('ix_audit_log_merchant_id_id')
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS audit_log_append_only()')
