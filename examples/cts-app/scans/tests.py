"""Run with the instance environment loaded: `python manage.py test` (role needs CREATEDB)."""

from unittest import mock

from django.conf import settings
from django.db import DatabaseError
from django.test import TestCase, override_settings
from django.urls import reverse

from .models import PackageScan, PollRun
from .tasks import poll_package_scans


@override_settings(ALLOWED_HOSTS=["testserver"])
class HealthTests(TestCase):
    def test_ok_under_the_prefix(self):
        PollRun.objects.create()
        url = reverse("health")
        self.assertEqual(url, f"{settings.CTS_URL_PREFIX}/health/")
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content.decode(), f"ok {settings.CTS_INSTANCE} polls=1\n")
        self.assertEqual(response["X-CTS-Instance"], settings.CTS_INSTANCE)

    def test_503_when_the_database_fails(self):
        with mock.patch.object(PollRun.objects, "count", side_effect=DatabaseError("down")):
            response = self.client.get(reverse("health"))
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["X-CTS-Instance"], settings.CTS_INSTANCE)


class PollTests(TestCase):
    def test_each_poll_records_a_run_and_counts_new_scans(self):
        first = PollRun.objects.get(pk=poll_package_scans())
        PackageScan.objects.create(package_code="PKG-1")
        second = PollRun.objects.get(pk=poll_package_scans())
        self.assertEqual((first.new_scans, second.new_scans), (0, 1))
        self.assertIsNotNone(second.finished_at)

    def test_beat_schedule_and_queue_come_from_the_environment(self):
        entry = settings.CELERY_BEAT_SCHEDULE["poll_package_scans"]
        self.assertEqual(entry["task"], "scans.tasks.poll_package_scans")
        self.assertEqual(entry["schedule"], settings.CTS_POLL_INTERVAL)
        self.assertTrue(settings.CELERY_TASK_DEFAULT_QUEUE)
