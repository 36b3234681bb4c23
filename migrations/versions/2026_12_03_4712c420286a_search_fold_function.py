"""accent-insensitive search: the loyalty_fold(text) function (PostgreSQL)

Revision ID: 4712c420286a
Revises: b1d7a9e4c3f2
Create Date: 2026-12-03 09:00:00

Searches compare ``loyalty_fold(column)`` with the folded term: accents removed, lowercase.
A plain SQL function (``translate``/``replace``), so no extension is needed. SQLite has no
stored functions: the app registers the same fold on every connection, so nothing to do
there.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "4712c420286a"
down_revision = "b1d7a9e4c3f2"
branch_labels = None
depends_on = None

# Written out here rather than imported: a migration must not change when the code does.
# The same text as platform_core.search_fold.POSTGRES_CREATE when this migration was written.
CREATE_FUNCTION = """CREATE OR REPLACE FUNCTION loyalty_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(translate(replace(replace(replace(replace(replace(replace(replace($1, 'ß', 'ss'), 'Æ', 'ae'), 'æ', 'ae'), 'Œ', 'oe'), 'œ', 'oe'), 'Ĳ', 'ij'), 'ĳ', 'ij'), 'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞàáâãäåçèéêëìíîïðñòóôõöøùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłŃńŅņŇňŉŊŋŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſȘșȚțABCDEFGHIJKLMNOPQRSTUVWXYZ', 'aaaaaaceeeeiiiidnoooooouuuuyþaaaaaaceeeeiiiidnoooooouuuuyyaaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiijjkkllllllllllnnnnnnnnnoooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzsssttabcdefghijklmnopqrstuvwxyz')) $$"""
DROP_FUNCTION = "DROP FUNCTION IF EXISTS loyalty_fold(text)"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_FUNCTION)
