"""The flask CLI is the operator's, with no roles: whoever has a shell on the server and its
environment. What an operator changes is still on the record: every command that changes data
leaves an audit row by "cli", and every command is named in the README's Security section."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click
import pytest
from flask import Flask
from sqlalchemy import func, select

from bot import create_app
from bot.db import db
from bot.models import AuditLog, InviteCode
from bot.services import fiscal
from tests.test_invites import create_code
from tests.test_standard import edition_2570, write

README = Path(__file__).resolve().parent.parent / "README.md"

# Every registered command, by what it does to data. A new command must be put in one of them.
CHANGES = {
    "db upgrade",
    "db downgrade",
    "invite create",
    "invite revoke",
    "standard load",
    "richmenu sync",
    "demo seed",
}
READS = {"db current", "invite list", "standard show"}
# Runs the event workers: each change it makes is a handler's, audited under the person whose
# event it handles.
PROCESSES = {"worker"}


def commands(app: Flask) -> set[str]:
    found = set()
    for name, command in app.cli.commands.items():
        if isinstance(command, click.Group):
            found |= {f"{name} {sub}" for sub in command.commands}
        else:
            found.add(name)
    return found


def cli_rows() -> list[tuple[str, str | None]]:
    with db.transaction() as session:
        rows = session.execute(
            select(AuditLog.action, AuditLog.entity_id)
            .where(AuditLog.actor_label == "cli")
            .order_by(AuditLog.id)
        )
        return [tuple(row) for row in rows]


def run(runner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_sorted_by_what_it_does_to_data(app):
    assert commands(app) == CHANGES | READS | PROCESSES


def test_every_command_is_stated_in_the_readme_security_section(app):
    text = README.read_text(encoding="utf-8")
    found = re.search(r"^## Security\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert found, "README.md has no '## Security' section"
    section = found.group(1)
    missing = sorted(c for c in commands(app) if f"`{c}`" not in section)
    assert not missing, f"commands not stated in README's Security section: {missing}"
    assert '"cli"' in section


def test_each_command_that_changes_data_leaves_a_row_by_cli(runner, tmp_path):
    year = fiscal.year_of(date.today())
    create_code(runner, "officer", "3801")
    run(runner, "invite", "create", "--role", "province", "--area", "38")
    with db.transaction() as session:
        last = str(session.scalar(select(func.max(InviteCode.id))))
    run(runner, "invite", "revoke", last)
    run(runner, "standard", "load", write(tmp_path, edition_2570()), "--year", str(year))
    run(runner, "richmenu", "sync")
    run(runner, "db", "upgrade")
    assert [action for action, _ in cli_rows()] == [
        "invite.create",
        "invite.create",
        "invite.revoke",
        "standard.load",
        "richmenu.sync",
        "db.upgrade",
    ]
    assert cli_rows()[3] == ("standard.load", str(year))

    # Looking changes nothing, and leaves nothing.
    before = cli_rows()
    run(runner, "invite", "list")
    run(runner, "standard", "show", "--year", str(year))
    run(runner, "db", "current")
    # A dry run and a revoke of a code already revoked change nothing either.
    run(runner, "standard", "load", write(tmp_path, edition_2570()), "--year", "2571", "--dry-run")
    run(runner, "invite", "revoke", last)
    assert cli_rows() == before


def test_demo_seed_is_on_the_record_once(runner):
    """Against the test database only (the demo fills a real one with made-up people)."""
    run(runner, "demo", "seed")
    seeded = [action for action, _ in cli_rows()]
    assert seeded.count("demo.seed") == 1
    assert "invite.create" in seeded  # its staff took their roles with codes, as people do
    run(runner, "demo", "seed")  # already there: nothing changes, nothing more is recorded
    assert [action for action, _ in cli_rows()] == seeded


@pytest.fixture
def own_database(app_config, tmp_path):
    """An app on a database of its own, empty: migrating up and down is not done to the
    database the other tests share."""
    config = dict(app_config, DATABASE_URL=f"sqlite:///{tmp_path / 'operator.db'}")
    app = create_app(config)
    yield app
    db.dispose()


def test_schema_upgrades_and_downgrades_are_on_the_record(own_database):
    runner = own_database.test_cli_runner()
    assert "seeded standard" in run(runner, "db", "upgrade")
    (first,) = cli_rows()
    assert first[0] == "db.upgrade" and first[1]
    head = first[1]
    run(runner, "db", "downgrade", "--", "-1")
    run(runner, "db", "upgrade")
    rows = cli_rows()
    assert [action for action, _ in rows] == ["db.upgrade", "db.downgrade", "db.upgrade"]
    assert rows[1][1] != head and rows[2][1] == head
    with db.transaction() as session:
        down = session.scalar(select(AuditLog).where(AuditLog.action == "db.downgrade"))
        assert down.detail == {"previous": head}
