"""The models decide after intake (issue 13): a report waits for them before forwarding.

- reports.awaiting_models: what the models' later decision needs (the kind given explicitly,
  whether an admin fixed the agency meanwhile) while a new report waits for the kind and
  routing models; NULL once they have decided (and for every report stored before).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 07:30:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column(
            'awaiting_models',
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=True,
        ))


def downgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('awaiting_models')
