"""`python -m scheduler`: the periodic jobs as their own process."""

from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler import create_scheduler
from wsgi import app

if __name__ == "__main__":
    create_scheduler(app, BlockingScheduler()).start()
