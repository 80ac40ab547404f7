"""SQLite writers of one process take turns on a lock of their own (bot/db.py `_TurnTaking`)
instead of sleeping in SQLite's busy handler. A turn that is not given back would make every
later write wait out the busy timeout, so each way a transaction can end is tried here."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.db import Database

db_module = sys.modules["bot.db"]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    # Short waits: the failing cases below wait out the whole time-out once.
    monkeypatch.setattr(db_module, "SQLITE_BUSY_SECONDS", 0.3)
    database = Database()
    database.configure(f"sqlite:///{tmp_path / 'turns.db'}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
    yield database
    database.dispose()


def count(database: Database) -> int:
    with database.transaction() as session:
        return int(session.execute(text("SELECT n FROM counter")).scalar_one())


def test_a_transaction_holds_the_turn_until_it_commits(database: Database) -> None:
    turn = database.write_turn
    assert turn is not None and not turn.locked()
    with database.transaction() as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
        assert turn.locked()
    assert not turn.locked()
    assert count(database) == 1


def test_a_failing_transaction_rolls_back_and_gives_the_turn_back(database: Database) -> None:
    with pytest.raises(ZeroDivisionError), database.transaction() as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
        1 / 0  # noqa: B018 - the handler's bug
    assert database.write_turn is not None and not database.write_turn.locked()
    assert count(database) == 0


def test_a_connection_lost_mid_transaction_gives_the_turn_back(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
        session.connection().invalidate()  # what SQLAlchemy does with a broken connection
        raise RuntimeError("connection lost")
    assert database.write_turn is not None and not database.write_turn.locked()
    assert count(database) == 0


def test_another_process_holding_the_database_fails_begin_and_frees_the_turn(
    database: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "turns.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as a worker process writing at that moment would
    try:
        with pytest.raises(OperationalError, match="locked"), database.transaction() as session:
            session.execute(text("UPDATE counter SET n = n + 1"))
        assert database.write_turn is not None and not database.write_turn.locked()
    finally:
        other.execute("ROLLBACK")
        other.close()
    with database.transaction() as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
    assert count(database) == 1


def test_a_transaction_opened_inside_another_fails_instead_of_hanging(
    database: Database,
) -> None:
    with database.transaction() as outer:
        outer.execute(text("UPDATE counter SET n = n + 1"))
        with pytest.raises(OperationalError, match="locked"), database.transaction() as inner:
            inner.execute(text("UPDATE counter SET n = n + 1"))
    assert database.write_turn is not None and not database.write_turn.locked()
    assert count(database) == 1


def test_threads_writing_at_once_each_get_their_turn(database: Database) -> None:
    def add(times: int) -> None:
        for _ in range(times):
            with database.transaction() as session:
                n = session.execute(text("SELECT n FROM counter")).scalar_one()
                session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    threads = [threading.Thread(target=add, args=(50,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert count(database) == 200
    assert database.write_turn is not None and not database.write_turn.locked()
