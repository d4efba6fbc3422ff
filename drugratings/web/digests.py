"""The optional daily email digest of a physician's notifications."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from drugratings.web.models import NotificationState
from drugratings.web.notifications import notices_for

DIGEST_EVERY = timedelta(days=1)


def send_due_digests(now=None) -> int:
    """Email each physician who asked for a digest what is new since the last one (at most
    once a day, nothing when nothing is new). Returns the number of emails sent."""
    now = now or timezone.now()
    sent = 0
    due = NotificationState.objects.filter(digest=True).select_related("user")
    for state in due:
        last = state.digest_sent_at
        if last is not None and now - last < DIGEST_EVERY:
            continue
        notices = notices_for(state.user, since=last or now - DIGEST_EVERY)
        if notices:
            base = settings.PUBLIC_BASE_URL.rstrip("/")
            lines = [f"- {n.text}: {base}{n.url}" for n in notices]
            send_mail(
                f"{settings.SITE_NAME}: {len(notices)} new notification(s)",
                "\n".join(lines) + "\n\nTurn the digest off on your notifications page.",
                settings.DEFAULT_FROM_EMAIL,
                [state.user.email],
            )
            sent += 1
        NotificationState.objects.filter(pk=state.pk).update(digest_sent_at=now)
    return sent


def digest_job() -> str | None:
    """The worker's step (registered in WebConfig.ready): email the digests that are due."""
    sent = send_due_digests()
    return f"{sent} notification digest(s) emailed" if sent else None
