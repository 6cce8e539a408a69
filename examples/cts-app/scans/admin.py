from django.contrib import admin

from .models import PackageScan, PollRun


@admin.register(PackageScan)
class PackageScanAdmin(admin.ModelAdmin):
    list_display = ["package_code", "scanned_at", "upload", "created"]
    search_fields = ["package_code"]


@admin.register(PollRun)
class PollRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "new_scans"]
