"""public statements with legal approval

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_statements_created_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_statements_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements'))
    )
    op.create_index(op.f('ix_statements_incident_id'), 'statements', ['incident_id'], unique=False)
    op.create_table('statement_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_statement_versions_author_id_users')),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_versions_statement_id_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_versions')),
    sa.UniqueConstraint('statement_id', 'number', name=op.f('uq_statement_versions_statement_id'))
    )
    op.create_index(op.f('ix_statement_versions_statement_id'), 'statement_versions', ['statement_id'], unique=False)
    op.create_table('statement_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('required_roles', sa.JSON(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_statement_approvals_incident_id_incidents')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_statement_approvals_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['statement_versions.id'], name=op.f('fk_statement_approvals_version_id_statement_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_approvals')),
    sa.UniqueConstraint('version_id', name=op.f('uq_statement_approvals_version_id'))
    )
    op.create_index(op.f('ix_statement_approvals_due_at'), 'statement_approvals', ['due_at'], unique=False)
    op.create_index(op.f('ix_statement_approvals_incident_id'), 'statement_approvals', ['incident_id'], unique=False)
    op.create_index(op.f('ix_statement_approvals_status'), 'statement_approvals', ['status'], unique=False)
    op.create_table('statement_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['statement_approvals.id'], name=op.f('fk_statement_decisions_approval_id_statement_approvals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_statement_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_decisions')),
    sa.UniqueConstraint('approval_id', 'role', name='uq_statement_decisions_approval_id_role'),
    sa.UniqueConstraint('approval_id', 'user_id', name='uq_statement_decisions_approval_id_user_id')
    )
    op.create_index(op.f('ix_statement_decisions_approval_id'), 'statement_decisions', ['approval_id'], unique=False)
    op.create_table('statement_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_statement_publications_published_by_id_users')),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_publications_statement_id_statements')),
    sa.ForeignKeyConstraint(['version_id'], ['statement_versions.id'], name=op.f('fk_statement_publications_version_id_statement_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_publications'))
    )
    op.create_index(op.f('ix_statement_publications_statement_id'), 'statement_publications', ['statement_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_statement_publications_statement_id'), table_name='statement_publications')
    op.drop_table('statement_publications')
    op.drop_index(op.f('ix_statement_decisions_approval_id'), table_name='statement_decisions')
    op.drop_table('statement_decisions')
    op.drop_index(op.f('ix_statement_approvals_status'), table_name='statement_approvals')
    op.drop_index(op.f('ix_statement_approvals_incident_id'), table_name='statement_approvals')
    op.drop_index(op.f('ix_statement_approvals_due_at'), table_name='statement_approvals')
    op.drop_table('statement_approvals')
    op.drop_index(op.f('ix_statement_versions_statement_id'), table_name='statement_versions')
    op.drop_table('statement_versions')
    op.drop_index(op.f('ix_statements_incident_id'), table_name='statements')
    op.drop_table('statements')
