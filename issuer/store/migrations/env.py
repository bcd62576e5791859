"""Alembic environment for the registry.

``Registry.migrate()`` builds the Alembic ``Config`` in code and hands over
an open connection in ``config.attributes["connection"]``, so no alembic.ini
is needed and this works from an installed package. Run by hand with
``alembic -x url=sqlite:///path upgrade head`` (the ``-x url`` fallback).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from issuer.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over the caller's connection, or open one from ``-x url=…``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as connection:
        _configure(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; pass a database URL.")
run_migrations_online()
