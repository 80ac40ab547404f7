"""gunicorn settings; every one can be overridden on the command line or with GUNICORN_CMD_ARGS.

Each worker process runs the web app plus its own event workers and outbox sender. The
scheduler runs in the processes where RUN_SCHEDULER is true (the single-process default).
The master runs the one inbox writer process that every worker's webhook commits through.
"""

import os
from pathlib import Path

from bot.config import environment

_env = environment()
# No LINE channel: the emulator, whose fake LINE and chats live in one process.
EMULATOR = not (_env.get("LINE_CHANNEL_SECRET") or _env.get("LINE_CHANNEL_ACCESS_TOKEN"))
if not _env.get("INBOX_WRITER"):
    # Webhook events are committed by a writer process, so that answering LINE does not wait
    # for the interpreter lock (bot/inbox_process.py); the master runs one for all workers.
    os.environ["INBOX_WRITER"] = "process"

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = 1 if EMULATOR else int(os.environ.get("WEB_CONCURRENCY", "1"))
# WEB_WORKER_CLASS=gevent suits web processes that only store and answer (RUN_WORKERS=0) while
# the event workers run on other machines: a request then mostly waits for the inbox writer's
# commit, and greenlets switch at that wait where threads each woke to wait for the interpreter
# lock (bench/RESULTS.md, 2026-11-25: 3,800-4,000 requests/s with p99 29-32 ms against
# 2,800-3,300 and 50-66 ms). Not the default: with worker processes on the same cores gevent
# did worse (1,800-2,000 against 2,200-2,300), and handlers in a gevent loop would hold up
# every request of their process.
worker_class = os.environ.get("WEB_WORKER_CLASS") or "gthread"
if worker_class not in ("gthread", "gevent"):
    # SystemExit, not an exception: gunicorn would print a traceback for one of those.
    raise SystemExit(
        f"configuration error: WEB_WORKER_CLASS must be gthread or gevent, not {worker_class!r}"
    )
# gthread: requests mostly wait (on the inbox writer's group commit); more threads make bigger
# batches.
threads = int(os.environ.get("WEB_THREADS", "32"))
timeout = 30
accesslog = "-" if os.environ.get("ACCESS_LOG") == "1" else None
# gunicorn's control socket defaults to one path per user; two instances would fight over it.
control_socket_disable = True


def when_ready(server):  # type: ignore[no-untyped-def]
    shared = os.environ.get("INBOX_WRITER", _env.get("INBOX_WRITER")) == "process"
    if not shared or _env.get("INBOX_WRITER_SOCKET"):
        return
    from bot.config import ConfigError, database_url_of
    from bot.inbox_process import start_server_writer

    try:
        url = database_url_of(_env, Path(__file__).resolve().parent / "instance")
    except ConfigError:
        return  # each worker stops with the one-line error itself
    # Read by the workers' config (bot/config.py); they are forked after this.
    os.environ["INBOX_WRITER_SOCKET"] = start_server_writer(url)


# The master's writer is kept in bot.inbox_process, not here: a reload (SIGHUP) runs this
# file again, and whatever it held would be forgotten while the writer goes on.
def post_fork(server, worker):  # type: ignore[no-untyped-def]
    from bot.inbox_process import server_writer

    if (writer := server_writer()) is not None:
        writer.child.forget()  # the writer ends with the master, not with the last worker


def on_exit(server):  # type: ignore[no-untyped-def]
    from bot.inbox_process import server_writer

    if (writer := server_writer()) is not None:
        writer.stop()


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    app = worker.wsgi
    runtime = app.extensions["runtime"]
    runtime.start(
        workers=os.environ.get("RUN_WORKERS", "1") == "1",
        scheduler=app.config["RUN_SCHEDULER"],
    )
    if "emulator" in app.extensions:
        from bot import emulator

        host, _, port = worker.cfg.bind[0].rpartition(":")
        host = "127.0.0.1" if host in ("0.0.0.0", "", "[::]") else host
        emulator.start(app, f"http://{host}:{port}")


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    extensions = worker.wsgi.extensions if getattr(worker, "wsgi", None) else {}
    if extensions.get("runtime"):
        extensions["runtime"].stop()
    if extensions.get("inbox_writer"):
        extensions["inbox_writer"].stop()
