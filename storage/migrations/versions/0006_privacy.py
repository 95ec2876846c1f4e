"""privacy: the phone key leaves the database, per-campaign voter tokens, erasable outbox chats

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 15:20:00

- ``app_setting`` keeps the fingerprint of the phone key (never the key) and work left for the app.
- ``vote.phone_hash`` (the resident's own phone hash, copied) becomes ``vote.voter_token``, nullable so it can
  be erased after the campaign; the unique constraints follow it. The values cannot be re-keyed here (the key
  is not in the database, or must not be read by a migration), so the migration records ``votes_rekey`` and the
  app, which has the key, turns every old value h into HMAC(key, "vote|<campaign>|h") at its next start, in
  one transaction (bot/services/phone_key.py). Nothing is dropped: a key still in ``app_secret`` stays there
  until ``qatysu keys export-legacy`` has written it to a key file.
- ``outbox.chat_id`` becomes nullable: a deleted resident's rows keep their state but lose the chat.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_setting',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_app_setting'))
    )
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_constraint('uq_vote_campaign_project_phone', type_='unique')
        batch_op.drop_constraint('uq_vote_campaign_phone_slot', type_='unique')
        batch_op.alter_column('phone_hash', new_column_name='voter_token', existing_type=sa.String(length=64),
                              nullable=True)
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_vote_campaign_project_token', ['campaign_id', 'project_id',
                                                                             'voter_token'])
        batch_op.create_unique_constraint('uq_vote_campaign_token_slot', ['campaign_id', 'voter_token', 'slot'])
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('chat_id', existing_type=sa.BigInteger(), nullable=True)
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM vote LIMIT 1")).first() is not None:
        bind.execute(sa.text("INSERT INTO app_setting (name, value) VALUES ('votes_rekey', '1')"))


def downgrade() -> None:
    # Re-keyed tokens cannot be turned back into phone hashes; erased ones stay empty (the downgrade then fails
    # on NOT NULL while erased tokens exist, rather than invent values).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('chat_id', existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_constraint('uq_vote_campaign_token_slot', type_='unique')
        batch_op.drop_constraint('uq_vote_campaign_project_token', type_='unique')
        batch_op.alter_column('voter_token', new_column_name='phone_hash', existing_type=sa.String(length=64),
                              nullable=False)
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_vote_campaign_phone_slot', ['campaign_id', 'phone_hash', 'slot'])
        batch_op.create_unique_constraint('uq_vote_campaign_project_phone', ['campaign_id', 'project_id',
                                                                             'phone_hash'])
    op.drop_table('app_setting')
