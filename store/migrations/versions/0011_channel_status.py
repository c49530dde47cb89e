"""Channel status: whether each channel's source answers, for /readyz and the admin.

Revision ID: 0011
Revises: 0003
Create Date: 2026-11-30 18:10:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'channel_status',
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('channel'),
    )


def downgrade() -> None:
    op.drop_table('channel_status')
