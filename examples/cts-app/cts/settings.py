"""Settings for the CTS reference app, read only from the environment.

cts-server's supervisor programs and setup script load two files per instance:
``/etc/cts-server/<instance>.conf`` (non-secret) and ``/etc/cts-server/<instance>.env`` (secrets,
generated at install). Required: ``CTS_INSTANCE`` and ``CTS_SECRET_KEY``; every other variable has
a default derived from the instance name. No secret is ever logged or printed.
"""

import os
from pathlib import Path
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    """Return the variable ``name``; without a default it must be set and non-empty."""
    value = os.environ.get(name, "")
    if value:
        return value
    if default is None:
        raise ImproperlyConfigured(f"environment variable {name} is not set")
    return default


def env_list(name):
    """Comma-separated list, blanks dropped."""
    return [item.strip() for item in env(name, "").split(",") if item.strip()]


def env_seconds(name, default):
    try:
        seconds = float(env(name, default))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds") from None
    if seconds <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than 0")
    return seconds


def url_prefix(value):
    """``/TR`` (or ``/TR/``) → ``/TR``; empty → mount the site at ``/``."""
    value = value.strip().rstrip("/")
    if value and (not value.startswith("/") or "//" in value):
        raise ImproperlyConfigured("CTS_URL_PREFIX must look like /TR (or be empty)")
    return value


# --- Instance -------------------------------------------------------------------------------
CTS_INSTANCE = env("CTS_INSTANCE")
# The whole site lives under this prefix: nginx proxies /TR/... unchanged (see cts/urls.py).
CTS_URL_PREFIX = url_prefix(env("CTS_URL_PREFIX", ""))

SECRET_KEY = env("CTS_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env_list("CTS_ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cts",  # for cts/static/ and cts/templates/
    "scans",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cts.urls"
WSGI_APPLICATION = "cts.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL through psycopg 3 (pure Python, system libpq5) ----------------------
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env("CTS_DB_NAME", f"cts_{CTS_INSTANCE}"),
        "USER": env("CTS_DB_USER", f"cts_{CTS_INSTANCE}"),
        "PASSWORD": env("CTS_DB_PASSWORD", ""),
        # Empty host/port: libpq's defaults (the local unix socket, 5432).
        "HOST": env("CTS_DB_HOST", ""),
        "PORT": env("CTS_DB_PORT", ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        # Fail fast so /health/ answers 503 instead of hanging when the server is down.
        "OPTIONS": {"connect_timeout": 5},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Files: nginx serves both; /static/ is shared by all instances -------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env("CTS_STATIC_ROOT", "/var/www/cts/public/static")
MEDIA_URL = "/media/"
MEDIA_ROOT = env("CTS_MEDIA_ROOT", "/var/www/cts/public/media")

# --- Behind nginx (TLS terminated there) ---------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
CSRF_COOKIE_SECURE = True
# nginx sends HSTS and redirects http → https; the health check on the LB port stays plain HTTP.
SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008"]
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_AGE = 30 * 60
# Instances share one host name: keep each instance's cookies to its own prefix.
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = f"{CTS_URL_PREFIX}/"
SESSION_COOKIE_NAME = f"cts_{CTS_INSTANCE}_sessionid"
CSRF_COOKIE_NAME = f"cts_{CTS_INSTANCE}_csrftoken"
# "example.org" → https://example.org, ".example.org" → https://*.example.org; "*" is skipped.
CSRF_TRUSTED_ORIGINS = [
    f"https://*{host}" if host.startswith(".") else f"https://{host}"
    for host in ALLOWED_HOSTS
    if host != "*"
]

# --- Celery (cts/celery.py reads every CELERY_* setting) -----------------------------------
CTS_POLL_INTERVAL = env_seconds("CTS_POLL_INTERVAL", "120")


def broker_url():
    """amqp://USER:PASSWORD@HOST:PORT/VHOST, every part URL-quoted (a vhost "/" is "%2F")."""
    user = quote(env("CTS_BROKER_USER", f"cts_{CTS_INSTANCE}"), safe="")
    password = quote(env("CTS_BROKER_PASSWORD", ""), safe="")
    host = env("CTS_BROKER_HOST", "localhost")
    port = env("CTS_BROKER_PORT", "5672")
    vhost = quote(env("CTS_BROKER_VHOST", f"cts_{CTS_INSTANCE}"), safe="")
    return f"amqp://{user}:{password}@{host}:{port}/{vhost}"


CELERY_BROKER_URL = broker_url()
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CTS_CELERY_QUEUE", f"queue_{CTS_INSTANCE}")
# RabbitMQ 4 deprecates two things Celery does by default: global QoS on classic queues (a quorum
# queue makes Celery 5.5 use per-consumer QoS; the package sets the type per Debian release) and
# transient non-exclusive queues (the remote-control "pidbox": CTS's programs are managed by
# supervisor, so remote control is off). Quorum queues want publisher confirms.
CELERY_TASK_DEFAULT_QUEUE_TYPE = env("CTS_CELERY_QUEUE_TYPE", "classic")
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
if CELERY_TASK_DEFAULT_QUEUE_TYPE == "quorum":
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
# Recycle worker processes instead of the original nightly cron restart.
CELERY_WORKER_MAX_TASKS_PER_CHILD = 100
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "poll_package_scans": {
        "task": "scans.tasks.poll_package_scans",
        "schedule": CTS_POLL_INTERVAL,
        # A poll nobody picked up within one interval is superseded by the next one.
        "options": {"expires": CTS_POLL_INTERVAL},
    },
}
if os.environ.get("CTS_BEAT_SCHEDULE"):
    CELERY_BEAT_SCHEDULE_FILENAME = os.environ["CTS_BEAT_SCHEDULE"]

# --- Logging: everything to stderr, which supervisor captures -------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": f"%(levelname)s %(name)s [{CTS_INSTANCE}] %(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {
        # Replace Django's defaults (console only with DEBUG, mail_admins) with stderr alone.
        "django": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
