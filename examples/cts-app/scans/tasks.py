"""Periodic poll, scheduled by the instance's single Celery beat (CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task
from django.utils import timezone

from .models import PackageScan, PollRun

logger = logging.getLogger(__name__)


@shared_task
def poll_package_scans():
    """Record a PollRun with the number of scans created since the previous poll started.

    Stand-in for the original poll that downloaded new form submissions from Ona.
    """
    previous = PollRun.objects.order_by("-started_at").first()
    run = PollRun.objects.create()
    scans = PackageScan.objects.filter(created__lt=run.started_at)
    if previous is not None:
        scans = scans.filter(created__gte=previous.started_at)
    run.new_scans = scans.count()
    run.finished_at = timezone.now()
    run.save(update_fields=["new_scans", "finished_at"])
    logger.info("poll %s: %d new scans", run.pk, run.new_scans)
    return run.pk
