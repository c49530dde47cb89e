"""Hold reason in its own column; request fingerprints for repeats.

- inbound_messages.hold_reason: why a message was held back (quarantine). Until now the
  reason shared the `error` column with the errors of rejected input; existing quarantined
  and released rows have theirs moved over.
- inbound_messages.fingerprint: sha256 of the webhook request that brought a message, so a
  repeat of its key with a different body is told apart from a provider's retry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 16:40:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages') as batch:
        batch.add_column(sa.Column('hold_reason', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE inbound_messages SET hold_reason = substr(error, 1, 64), error = NULL"
        " WHERE state IN ('quarantined', 'released')"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE inbound_messages SET error = hold_reason"
        " WHERE state IN ('quarantined', 'released')"
    )
    with op.batch_alter_table('inbound_messages') as batch:
        batch.drop_column('fingerprint')
        batch.drop_column('hold_reason')
