"""one phone, one vote across territories: settlement history, one campaign per phone and district at a time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resident_territory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('territory_kato', sa.String(length=12), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_resident_territory_resident_id_resident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_kato'], ['territory.kato'], name=op.f('fk_resident_territory_territory_kato_territory'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_territory'))
    )
    with op.batch_alter_table('resident_territory', schema=None) as batch_op:
        batch_op.create_index('ix_resident_territory_resident_since', ['resident_id', 'since'], unique=False)

    op.create_table('district_vote',
    sa.Column('district_kato', sa.String(length=12), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['budget_campaign.id'], name=op.f('fk_district_vote_campaign_id_budget_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('district_kato', 'token', name=op.f('pk_district_vote'))
    )
    with op.batch_alter_table('district_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_district_vote_campaign_id'), ['campaign_id'], unique=False)

    # The settlements already on record: known since the resident registered (the best date there is).
    op.execute("INSERT INTO resident_territory (resident_id, territory_kato, since) "
               "SELECT id, territory_kato, COALESCE(registered_at, created_at) FROM resident "
               "WHERE territory_kato IS NOT NULL AND deleted_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('district_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_district_vote_campaign_id'))
    op.drop_table('district_vote')
    with op.batch_alter_table('resident_territory', schema=None) as batch_op:
        batch_op.drop_index('ix_resident_territory_resident_since')
    op.drop_table('resident_territory')
