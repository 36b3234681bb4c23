"""program texts in four languages: name, description, reward and terms URL per locale

The description, stamp reward and terms URL of each program move into a ``program_texts``
row in the merchant's default language (English when that is not one of ours), with the
program's name; the downgrade brings them back from the default language, else English,
else any language that has them.

Revision ID: 8c2d4e6f1a37
Revises: a7d3e9f1c2b5
Create Date: 2026-12-02 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c2d4e6f1a37'
down_revision = 'a7d3e9f1c2b5'
branch_labels = None
depends_on = None

_MOVED = (
    # (program column, program_texts column)
    ('description', 'description'),
    ('stamps_reward_description', 'reward_description'),
    ('terms_url', 'terms_url'),
)


def upgrade():
    op.create_table(
        'program_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=5), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('reward_description', sa.String(length=200), nullable=False),
        sa.Column('terms_url', sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "locale IN ('en', 'fr', 'de', 'lb')", name=op.f('ck_program_texts_locale_supported')
        ),
        sa.ForeignKeyConstraint(
            ['program_id'],
            ['loyalty_programs.id'],
            name=op.f('fk_program_texts_program_id_loyalty_programs'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_program_texts')),
        sa.UniqueConstraint(
            'program_id', 'locale', name=op.f('uq_program_texts_program_id_locale')
        ),
    )
    with op.batch_alter_table('program_texts', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_program_texts_program_id'), ['program_id'], unique=False
        )

    # One statement for every program: its texts in the merchant's default language.
    op.execute(
        """
        INSERT INTO program_texts
            (program_id, locale, name, description, reward_description, terms_url)
        SELECT p.id,
               CASE WHEN m.default_locale IN ('en', 'fr', 'de', 'lb')
                    THEN m.default_locale ELSE 'en' END,
               p.name,
               COALESCE(p.description, ''),
               COALESCE(p.stamps_reward_description, ''),
               COALESCE(p.terms_url, '')
        FROM loyalty_programs p JOIN merchants m ON m.id = p.merchant_id
        """
    )

    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        for column, _ in _MOVED:
            batch_op.drop_column(column)


def downgrade():
    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('stamps_reward_description', sa.String(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column('terms_url', sa.String(length=500), nullable=True))

    for column, source in _MOVED:
        # The first language that has the field: the merchant's default, English, any.
        op.execute(
            f"""
            UPDATE loyalty_programs SET {column} = COALESCE((
                SELECT t.{source} FROM program_texts t
                JOIN loyalty_programs p ON p.id = t.program_id
                JOIN merchants m ON m.id = p.merchant_id
                WHERE t.program_id = loyalty_programs.id AND t.{source} <> ''
                ORDER BY CASE
                    WHEN t.locale = m.default_locale THEN 0
                    WHEN t.locale = 'en' THEN 1
                    ELSE 2 END,
                    t.locale
                LIMIT 1), '')
            """
        )

    with op.batch_alter_table('loyalty_programs', schema=None) as batch_op:
        batch_op.alter_column('description', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column(
            'stamps_reward_description', existing_type=sa.String(length=200), nullable=False
        )
        batch_op.alter_column(
            'terms_url', existing_type=sa.String(length=500), nullable=False
        )

    with op.batch_alter_table('program_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_program_texts_program_id'))
    op.drop_table('program_texts')
