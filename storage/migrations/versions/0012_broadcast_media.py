"""a broadcast's attachment is a media row

Revision ID: 0012
Revises: 0014
Create Date: 2026-12-06 10:00:00

``broadcast.media_file_id`` (a Telegram file id) becomes ``broadcast.media_id``: every file id kept there becomes
one ``media`` row of the broadcast's media kind with a ``media_file`` row of channel 'telegram', so each channel
sends the attachment by its own file id. Nothing points to ``broadcast`` with a foreign key, so SQLite's rebuild
of the table is safe with foreign keys on.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0014'  # after main's 0014 (a database already at 0014 still gets this one)
branch_labels = None
depends_on = None

FK = 'fk_broadcast_media_id_media'


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(FK, 'media', ['media_id'], ['id'], ondelete='SET NULL')
    media = sa.table('media', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                     sa.column('created_at', sa.DateTime(timezone=True)))
    media_file = sa.table('media_file', sa.column('media_id', sa.Integer), sa.column('channel', sa.String),
                          sa.column('file_id', sa.String), sa.column('created_at', sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    rows = bind.execute(sa.text("SELECT id, media_file_id, media_kind FROM broadcast WHERE media_file_id IS NOT NULL "
                                "AND media_file_id <> '' ORDER BY id")).all()
    for row_id, file_id, kind in rows:
        media_id = bind.execute(sa.insert(media).values(kind=kind if kind in ('photo', 'document') else 'document',
                                                        created_at=now).returning(media.c.id)).scalar_one()
        bind.execute(sa.insert(media_file).values(media_id=media_id, channel='telegram', file_id=file_id,
                                                  created_at=now))
        bind.execute(sa.text("UPDATE broadcast SET media_id = :m WHERE id = :i"), {"m": media_id, "i": row_id})
    # a kind without a file (never written by the bot) would be an attachment nobody can send
    bind.execute(sa.text("UPDATE broadcast SET media_kind = NULL WHERE media_id IS NULL"))
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_column('media_file_id')


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_file_id', sa.String(length=255), nullable=True))
    bind.execute(sa.text("UPDATE broadcast SET media_file_id = (SELECT file_id FROM media_file WHERE "
                         "media_file.media_id = broadcast.media_id AND media_file.channel = 'telegram')"))
    gone = [m for (m,) in bind.execute(sa.text("SELECT media_id FROM broadcast WHERE media_id IS NOT NULL")).all()]
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.drop_column('media_id')
    for media_id in gone:  # the broadcasts' own media: no other row points to them
        bind.execute(sa.text("DELETE FROM media_file WHERE media_id = :m"), {"m": media_id})
        bind.execute(sa.text("DELETE FROM media WHERE id = :m"), {"m": media_id})
