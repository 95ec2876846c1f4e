"""staff roles limited to a territory

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_role', schema=None) as batch_op:
        batch_op.add_column(sa.Column('territory_kato', sa.String(length=12), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_staff_role_territory_kato_territory'), 'territory',
                                    ['territory_kato'], ['kato'], ondelete='RESTRICT')


def downgrade() -> None:
    with op.batch_alter_table('staff_role', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_role_territory_kato_territory'), type_='foreignkey')
        batch_op.drop_column('territory_kato')
