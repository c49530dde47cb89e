"""Training rows: agency corrections (reroutes, the central's moves, admins) kept for retraining.

Revision ID: 0007
Revises: 0012
Create Date: 2026-11-30 16:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'training_rows',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('report_id', sa.String(length=32), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('agency', sa.String(length=64), nullable=False),
        sa.Column('previous_agency', sa.String(length=64), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('report_id', name='uq_training_report'),
    )


def downgrade() -> None:
    op.drop_table('training_rows')
