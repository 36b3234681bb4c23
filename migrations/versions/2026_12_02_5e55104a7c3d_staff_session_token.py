"""staff session token: logout, password and role changes end every session

Revision ID: 5e55104a7c3d
Revises: 3b8e1f0c7d2a
Create Date: 2026-12-02 07:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e55104a7c3d'
down_revision = '3b8e1f0c7d2a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    # Every existing account gets its own random token (staff accounts are few).
    staff = sa.table('staff_users', sa.column('id', sa.Integer), sa.column('session_token'))
    connection = op.get_bind()
    ids = connection.execute(sa.select(staff.c.id)).scalars().all()
    for user_id in ids:
        connection.execute(
            staff.update()
            .where(staff.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
