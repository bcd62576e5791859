"""Store the recipient's e-mail address with the credential (the issuer's own record).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Reports for accrediting bodies, renewal notices and pathway awards need the
address; the credential itself keeps only the salted hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("recipient_email", sa.String(254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("recipient_email")
