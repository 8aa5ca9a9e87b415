"""playbook runs, step runs and step notes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('playbook_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('playbook_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('source_name', sa.String(length=300), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('attached_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attached_by_id', sa.Integer(), nullable=True),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['attached_by_id'], ['users.id'], name=op.f('fk_playbook_runs_attached_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_playbook_runs_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_runs'))
    )
    op.create_index(op.f('ix_playbook_runs_incident_id'), 'playbook_runs', ['incident_id'], unique=False)
    op.create_index('uq_playbook_runs_one_current', 'playbook_runs', ['incident_id'], unique=True, postgresql_where=sa.text('replaced_at IS NULL'), sqlite_where=sa.text('replaced_at IS NULL'))
    op.create_table('playbook_step_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=16), nullable=False),
    sa.Column('optional', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('acted_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wolf_told_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['acted_by_id'], ['users.id'], name=op.f('fk_playbook_step_runs_acted_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_playbook_step_runs_incident_id_incidents')),
    sa.ForeignKeyConstraint(['run_id'], ['playbook_runs.id'], name=op.f('fk_playbook_step_runs_run_id_playbook_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_step_runs')),
    sa.UniqueConstraint('run_id', 'step_id', name=op.f('uq_playbook_step_runs_run_id'))
    )
    op.create_index(op.f('ix_playbook_step_runs_due_at'), 'playbook_step_runs', ['due_at'], unique=False)
    op.create_index(op.f('ix_playbook_step_runs_incident_id'), 'playbook_step_runs', ['incident_id'], unique=False)
    op.create_index(op.f('ix_playbook_step_runs_run_id'), 'playbook_step_runs', ['run_id'], unique=False)
    op.create_index(op.f('ix_playbook_step_runs_state'), 'playbook_step_runs', ['state'], unique=False)
    op.create_table('playbook_step_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_run_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_playbook_step_notes_author_id_users')),
    sa.ForeignKeyConstraint(['step_run_id'], ['playbook_step_runs.id'], name=op.f('fk_playbook_step_notes_step_run_id_playbook_step_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_step_notes'))
    )
    op.create_index(op.f('ix_playbook_step_notes_step_run_id'), 'playbook_step_notes', ['step_run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_playbook_step_notes_step_run_id'), table_name='playbook_step_notes')
    op.drop_table('playbook_step_notes')
    op.drop_index(op.f('ix_playbook_step_runs_state'), table_name='playbook_step_runs')
    op.drop_index(op.f('ix_playbook_step_runs_run_id'), table_name='playbook_step_runs')
    op.drop_index(op.f('ix_playbook_step_runs_incident_id'), table_name='playbook_step_runs')
    op.drop_index(op.f('ix_playbook_step_runs_due_at'), table_name='playbook_step_runs')
    op.drop_table('playbook_step_runs')
    op.drop_index('uq_playbook_runs_one_current', table_name='playbook_runs')
    op.drop_index(op.f('ix_playbook_runs_incident_id'), table_name='playbook_runs')
    op.drop_table('playbook_runs')
