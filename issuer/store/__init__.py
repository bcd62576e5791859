"""The registry: SQLAlchemy tables (``models``), the queries and transactions
(``registry``) and the Alembic migrations (``migrations/``), for SQLite and PostgreSQL.
"""
