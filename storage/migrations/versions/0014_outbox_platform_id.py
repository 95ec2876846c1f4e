"""the platform's own message id when it is not a number (WhatsApp's wamid)

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-05 18:20:00

WhatsApp accepts a message with an id like ``wamid.HBgL…`` and reports later, by webhook, whether it was delivered
or failed; ``outbox.platform_message_id`` keeps that id so a later failure turns the row "failed".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('platform_message_id', sa.String(128), nullable=True))
        batch.create_index('ix_outbox_platform_message_id', ['platform_message_id'])


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_index('ix_outbox_platform_message_id')
        batch.drop_column('platform_message_id')
