"""The whole site is mounted under CTS_URL_PREFIX.

nginx forwards ``/TR/...`` unchanged to the turkey instance's gunicorn, so Django sees the prefix
in the path and ``reverse()`` produces prefixed URLs without SCRIPT_NAME tricks.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from scans import views

site = [
    path("", views.index, name="index"),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
]

prefix = settings.CTS_URL_PREFIX.lstrip("/")
urlpatterns = [path(f"{prefix}/", include(site))] if prefix else site
