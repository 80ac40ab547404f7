"""plan review and standard per fiscal year

Revision ID: 9e62c2f43262
Revises: 1b4980c0fb6b
Create Date: 2026-11-23 23:00:19.919896
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base


revision: str = '9e62c2f43262'
down_revision: str | None = '1b4980c0fb6b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('fiscal_years', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standard_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_fiscal_years_standard_version_id_standard_versions'), 'standard_versions', ['standard_version_id'], ['id'])

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('review_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', bot.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_plans_reviewed_by_users'), 'users', ['reviewed_by'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('standard_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('standard_versions', schema=None) as batch_op:
        batch_op.drop_column('content_hash')

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plans_reviewed_by_users'), type_='foreignkey')
        batch_op.drop_column('reviewed_by')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('review_comment')
        batch_op.drop_column('revision')

    with op.batch_alter_table('fiscal_years', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_fiscal_years_standard_version_id_standard_versions'), type_='foreignkey')
        batch_op.drop_column('standard_version_id')

