"""Open Badges 3.0 API: OAuth clients, grants, tokens, hosted credentials (issue 19).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

``ob_clients`` (hosts registered dynamically), ``ob_sign_ins`` (learners'
one-time sign-in links), ``ob_codes`` and ``ob_tokens`` (the authorization code
grant and its tokens) keep SHA-256 hashes of every secret they hand out.
``hosted_credentials`` and ``ob_profiles`` are what hosts pushed for this
site's learners; ``ob_hosts`` is this instance's own registrations with hosts
(``badgesmith push``), sealed with a key derived from the instance secret.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def _table(name: str, *columns: sa.Column, unique: tuple[str, ...] = (), constraints: tuple = ()) -> None:
    op.create_table(
        name,
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=f"fk_{name}_issuer_id_issuers"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        *(sa.UniqueConstraint(column, name=f"uq_{name}_{column}") for column in unique),
        *constraints,
    )


def upgrade() -> None:
    _table("ob_clients",
           sa.Column("client_id", sa.String(64), nullable=False),
           sa.Column("secret_hash", sa.String(64), nullable=False),
           sa.Column("client_metadata", sa.JSON(), nullable=False),
           sa.Column("created_at", TIMESTAMP, nullable=False),
           sa.Column("revoked_at", TIMESTAMP, nullable=True),
           unique=("client_id",))
    op.create_index("ix_ob_clients_issuer_id", "ob_clients", ["issuer_id"])
    _table("ob_sign_ins",
           sa.Column("token_hash", sa.String(64), nullable=False),
           sa.Column("email", sa.String(254), nullable=False),
           sa.Column("request", sa.JSON(), nullable=False),
           sa.Column("created_at", TIMESTAMP, nullable=False),
           sa.Column("expires_at", TIMESTAMP, nullable=False),
           sa.Column("used_at", TIMESTAMP, nullable=True),
           unique=("token_hash",))
    op.create_index("ix_ob_sign_ins_issuer_id", "ob_sign_ins", ["issuer_id"])
    _table("ob_codes",
           sa.Column("code_hash", sa.String(64), nullable=False),
           sa.Column("client_id", sa.String(64), nullable=False),
           sa.Column("email", sa.String(254), nullable=False),
           sa.Column("redirect_uri", sa.String(2000), nullable=False),
           sa.Column("scope", sa.String(1000), nullable=False),
           sa.Column("code_challenge", sa.String(128), nullable=False),
           sa.Column("code_challenge_method", sa.String(10), nullable=False),
           sa.Column("created_at", TIMESTAMP, nullable=False),
           sa.Column("expires_at", TIMESTAMP, nullable=False),
           sa.Column("used_at", TIMESTAMP, nullable=True),
           unique=("code_hash",))
    op.create_index("ix_ob_codes_issuer_id", "ob_codes", ["issuer_id"])
    _table("ob_tokens",
           sa.Column("access_hash", sa.String(64), nullable=False),
           sa.Column("refresh_hash", sa.String(64), nullable=True),
           sa.Column("client_id", sa.String(64), nullable=False),
           sa.Column("email", sa.String(254), nullable=False),
           sa.Column("scope", sa.String(1000), nullable=False),
           sa.Column("issued_at", TIMESTAMP, nullable=False),
           sa.Column("expires_at", TIMESTAMP, nullable=False),
           sa.Column("refresh_expires_at", TIMESTAMP, nullable=True),
           sa.Column("revoked_at", TIMESTAMP, nullable=True),
           sa.Column("code_hash", sa.String(64), nullable=True),
           unique=("access_hash", "refresh_hash"))
    op.create_index("ix_ob_tokens_issuer_id", "ob_tokens", ["issuer_id"])
    op.create_index("ix_ob_tokens_code_hash", "ob_tokens", ["code_hash"])
    op.create_index("ix_ob_tokens_client_id", "ob_tokens", ["client_id"])
    _table("hosted_credentials",
           sa.Column("lookup_key", sa.String(200), nullable=False),
           sa.Column("credential_issuer", sa.String(1000), nullable=False),
           sa.Column("credential_id", sa.String(1000), nullable=False),
           sa.Column("format", sa.String(10), nullable=False),
           sa.Column("credential", sa.Text(), nullable=False),
           sa.Column("valid_from", sa.String(64), nullable=True),
           sa.Column("created_at", TIMESTAMP, nullable=False),
           sa.Column("updated_at", TIMESTAMP, nullable=False),
           constraints=(sa.UniqueConstraint("issuer_id", "lookup_key", "credential_issuer", "credential_id",
                                            name="uq_hosted_credentials_identity"),))
    _table("ob_profiles",
           sa.Column("lookup_key", sa.String(200), nullable=False),
           sa.Column("profile", sa.JSON(), nullable=False),
           sa.Column("updated_at", TIMESTAMP, nullable=False),
           constraints=(sa.UniqueConstraint("issuer_id", "lookup_key", name="uq_ob_profiles_issuer_id_lookup_key"),))
    _table("ob_hosts",
           sa.Column("base_url", sa.String(2000), nullable=False),
           sa.Column("lookup_key", sa.String(200), nullable=False),
           sa.Column("sealed", sa.Text(), nullable=False),
           sa.Column("updated_at", TIMESTAMP, nullable=False),
           constraints=(sa.UniqueConstraint("issuer_id", "base_url", "lookup_key",
                                            name="uq_ob_hosts_issuer_id_base_url_lookup_key"),))


def downgrade() -> None:
    for name in ("ob_hosts", "ob_profiles", "hosted_credentials", "ob_tokens", "ob_codes", "ob_sign_ins",
                 "ob_clients"):
        op.drop_table(name)
