"""The one Celery app; it reads the CELERY_* Django settings and finds each app's tasks.py.

`enqueue(name, *args)` starts a task by its registered name, so a service that wants work done in
the background need not import the module its task lives in (that module imports the service), and
turns "the broker cannot take it" into one exception the entry points answer (503 on the API).
"""

import os

from celery import Celery
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moodstream.settings")

app = Celery("moodstream")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class QueueUnavailable(Exception):
    """The broker (Redis) did not take the task; the message says why."""


def enqueue(task_name: str, *args) -> None:
    """Send the task registered as `task_name` with `args` (run in-process when tasks are eager).

    Raises QueueUnavailable when the broker cannot be reached (after Celery's own short publish
    retries, about a second against a closed port).
    """
    task = app.tasks.get(task_name)
    if task is None:
        # A web process has not imported the apps' tasks.py yet (a worker does it at start-up).
        app.loader.import_default_modules()
        task = app.tasks[task_name]
    try:
        task.apply_async(args=args)
    except OperationalError as exc:
        raise QueueUnavailable(f"the task queue (Redis) is unreachable: {exc}") from exc
