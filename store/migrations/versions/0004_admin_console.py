"""Admin console: users, audit log, private status tokens, indexes for the reports list.

- users: console accounts (argon2 password hashes), roles admin/operator.
- audit_log: every admin action (release, replay, edit, export, ...).
- reports.status_token: the citizen's private status link; existing reports get one here.
- indexes: the reports list filters by channel/agency/kind/state and orders by time; the
  dashboard counts inbound messages per channel and day.

Revision ID: 0004
Revises: 0006
Create Date: 2026-11-30 16:00:00
"""

import secrets

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0006'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('display_name', sa.String(length=128), nullable=True),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', TIME, nullable=False),
        sa.Column('password_changed_at', TIME, nullable=False),
        sa.Column('last_login_at', TIME, nullable=True),
        sa.UniqueConstraint('username'),
    )
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('at', TIME, nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=255), nullable=True),
        sa.Column('detail', JSON, nullable=False),
    )
    op.create_index('ix_audit_at', 'audit_log', ['at'])
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('status_token', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_reports_status_token', ['status_token'])
    conn = op.get_bind()
    reports = sa.table('reports', sa.column('id', sa.String), sa.column('status_token', sa.String))
    ids = [row[0] for row in conn.execute(sa.select(reports.c.id))]
    for report_id in ids:
        conn.execute(
            reports.update()
            .where(reports.c.id == report_id)
            .values(status_token=secrets.token_urlsafe(16))
        )
    op.create_index('ix_reports_created', 'reports', ['created_at'])
    op.create_index('ix_reports_channel_created', 'reports', ['channel', 'created_at'])
    op.create_index('ix_reports_agency_created', 'reports', ['agency', 'created_at'])
    op.create_index('ix_reports_kind_created', 'reports', ['kind', 'created_at'])
    op.create_index(
        'ix_reports_state_created', 'reports', ['state', 'central_status', 'created_at']
    )
    op.create_index(
        'ix_inbound_channel_received', 'inbound_messages', ['channel', 'received_at']
    )


def downgrade() -> None:
    op.drop_index('ix_inbound_channel_received', 'inbound_messages')
    for name in (
        'ix_reports_state_created',
        'ix_reports_kind_created',
        'ix_reports_agency_created',
        'ix_reports_channel_created',
        'ix_reports_created',
    ):
        op.drop_index(name, 'reports')
    with op.batch_alter_table('reports') as batch:
        batch.drop_constraint('uq_reports_status_token', type_='unique')
        batch.drop_column('status_token')
    op.drop_index('ix_audit_at', 'audit_log')
    op.drop_table('audit_log')
    op.drop_table('users')
