"""Association and divisions (issue 18).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

An association is an issuer row of its own (``kind`` "association"): its key
signs association-wide transcripts and association pathway awards, so its
achievements, credentials and status lists use the existing tables. A
division's row names its association (``association_id``) and carries the
public brand the association's pages show for it (``brand``). Existing rows
are ordinary issuers that belong to no association.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuers") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="issuer"))
        batch.add_column(sa.Column("association_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                                   nullable=True))
        batch.add_column(sa.Column("brand", sa.JSON(), nullable=True))
        batch.create_foreign_key("fk_issuers_association_id_issuers", "issuers", ["association_id"], ["id"])
        batch.create_index("ix_issuers_association_id", ["association_id"])
    # The association report's one query (issuer/association/report.py) is an index scan with it.
    op.create_index("ix_credentials_report", "credentials",
                    ["issuer_id", "issued_on", "achievement", "status", "superseded_by", "lookup_key",
                     "organization", "credits", "recipient_email", "recipient_name"])


def downgrade() -> None:
    op.drop_index("ix_credentials_report", table_name="credentials")
    with op.batch_alter_table("issuers") as batch:
        batch.drop_index("ix_issuers_association_id")
        batch.drop_constraint("fk_issuers_association_id_issuers", type_="foreignkey")
        batch.drop_column("brand")
        batch.drop_column("association_id")
        batch.drop_column("kind")
