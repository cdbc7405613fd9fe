"""Alembic environment: runs the project's migrations against the configured store.

Run through `service.db.migrate()` (which first lets the eventsourcing library create its
own tables), or `alembic -c migrations/alembic.ini upgrade head` with LEDGER_DATABASE_URL set.
"""

from alembic import context

from service.db import create_library_tables, make_engine, metadata
from service.settings import Settings

config = context.config
settings = config.attributes.get("settings") or Settings()
engine = config.attributes.get("engine")
if engine is None:
    create_library_tables(settings)
    engine = make_engine(settings)

schema = settings.database_schema if settings.store == "postgresql" else None

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        render_as_batch=settings.store == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
