"""OAuth 2.0 client credentials for the VC API (issue 8).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the feature that owns this revision."""


def downgrade() -> None:
    """Filled in by the feature that owns this revision."""
