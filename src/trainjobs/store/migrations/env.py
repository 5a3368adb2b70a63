"""Alembic environment: runs on the connection the service hands it."""

from alembic import context

from trainjobs.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # invoked from the alembic command line
    import sqlalchemy as sa

    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
