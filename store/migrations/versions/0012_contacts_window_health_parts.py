"""Social channels, second pass (issue 10): reply windows and per-part channel health.

- channel_contacts: when each citizen last wrote on a channel with a reply window (WhatsApp,
  Messenger, Instagram), so any later message reopens the 24-hour window.
- reply_outbox.window_closed: the provider said the window was closed (WhatsApp 131047);
  the reply is sent again, once, as the approved template.
- channel_status.failing_parts: which parts of a channel fail now (source, replies), so a
  working reply does not hide a failing poll.

Revision ID: 0012
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'channel_contacts',
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('recipient', sa.String(length=64), nullable=False),
        sa.Column('last_inbound_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel', 'recipient'),
    )
    with op.batch_alter_table('reply_outbox') as batch:
        batch.add_column(
            sa.Column('window_closed', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('channel_status') as batch:
        batch.add_column(sa.Column('failing_parts', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('channel_status') as batch:
        batch.drop_column('failing_parts')
    with op.batch_alter_table('reply_outbox') as batch:
        batch.drop_column('window_closed')
    op.drop_table('channel_contacts')
