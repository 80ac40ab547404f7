"""evidence intake, progress, assessment request and summary documents

Revision ID: d69dc632214f
Revises: 9e62c2f43262
Create Date: 2026-11-23 23:49:42.347933
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = 'd69dc632214f'
down_revision: str | None = '9e62c2f43262'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('summary_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', bot.models.base.UTCDateTime(), nullable=False),
    sa.Column('locked_until', bot.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', bot.models.base.UTCDateTime(), nullable=False),
    sa.Column('ready_at', bot.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_summary_documents_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_summary_documents_requested_by_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_summary_documents'))
    )
    with op.batch_alter_table('summary_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_summary_documents_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index('ix_summary_documents_status_next', ['status', 'next_attempt_at'], unique=False)

    # No release ever wrote to `evidence`, so its new NOT NULL columns need no backfill.
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_message_id', sa.String(length=40), nullable=False))
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('image_set_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('file_name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('thumb_key', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('taken_at', bot.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('gps_lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('gps_lon', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('announced', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reply_token', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('reply_by', bot.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', bot.models.base.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False))
        batch_op.add_column(sa.Column('locked_until', bot.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stored_at', bot.models.base.UTCDateTime(), nullable=True))
        batch_op.alter_column('plan_item_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('content_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('storage_key',
               existing_type=sa.VARCHAR(length=300),
               nullable=True)
        batch_op.alter_column('size_bytes',
               existing_type=sa.BIGINT(),
               nullable=True)
        batch_op.alter_column('mime_type',
               existing_type=sa.VARCHAR(length=100),
               nullable=True)
        batch_op.create_index('ix_evidence_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_uploaded_by'), ['uploaded_by'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_evidence_line_message_id'), ['line_message_id'])

    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('households_trained', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('households_with_occupation', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('income_before', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('income_after', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('assessment_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('assessment_requested_at', bot.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('assessment_comment', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('assessment_comment')
        batch_op.drop_column('assessment_requested_at')
        batch_op.drop_column('assessment_status')
        batch_op.drop_column('income_after')
        batch_op.drop_column('income_before')
        batch_op.drop_column('households_with_occupation')
        batch_op.drop_column('households_trained')

    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.drop_column('note')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_evidence_line_message_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_evidence_uploaded_by'))
        batch_op.drop_index('ix_evidence_status_next')
        batch_op.alter_column('mime_type',
               existing_type=sa.VARCHAR(length=100),
               nullable=False)
        batch_op.alter_column('size_bytes',
               existing_type=sa.BIGINT(),
               nullable=False)
        batch_op.alter_column('storage_key',
               existing_type=sa.VARCHAR(length=300),
               nullable=False)
        batch_op.alter_column('content_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('plan_item_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('stored_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('reply_by')
        batch_op.drop_column('reply_token')
        batch_op.drop_column('announced')
        batch_op.drop_column('gps_lon')
        batch_op.drop_column('gps_lat')
        batch_op.drop_column('taken_at')
        batch_op.drop_column('thumb_key')
        batch_op.drop_column('file_name')
        batch_op.drop_column('image_set_id')
        batch_op.drop_column('status')
        batch_op.drop_column('line_message_id')

    with op.batch_alter_table('summary_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_summary_documents_status_next')
        batch_op.drop_index(batch_op.f('ix_summary_documents_plan_id'))

    op.drop_table('summary_documents')
