"""Schema migrations with Alembic, run from Python: `flask db upgrade` and tests share it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def _run(engine: Engine, action, *args) -> None:  # type: ignore[no-untyped-def]
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config, *args)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, command.downgrade, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision from the models (for developers)."""
    _run(engine, lambda cfg, msg: command.revision(cfg, message=msg, autogenerate=True), message)


def current(engine: Engine) -> None:
    _run(engine, command.current)
