"""page steps: the playbook steps a notice or reminder is about (dropped unsent once finished)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 00:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_run_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("step_run_ids")
