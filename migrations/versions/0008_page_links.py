"""phone link tokens, the approval a message is about, resolution SMS per policy

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_page_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_page_links_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_page_links_token_hash")),
    )
    with op.batch_alter_table("page_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_page_links_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_page_links_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notify_resolved", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.drop_column("notify_resolved")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("approval_id")
    with op.batch_alter_table("page_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_links_user_id"))
        batch_op.drop_index(batch_op.f("ix_page_links_incident_id"))
    op.drop_table("page_links")
