"""Connected apps: each host's grant of access to one learner (issue 19's gap).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

``ob_grants`` is one learner's consent to one host: when it was given, the
scopes, when the host last used it, and when the learner withdrew it. Every
token the grant leads to (the first, and each refresh) names it
(``ob_tokens.grant_id``), so withdrawing stops them all at once, and a token
a racing refresh makes just after a withdrawal is refused too: a token is
good only while its grant is.

Tokens made before this revision get one grant per host and e-mail address
(the earliest token's time as when it was granted). ``lookup_key`` (the
learner, an HMAC of the address) needs the instance's lookup secret, which a
migration does not have: the application fills it in for those rows the
first time it lists or withdraws a learner's grants
(``issuer.records.connected_apps``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ob_grants",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("lookup_key", sa.String(200), nullable=True),
        sa.Column("scope", sa.String(1000), nullable=False),
        sa.Column("granted_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("withdrawn_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name="fk_ob_grants_issuer_id_issuers"),
        sa.PrimaryKeyConstraint("id", name="pk_ob_grants"),
    )
    op.create_index("ix_ob_grants_issuer_id_lookup_key", "ob_grants", ["issuer_id", "lookup_key"])
    op.add_column("ob_tokens", sa.Column("grant_id", BIG_ID, nullable=True))
    op.create_index("ix_ob_tokens_grant_id", "ob_tokens", ["grant_id"])
    op.execute("INSERT INTO ob_grants (issuer_id, client_id, email, scope, granted_at) "
               "SELECT issuer_id, client_id, email, MAX(scope), MIN(issued_at) FROM ob_tokens "
               "GROUP BY issuer_id, client_id, email")
    op.execute("UPDATE ob_tokens SET grant_id = (SELECT g.id FROM ob_grants g WHERE g.issuer_id = ob_tokens.issuer_id "
               "AND g.client_id = ob_tokens.client_id AND g.email = ob_tokens.email)")


def downgrade() -> None:
    op.drop_index("ix_ob_tokens_grant_id", table_name="ob_tokens")
    with op.batch_alter_table("ob_tokens") as batch:
        batch.drop_column("grant_id")
    op.drop_index("ix_ob_grants_issuer_id_lookup_key", table_name="ob_grants")
    op.drop_table("ob_grants")
