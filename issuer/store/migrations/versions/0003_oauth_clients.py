"""OAuth 2.0 client credentials for the VC API, and credentials issued through it (issue 8).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

``oauth_clients`` holds the API's clients (a salted scrypt hash of each
secret, never the secret). A credential issued through the W3C VC API is any
verifiable credential: it has no achievement and no e-mail recipient, and a
revocation entry only when the caller asks for one, so those columns of
``credentials`` become nullable. (On SQLite this rebuilds the table; the
registry turns foreign-key enforcement off for the rebuild, as Alembic's
batch mode requires.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
# (column, type) of the credentials columns a VC API credential leaves empty.
_NULLABLE = (("achievement", sa.String(200)), ("recipient_hash", sa.String(200)),
             ("lookup_key", sa.String(200)), ("status_list_id", BIG_ID), ("status_index", sa.Integer()))


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(300), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name="fk_oauth_clients_issuer_id_issuers"),
        sa.PrimaryKeyConstraint("id", name="pk_oauth_clients"),
        sa.UniqueConstraint("client_id", name="uq_oauth_clients_client_id"),
        sa.UniqueConstraint("issuer_id", "name", name="uq_oauth_clients_issuer_id_name"),
    )
    op.create_index("ix_oauth_clients_issuer_id", "oauth_clients", ["issuer_id"])
    with op.batch_alter_table("credentials") as batch:
        for name, type_ in _NULLABLE:
            batch.alter_column(name, existing_type=type_, nullable=True)


def downgrade() -> None:
    # Credentials issued through the VC API cannot be kept in the older schema.
    op.execute("DELETE FROM events WHERE credential_id IN (SELECT id FROM credentials WHERE achievement IS NULL)")
    op.execute("DELETE FROM status_allocations WHERE credential_id IN "
               "(SELECT id FROM credentials WHERE achievement IS NULL)")
    op.execute("DELETE FROM credentials WHERE achievement IS NULL")
    with op.batch_alter_table("credentials") as batch:
        for name, type_ in _NULLABLE:
            batch.alter_column(name, existing_type=type_, nullable=False)
    op.drop_index("ix_oauth_clients_issuer_id", table_name="oauth_clients")
    op.drop_table("oauth_clients")
