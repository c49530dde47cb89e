"""Quarantine, status queries and follow-ups: stored drafts, replies not tied to a report.

- inbound_messages.draft: the adapter's draft (attachments by hash), so a quarantined
  message can be released into a report later without the adapter.
- reply_outbox.report_id becomes nullable (a status query about an unknown tracking id is
  answered without a report), reply_to overrides the report's coordinates (the asker), and
  recipient (a hash of the recipient) backs the per-recipient rate limit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:45:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages') as batch:
        batch.add_column(sa.Column('draft', JSON, nullable=True))
        batch.create_index('ix_inbound_state', ['state'])
    with op.batch_alter_table('reply_outbox') as batch:
        batch.alter_column('report_id', existing_type=sa.String(length=32), nullable=True)
        batch.add_column(sa.Column('reply_to', JSON, nullable=True))
        batch.add_column(sa.Column('recipient', sa.String(length=64), nullable=True))
        batch.create_index('ix_reply_recipient', ['channel', 'recipient', 'sent_at'])


def downgrade() -> None:
    with op.batch_alter_table('reply_outbox') as batch:
        batch.drop_index('ix_reply_recipient')
        batch.drop_column('recipient')
        batch.drop_column('reply_to')
        batch.alter_column('report_id', existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table('inbound_messages') as batch:
        batch.drop_index('ix_inbound_state')
        batch.drop_column('draft')
