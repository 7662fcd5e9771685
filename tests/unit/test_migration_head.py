"""The store knows the newest schema revision from the file names (so a command on a schema
already at the head never loads alembic); alembic must agree."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from core.store.db import HEAD, MIGRATIONS, Database


def test_the_newest_file_is_alembics_only_head():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


def test_a_new_database_is_migrated_to_the_head(tmp_path):
    db = Database(create_engine(f"sqlite:///{tmp_path}/trading.db"))
    assert db.schema_version() is None
    db.migrate()
    assert db.schema_version() == HEAD
    assert "positions" in inspect(db.engine).get_table_names()
    db.dispose()
