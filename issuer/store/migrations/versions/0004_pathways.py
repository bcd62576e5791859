"""Pathways and pathway awards (issue 7).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

``pathways`` holds each pathway definition (parsed TOML as JSON);
``pathway_awards`` one row per person and completed pathway, whose unique key
makes a pathway award happen once even with several servers issuing.
Written out in full, like 0001, so it keeps describing this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pathways",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name="fk_pathways_issuer_id_issuers"),
        sa.PrimaryKeyConstraint("id", name="pk_pathways"),
        sa.UniqueConstraint("issuer_id", "slug", name="uq_pathways_issuer_id_slug"),
    )
    op.create_index("ix_pathways_issuer_id", "pathways", ["issuer_id"])
    op.create_table(
        "pathway_awards",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("pathway", sa.String(200), nullable=False),
        sa.Column("lookup_key", sa.String(200), nullable=False),
        sa.Column("credential_id", sa.String(200), nullable=True),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("awarded_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name="fk_pathway_awards_issuer_id_issuers"),
        sa.PrimaryKeyConstraint("id", name="pk_pathway_awards"),
        sa.UniqueConstraint("issuer_id", "lookup_key", "pathway",
                            name="uq_pathway_awards_issuer_id_lookup_key_pathway"),
    )
    op.create_index("ix_pathway_awards_issuer_id", "pathway_awards", ["issuer_id"])
    op.create_index("ix_pathway_awards_credential_id", "pathway_awards", ["credential_id"])
    # Finding one person's credentials is what evaluating pathways does after every issue.
    op.create_index("ix_credentials_issuer_lookup_key", "credentials", ["issuer_id", "lookup_key", "issued_on"])


def downgrade() -> None:
    op.drop_index("ix_credentials_issuer_lookup_key", table_name="credentials")
    op.drop_table("pathway_awards")
    op.drop_table("pathways")
