"""wallet rejected status, task run source, heartbeat and owner

Revision ID: d41a7c0e9b13
Revises: d4a5b0a2d001
Create Date: 2026-12-02 07:05:00.000000

``wallet_sync_status`` is a plain VARCHAR(20) without a CHECK (non-native enum), so the new
``rejected`` value needs no change there; ``task_runs.status`` grows from 10 to 20 characters
for ``interrupted``.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41a7c0e9b13'
down_revision = 'd4a5b0a2d001'
branch_labels = None
depends_on = None

_STATUS_OLD = sa.Enum('running', 'succeeded', 'failed', name='task_run_status', native_enum=False, length=10)
_STATUS_NEW = sa.Enum('running', 'succeeded', 'failed', 'interrupted', name='task_run_status', native_enum=False, length=20)


def upgrade():
    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wallet_rejected_config', sa.String(length=64), nullable=True))

    with op.batch_alter_table('task_runs', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_STATUS_OLD, type_=_STATUS_NEW, existing_nullable=False)
        batch_op.add_column(sa.Column('source', sa.Enum('periodic', 'cli', 'console', name='task_run_source', native_enum=False, length=20), server_default='periodic', nullable=False))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('owner', sa.String(length=200), server_default='', nullable=False))


def downgrade():
    # Rows the old code cannot read go back to the nearest old value.
    op.execute("UPDATE task_runs SET status = 'failed' WHERE status = 'interrupted'")
    op.execute("UPDATE loyalty_cards SET wallet_sync_status = 'failed' WHERE wallet_sync_status = 'rejected'")
    with op.batch_alter_table('task_runs', schema=None) as batch_op:
        batch_op.drop_column('owner')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('source')
        batch_op.alter_column('status', existing_type=_STATUS_NEW, type_=_STATUS_OLD, existing_nullable=False)

    with op.batch_alter_table('loyalty_cards', schema=None) as batch_op:
        batch_op.drop_column('wallet_rejected_config')
