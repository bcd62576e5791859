"""Status lists as their issuer signed them, for the rest of an association (README "verify inside an instance").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

A status list is signed on demand with its issuer's key, which only that
division holds. Each division now keeps the text it last published here, with
the list version it was signed at, so that ``badgesmith verify`` inside the
association (or a sibling division) can serve the list from the shared
database before the division's site is live.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "signed_status_lists",
        sa.Column("status_list_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["status_list_id"], ["status_lists.id"],
                                name="fk_signed_status_lists_status_list_id_status_lists"),
        sa.PrimaryKeyConstraint("status_list_id", name="pk_signed_status_lists"),
    )


def downgrade() -> None:
    op.drop_table("signed_status_lists")
