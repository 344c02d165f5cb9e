"""What every benchmark needs of PostgreSQL before it migrates: its own database, created if missing."""

from __future__ import annotations

from urllib.parse import urlsplit


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database that `database_url` names if it does not exist yet (other URLs: nothing)."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg

    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
