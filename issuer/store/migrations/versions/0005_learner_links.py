"""Learner links: unguessable, revocable links to a learner's page (issue 7).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

Only a SHA-256 of each token is stored; a revoked link keeps its row
(``revoked_at``) so the page stays gone and the history stays readable.
Written out in full, like 0001, so it keeps describing this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "learner_links",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("lookup_key", sa.String(200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name="fk_learner_links_issuer_id_issuers"),
        sa.PrimaryKeyConstraint("id", name="pk_learner_links"),
        sa.UniqueConstraint("token_hash", name="uq_learner_links_token_hash"),
    )
    op.create_index("ix_learner_links_issuer_id_lookup_key", "learner_links", ["issuer_id", "lookup_key"])


def downgrade() -> None:
    op.drop_index("ix_learner_links_issuer_id_lookup_key", table_name="learner_links")
    op.drop_table("learner_links")
