"""monitors and signals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:19:30.033400
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monitors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('detector', sa.JSON(), nullable=False),
    sa.Column('lexicon', sa.JSON(), nullable=False),
    sa.Column('playbook_id', sa.String(length=64), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitors')),
    sa.UniqueConstraint('key', name=op.f('uq_monitors_key'))
    )
    op.create_table('signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('observed', sa.Float(), nullable=False),
    sa.Column('expected', sa.Float(), nullable=False),
    sa.Column('significance', sa.Float(), nullable=False),
    sa.Column('negative_share', sa.Float(), nullable=False),
    sa.Column('negative_baseline', sa.Float(), nullable=False),
    sa.Column('reach', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_signals_incident_id_incidents')),
    sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'], name=op.f('fk_signals_monitor_id_monitors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals'))
    )
    op.create_index(op.f('ix_signals_incident_id'), 'signals', ['incident_id'], unique=False)
    op.create_index(op.f('ix_signals_monitor_id'), 'signals', ['monitor_id'], unique=False)
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('monitor_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_incidents_monitor_id_monitors'), 'monitors', ['monitor_id'], ['id'])
    op.create_index(op.f('ix_incidents_monitor_id'), 'incidents', ['monitor_id'], unique=False)
    # one firestorm is one incident: at most one open incident per monitor
    op.create_index('uq_incidents_one_open_per_monitor', 'incidents', ['monitor_id'], unique=True, postgresql_where=sa.text("status IN ('triggered', 'acknowledged')"), sqlite_where=sa.text("status IN ('triggered', 'acknowledged')"))


def downgrade() -> None:
    op.drop_index('uq_incidents_one_open_per_monitor', table_name='incidents')
    op.drop_index(op.f('ix_incidents_monitor_id'), table_name='incidents')
    with op.batch_alter_table('incidents') as batch:
        batch.drop_constraint(op.f('fk_incidents_monitor_id_monitors'), type_='foreignkey')
        batch.drop_column('monitor_id')
    op.drop_index(op.f('ix_signals_monitor_id'), table_name='signals')
    op.drop_index(op.f('ix_signals_incident_id'), table_name='signals')
    op.drop_table('signals')
    op.drop_table('monitors')
