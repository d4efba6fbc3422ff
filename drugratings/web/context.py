from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string

from drugratings.accounts.access import physician_of
from drugratings.accounts.models import User
from drugratings.core.cached import deferred
from drugratings.web.notifications import unread_count


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "DEMO_MODE": settings.DEMO_MODE,
        "login_next": deferred(lambda: login_next(request)),
    }


def login_next(request: HttpRequest) -> str:
    """This page's path for the sign-in link's `next` (as the `urlencode` filter quotes it)."""
    return quote(request.get_full_path(), safe="/")


def notifications(request: HttpRequest) -> dict[str, object]:
    """The unread badge beside "Notifications" in the menu (physicians only, computed lazily)."""
    user = getattr(request, "user", None)
    if user is None or physician_of(user) is None:
        return {}
    return {"unread_badge": deferred(lambda: unread_badge(user))}


def unread_badge(user: User) -> str:
    return render_to_string("web/_unread_badge.html", {"n": unread_count(user)})
