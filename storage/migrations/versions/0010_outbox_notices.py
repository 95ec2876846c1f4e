"""outbox rows are notices: kind, params and channel; rendered when sent

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 16:00:00

Rows written before this revision hold a finished Telegram payload: they keep it under ``params`` with the
kind ``legacy``, which the sender sends as it is (so nothing queued at the upgrade is lost).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), server_default='telegram', nullable=False))
        batch_op.add_column(sa.Column('kind', sa.String(length=48), server_default='legacy', nullable=False))
        batch_op.alter_column('payload', new_column_name='params', existing_type=sa.JSON(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('params', new_column_name='payload', existing_type=sa.JSON(), existing_nullable=False)
        batch_op.drop_column('kind')
        batch_op.drop_column('channel')
