"""oncall rotations and overrides

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:41:02.849210

Rotations (ordered members taking shifts from a hand-off time) and time-boxed
overrides: who is the Wolf, and who is legal, at any time. Only new tables, so no
batch ALTER is needed for SQLite.
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rotations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('handoff_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shift_seconds', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose IN ('wolf', 'legal', 'other')", name=op.f('ck_rotations_purpose_known')),
    sa.CheckConstraint('shift_seconds >= 60', name=op.f('ck_rotations_shift_at_least_a_minute')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rotations')),
    sa.UniqueConstraint('key', name=op.f('uq_rotations_key'))
    )
    op.create_index(op.f('ix_rotations_purpose'), 'rotations', ['purpose'], unique=False)
    op.create_table('oncall_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rotation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_oncall_overrides_ends_after_starts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_oncall_overrides_created_by_id_users')),
    sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], name=op.f('fk_oncall_overrides_rotation_id_rotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oncall_overrides_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_overrides'))
    )
    op.create_index('ix_oncall_overrides_rotation_window', 'oncall_overrides', ['rotation_id', 'ends_at', 'starts_at'], unique=False)
    op.create_index(op.f('ix_oncall_overrides_user_id'), 'oncall_overrides', ['user_id'], unique=False)
    op.create_table('rotation_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rotation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], name=op.f('fk_rotation_members_rotation_id_rotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_rotation_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rotation_members')),
    sa.UniqueConstraint('rotation_id', 'position', name='uq_rotation_members_position'),
    sa.UniqueConstraint('rotation_id', 'user_id', name='uq_rotation_members_user')
    )
    op.create_index(op.f('ix_rotation_members_user_id'), 'rotation_members', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rotation_members_user_id'), table_name='rotation_members')
    op.drop_table('rotation_members')
    op.drop_index(op.f('ix_oncall_overrides_user_id'), table_name='oncall_overrides')
    op.drop_index('ix_oncall_overrides_rotation_window', table_name='oncall_overrides')
    op.drop_table('oncall_overrides')
    op.drop_index(op.f('ix_rotations_purpose'), table_name='rotations')
    op.drop_table('rotations')
