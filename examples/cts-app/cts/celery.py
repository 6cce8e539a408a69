"""Celery app `cts.celery:app`. Its configuration is the CELERY_* block of cts.settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cts.settings")

app = Celery("cts")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
