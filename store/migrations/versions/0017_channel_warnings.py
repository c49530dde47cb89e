"""Channel warnings kept in channel health (issue 10): the newest warning and its time.

- channel_status.last_warning, last_warning_at: a gap an outage left in what a source still
  serves (X's newest 800 mentions, 30 days of DMs) used to be only logged and counted in
  memory; kept here, the admin still sees it after a restart.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 23:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channel_status') as batch:
        batch.add_column(sa.Column('last_warning', sa.Text(), nullable=True))
        batch.add_column(sa.Column('last_warning_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('channel_status') as batch:
        batch.drop_column('last_warning_at')
        batch.drop_column('last_warning')
