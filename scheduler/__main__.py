"""`python -m scheduler`: the periodic jobs as their own process (production).

It only records and queues; the outbox loops of the web or worker processes send."""

import signal
import sys

from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler import Scheduler
from wsgi import app


def main() -> None:
    scheduler = Scheduler(app.extensions["runtime"])

    def stop(*_: object) -> None:
        scheduler.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    scheduler.start(BlockingScheduler())


if __name__ == "__main__":
    main()
