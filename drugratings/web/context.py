from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {"SITE_NAME": settings.SITE_NAME, "DEMO_MODE": settings.DEMO_MODE}


def notifications(request: HttpRequest) -> dict[str, object]:
    """The unread count beside "Notifications" in the menu (physicians only, computed lazily)."""
    from drugratings.web.notifications import unread_count

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role != "physician":
        return {}
    return {"unread_notifications": lambda: unread_count(user)}
