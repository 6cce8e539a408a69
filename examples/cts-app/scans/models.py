"""Package scans, and one PollRun row per poll the beat schedule triggers."""

from django.conf import settings
from django.db import models
from django.utils import timezone


def scan_upload_to(scan, filename):
    """Uploads land in MEDIA_ROOT/scans/<instance>/ (MEDIA_ROOT may be shared by instances)."""
    return f"scans/{settings.CTS_INSTANCE}/{filename}"


class PackageScan(models.Model):
    """One scan of a package, as the poll would import it (the original came from Ona forms)."""

    package_code = models.CharField(max_length=64, db_index=True)
    scanned_at = models.DateTimeField(default=timezone.now)
    upload = models.FileField(upload_to=scan_upload_to, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-scanned_at"]

    def __str__(self):
        return f"{self.package_code} @ {self.scanned_at:%Y-%m-%d %H:%M}"


class PollRun(models.Model):
    """One row per run of scans.tasks.poll_package_scans."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    new_scans = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"poll {self.started_at:%Y-%m-%d %H:%M:%S}: {self.new_scans} new"
