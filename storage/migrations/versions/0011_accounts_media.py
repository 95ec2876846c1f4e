"""accounts per channel and media under the project's own ids

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 16:00:00

- ``account`` (channel, account_id, chat_id, resident_id): how a person is found. Every resident with a Telegram
  id gets one account with it; ``resident.channel``, ``user_id`` and ``chat_id`` are dropped.
- ``media`` and ``media_file`` (the per-channel cache of platform file ids): every Telegram file id kept in
  ``appeal_message.file_id``, ``budget_project.photo_file_id`` and ``report.document_file_id`` becomes one media
  row with a ``media_file`` row of channel 'telegram'; those columns become ``media_id``, ``photo_media_id`` and
  ``document_media_id``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# (table, old file id column, new media id column, media kind column or fixed kind)
MOVED = (('appeal_message', 'file_id', 'media_id', 'media_kind'),
         ('budget_project', 'photo_file_id', 'photo_media_id', "'photo'"),
         ('report', 'document_file_id', 'document_media_id', "'document'"))


def _create_tables() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_account_resident_id_resident'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('channel', 'account_id', name='uq_account_channel_account'),
    sa.UniqueConstraint('resident_id', 'channel', name='uq_account_resident_channel')
    )
    op.create_table('media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media'))
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_sha256'), ['sha256'], unique=False)
    op.create_table('media_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('file_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], name=op.f('fk_media_file_media_id_media'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_file')),
    sa.UniqueConstraint('media_id', 'channel', name='uq_media_file_media_channel')
    )


def _foreign_keys(on: bool) -> None:
    """SQLite rebuilds ``resident`` to drop its columns: with foreign keys on, dropping the old table would delete
    or refuse every row that points to a resident. The pragma works only outside a transaction, so the work so far
    is committed first (this revision is not atomic on SQLite); the keys are checked before they are on again."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.connection.driver_connection.in_transaction:
        bind.exec_driver_sql("COMMIT")
    if on and bind.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
        raise RuntimeError("foreign keys broken while moving residents' Telegram ids to accounts")
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade() -> None:
    _foreign_keys(False)
    _create_tables()
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO account (channel, account_id, chat_id, resident_id, created_at) "
                         "SELECT channel, user_id, chat_id, id, created_at FROM resident WHERE user_id IS NOT NULL"))
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.drop_constraint('uq_resident_channel_user', type_='unique')
        batch_op.drop_column('channel')
        batch_op.drop_column('user_id')
        batch_op.drop_column('chat_id')

    media = sa.table('media', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                     sa.column('created_at', sa.DateTime(timezone=True)))
    media_file = sa.table('media_file', sa.column('media_id', sa.Integer), sa.column('channel', sa.String),
                          sa.column('file_id', sa.String), sa.column('created_at', sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    for table, old, new, kind in MOVED:
        fk = 'fk_appeal_message_media_id_media' if table == 'appeal_message' else f'fk_{table}_{new}_media'
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(new, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(fk, 'media', [new], ['id'], ondelete='SET NULL')
            if table == 'appeal_message':
                batch_op.create_index(batch_op.f('ix_appeal_message_media_id'), [new], unique=False)
        rows = bind.execute(sa.text(f"SELECT id, {old}, {kind} FROM {table} WHERE {old} IS NOT NULL "
                                    f"AND {old} <> '' ORDER BY id")).all()
        for row_id, file_id, media_kind in rows:
            media_id = bind.execute(sa.insert(media).values(kind=media_kind or 'document', created_at=now)
                                    .returning(media.c.id)).scalar_one()
            bind.execute(sa.insert(media_file).values(media_id=media_id, channel='telegram', file_id=file_id,
                                                      created_at=now))
            bind.execute(sa.text(f"UPDATE {table} SET {new} = :m WHERE id = :i"), {"m": media_id, "i": row_id})
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(old)
    _foreign_keys(True)


def downgrade() -> None:
    _foreign_keys(False)
    bind = op.get_bind()
    for table, old, new, _kind in MOVED:
        fk = 'fk_appeal_message_media_id_media' if table == 'appeal_message' else f'fk_{table}_{new}_media'
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(old, sa.String(length=255), nullable=True))
        bind.execute(sa.text(f"UPDATE {table} SET {old} = (SELECT file_id FROM media_file WHERE media_file.media_id "
                             f"= {table}.{new} AND media_file.channel = 'telegram')"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == 'appeal_message':
                batch_op.drop_index(batch_op.f('ix_appeal_message_media_id'))
            batch_op.drop_constraint(fk, type_='foreignkey')
            batch_op.drop_column(new)
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=False, server_default='telegram'))
        batch_op.add_column(sa.Column('user_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('chat_id', sa.BigInteger(), nullable=True))
    # a person with accounts on several channels keeps their oldest Telegram account
    first = ("(SELECT {col} FROM account WHERE account.resident_id = resident.id AND account.channel = 'telegram' "
             "ORDER BY account.id LIMIT 1)")
    bind.execute(sa.text(f"UPDATE resident SET user_id = {first.format(col='account_id')}, "
                         f"chat_id = {first.format(col='chat_id')}"))
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_resident_channel_user', ['channel', 'user_id'])
    op.drop_table('media_file')
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_sha256'))
    op.drop_table('media')
    op.drop_table('account')
    _foreign_keys(True)
