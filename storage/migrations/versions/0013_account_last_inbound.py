"""the time of a person's last message on each channel account

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:10:00

- ``account.last_inbound_at`` (UTC): WhatsApp lets free-form messages through only for 24 hours after the
  person's last message; outside that window a notice needs an approved template.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('last_inbound_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.drop_column('last_inbound_at')
