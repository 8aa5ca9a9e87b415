"""verification codes out of the database: mask the codes of older verification pages

Codes are now derived when the SMS is sent (an HMAC of the page), so a verification page keeps
its text with the code masked. Older pages still holding a code in the clear are masked; those
not sent yet are expired (their code was checked against a digest that is no longer used), and
the person asks for a new code.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MASKED = "Firebreak verification code: ******. It expires in 10 minutes."

pages = sa.table(
    "pages",
    sa.column("kind", sa.String),
    sa.column("body", sa.Text),
    sa.column("status", sa.String),
    sa.column("error", sa.String),
)


def upgrade() -> None:
    legacy = sa.and_(pages.c.kind == "verify", pages.c.body != MASKED)
    op.execute(
        pages.update()
        .where(legacy, pages.c.status.in_(["pending", "sending"]))
        .values(status="expired", error="superseded when codes left the database; ask again")
    )
    op.execute(pages.update().where(legacy).values(body=MASKED))


def downgrade() -> None:
    pass  # a masked code cannot be restored, and need not be: it is no longer valid
