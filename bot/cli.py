"""`flask --app wsgi ...` commands: db, invite, richmenu, standard, demo, worker.

They are for operators with a shell on the server and its environment; there are no roles
here. Every command that changes data leaves an audit row with actor_label "cli" (README,
"Security"; tests/test_cli_audit.py).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import click
from alembic.runtime.migration import MigrationContext
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from bot import migrate
from bot.db import db
from bot.models import InviteCode, utcnow
from bot.services import areas, audit, invites, standard

db_cli = AppGroup("db", help="Database schema.")
invite_cli = AppGroup("invite", help="Invite codes for officers and province staff.")
richmenu_cli = AppGroup("richmenu", help="Rich menus on LINE.")
standard_cli = AppGroup("standard", help="The standard's areas and components per fiscal year.")
demo_cli = AppGroup("demo", help="Demo data for the emulator and for training.")

CLI = "cli"  # the actor of an operator's change: a shell has no user


def _audit(
    session: Session, action: str, entity: str, entity_id: object = None, **detail: Any
) -> None:
    audit.record(session, action, entity, entity_id, actor_label=CLI, **detail)


def _revision() -> str | None:
    assert db.engine is not None
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Bring the database to the latest schema and seed the default standard."""
    assert db.engine is not None
    before = _revision() if inspect(db.engine).has_table("alembic_version") else None
    migrate.upgrade(db.engine, revision)
    after = _revision()
    with db.transaction() as session:
        seeded = standard.seed_default(session)
        _audit(
            session,
            "db.upgrade",
            "schema",
            after,
            previous=before,
            seeded=seeded.code if seeded else None,
        )
    click.echo("database is up to date" + (f"; seeded standard {seeded.code}" if seeded else ""))


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    assert db.engine is not None
    before = _revision()
    migrate.downgrade(db.engine, revision)
    if not inspect(db.engine).has_table("audit_log"):
        # Down to before the audit log: the record of the downgrade goes with everything else.
        click.echo(f"downgraded from {before}; no audit log at this revision")
        return
    after = _revision()
    with db.transaction() as session:
        _audit(session, "db.downgrade", "schema", after, previous=before)


@db_cli.command("current")
def db_current() -> None:
    assert db.engine is not None
    migrate.current(db.engine)


@invite_cli.command("create")
@click.option("--role", type=click.Choice(sorted(invites.INVITE_ROLES)), required=True)
@click.option(
    "--area", "area_code", required=True, help="District code (officer) or province code."
)
@click.option("--note", default=None, help="Whom it is for, for `invite list`.")
def invite_create(role: str, area_code: str, note: str | None) -> None:
    """Create a single-use code valid 7 days; the code is the last line printed."""
    try:
        with db.transaction() as session:
            code = invites.create(session, role, area_code.strip(), note)
    except invites.InviteError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"{role} invite for {areas.label(area_code)} ({area_code}), valid 7 days:")
    click.echo(code)


@invite_cli.command("list")
def invite_list() -> None:
    now = utcnow()
    with db.transaction() as session:
        rows = session.scalars(select(InviteCode).order_by(InviteCode.id)).all()
        for invite in rows:
            click.echo(
                f"{invite.id}\t{invite.role}\t{invite.area_code}\t{invites.status(invite, now)}"
                f"\texpires {invite.expires_at:%Y-%m-%d %H:%M} UTC\t{invite.note or ''}"
            )
    if not rows:
        click.echo("no invite codes")


@invite_cli.command("revoke")
@click.argument("invite_id", type=int)
def invite_revoke(invite_id: int) -> None:
    try:
        with db.transaction() as session:
            invite = invites.revoke(session, invite_id)
            click.echo(f"invite {invite.id}: {invites.status(invite, utcnow())}")
    except invites.InviteError as exc:
        raise click.UsageError(str(exc)) from None


@standard_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, required=True, help="Fiscal year (BE), e.g. 2570.")
@click.option("--dry-run", is_flag=True, help="Validate and show the changes; save nothing.")
def standard_load(path: Path, year: int, dry_run: bool) -> None:
    """Validate a standard file and make it the edition of a fiscal year's new plans."""
    if not 2500 <= year <= 2700:
        raise click.UsageError("--year is a Buddhist Era year such as 2570")
    try:
        spec = standard.read(path)
        with db.transaction() as session:
            _, changes = standard.load_for_year(session, spec, year)
            if dry_run:
                session.rollback()
            else:
                _audit(
                    session,
                    "standard.load",
                    "fiscal_year",
                    year,
                    edition=spec.code,
                    changes=len(changes),
                )
    except standard.StandardError as exc:
        raise click.ClickException(f"{path} was not loaded:\n{exc}") from None
    for line in changes or ["no changes"]:
        click.echo(line)
    verb = "would use" if dry_run else "now uses"
    click.echo(f"fiscal year {year} {verb} edition {spec.code}; existing plans keep theirs")


@standard_cli.command("show")
@click.option("--year", type=int, required=True, help="Fiscal year (BE), e.g. 2570.")
def standard_show(year: int) -> None:
    """Print the edition a fiscal year's new plans use."""
    with db.transaction() as session:
        version = standard.for_year(session, year)
        click.echo(f"{year}: {version.code} {version.title}")
        for area in version.areas:
            click.echo(f"  {area.code} {area.name_th}")
            for component in area.components:
                click.echo(f"    {component.code} {component.name_th}")


@richmenu_cli.command("sync")
def richmenu_sync() -> None:
    """Draw, upload and link each role's rich menu."""
    from bot import richmenu

    runtime = current_app.extensions["runtime"]
    with db.transaction() as session:
        lines = richmenu.sync(session, runtime.gateway)
        _audit(session, "richmenu.sync", "richmenu", summary=lines[:20])
    for line in lines:
        click.echo(line)


@demo_cli.command("seed")
def demo_seed() -> None:
    """Fill the database with a demo of Bueng Kan province (38): staff and leaders at every
    stage of the current fiscal year. A database that has the demo already is left alone."""
    from bot import clock, demo

    storage = current_app.extensions["runtime"].storage
    try:
        with db.transaction() as session:
            report = demo.seed(session, storage, now=clock.now())
            if report != [demo.ALREADY_THERE]:
                _audit(session, "demo.seed", "demo", demo.PROVINCE, people=len(demo.PEOPLE))
    except standard.StandardError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report:
        click.echo(line)


@click.command("worker")
@click.option("--scheduler/--no-scheduler", default=False, help="Also run the scheduler here.")
@click.option(
    "--nice",
    type=click.IntRange(0, 19),
    default=10,
    show_default=True,
    help="Lower CPU priority, so web processes on the same machine answer LINE first.",
)
def worker(scheduler: bool, nice: int) -> None:
    """Handle stored webhook events in this process (for deployments with separate workers)."""
    os.nice(nice)
    runtime = current_app.extensions["runtime"]
    runtime.start(workers=True, scheduler=scheduler)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    click.echo(f"handling events with {runtime.workers.count} threads; Ctrl-C stops")
    stop.wait()
    runtime.stop()


def init_app(app: Flask) -> None:
    for command in (db_cli, invite_cli, richmenu_cli, standard_cli, demo_cli, worker):
        app.cli.add_command(command)
