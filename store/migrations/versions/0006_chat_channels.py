"""Chat channels (issue 10): guided conversations, buttons on replies, delivery statuses.

- conversations: one guided conversation in progress per (channel, chat hash).
- reply_outbox.choices: buttons or list items sent with a prompt.
- reply_outbox.delivery_status / delivery_at / delivery_error: what the provider said
  after sending (WhatsApp status callbacks, Messenger deliveries).

Revision ID: 0006
Revises: 0011
Create Date: 2026-11-24 10:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0011'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'conversations',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('chat', sa.String(length=64), nullable=False),
        sa.Column('step', sa.String(length=32), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('reply_to', JSON, nullable=False),
        sa.Column('turns', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'chat', name='uq_conversation_chat'),
    )
    op.create_index('ix_conversation_expires', 'conversations', ['expires_at'])
    with op.batch_alter_table('reply_outbox') as batch:
        batch.add_column(sa.Column('choices', JSON, nullable=True))
        batch.add_column(sa.Column('delivery_status', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('delivery_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('delivery_error', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reply_outbox') as batch:
        batch.drop_column('delivery_error')
        batch.drop_column('delivery_at')
        batch.drop_column('delivery_status')
        batch.drop_column('choices')
    op.drop_index('ix_conversation_expires', table_name='conversations')
    op.drop_table('conversations')
