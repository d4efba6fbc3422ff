from django.conf import settings
from django.http import HttpRequest

from drugratings.accounts.access import physician_of
from drugratings.web.notifications import unread_count


def site(request: HttpRequest) -> dict[str, object]:
    return {"SITE_NAME": settings.SITE_NAME, "DEMO_MODE": settings.DEMO_MODE}


def notifications(request: HttpRequest) -> dict[str, object]:
    """The unread count beside "Notifications" in the menu (physicians only, computed lazily)."""
    user = getattr(request, "user", None)
    if user is None or physician_of(user) is None:
        return {}
    return {"unread_notifications": lambda: unread_count(user)}
