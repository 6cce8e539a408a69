import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .models import PackageScan, PollRun

logger = logging.getLogger(__name__)


@require_safe
@never_cache
def health(request):
    """200 ``ok <instance> polls=N`` after a real query; 503 when the database fails.

    The X-CTS-Instance header shows that Django answered (not nginx) and which instance.
    """
    instance = settings.CTS_INSTANCE
    try:
        polls = PollRun.objects.count()
    except DatabaseError as exc:
        # psycopg's messages name host, port and user, never the password.
        first_line = (str(exc).strip().splitlines() or [""])[0]
        logger.warning("health: database unavailable: %s: %s", type(exc).__name__, first_line)
        response = HttpResponse(f"unavailable {instance}\n", status=503, content_type="text/plain")
    else:
        response = HttpResponse(f"ok {instance} polls={polls}\n", content_type="text/plain")
    response["X-CTS-Instance"] = instance
    return response


@require_safe
def index(request):
    context = {
        "instance": settings.CTS_INSTANCE,
        "scans": PackageScan.objects.count(),
        "polls": PollRun.objects.all()[:10],
    }
    return render(request, "cts/index.html", context)
