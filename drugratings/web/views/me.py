"""The physician's own corner: saved drugs, recently viewed, notifications, replies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from drugratings.accounts.access import AccessDenied
from drugratings.catalog import access as catalog
from drugratings.catalog.models import Drug
from drugratings.errors import InvalidInput
from drugratings.ratings import actions as rating_actions
from drugratings.web import actions
from drugratings.web.models import SavedDrug
from drugratings.web.notifications import notices_for

RECENT_KEY = "recently_viewed"
RECENT_MAX = 10


def remember_view(request: HttpRequest, drug_id: int) -> None:
    """Recently viewed drugs live in the session: nothing stored for a visitor. Reading the
    latest again leaves the session untouched (no write per page view)."""
    recent = request.session.get(RECENT_KEY, [])
    if recent[:1] == [drug_id]:
        return
    request.session[RECENT_KEY] = [drug_id, *(i for i in recent if i != drug_id)][:RECENT_MAX]


def recently_viewed(request: HttpRequest) -> list[Drug]:
    ids = request.session.get(RECENT_KEY, [])
    found = Drug.objects.in_bulk(ids)
    return [found[i] for i in ids if i in found]


def _denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return render(
        request, "web/message.html", {"title": "Not allowed", "text": str(exc)}, status=403
    )


@login_required
@require_GET
def saved(request: HttpRequest) -> HttpResponse:
    try:
        actions.require_physician(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    items = SavedDrug.objects.filter(user=request.user).select_related("drug__drug_class")
    return render(
        request,
        "web/saved.html",
        {"saved": list(items), "recent": recently_viewed(request)},
    )


@login_required
@require_POST
def toggle_saved(request: HttpRequest, slug: str) -> HttpResponse:
    drug = catalog.get_drug_by_slug(slug)
    try:
        if request.POST.get("action") == "remove":
            actions.unsave_drug(request.user, drug)
            note = f"{drug.display_name} removed from your saved drugs."
        else:
            actions.save_drug(request.user, drug)
            note = f"{drug.display_name} saved: it stays readable offline in the app."
    except AccessDenied as exc:
        return _denied(request, exc)
    except InvalidInput as exc:
        messages.error(request, exc.message, extra_tags="scores")
    else:
        messages.success(request, note, extra_tags="scores")
    return redirect(reverse("web:drug", args=[drug.slug]) + "#scores")


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    try:
        actions.require_physician(request.user)
    except AccessDenied as exc:
        return _denied(request, exc)
    if request.method == "POST":
        actions.set_digest(request.user, request.POST.get("digest") == "on")
        messages.success(request, "Your email digest setting is saved.")
        return redirect("web:notifications")
    notices = notices_for(request.user)
    state = actions.state_of(request.user)
    actions.mark_seen(request.user)
    return render(request, "web/notifications.html", {"notices": notices, "state": state})


@login_required
@require_POST
def reply(request: HttpRequest, comment_id: int) -> HttpResponse:
    back = request.POST.get("next", "")
    try:
        made = rating_actions.reply_to_comment(
            request.user, comment_id, request.POST.get("body", "")
        )
    except AccessDenied as exc:
        return _denied(request, exc)
    except InvalidInput as exc:
        messages.error(
            request, f"Reply not sent: {exc.message}", extra_tags=f"comment-{comment_id}"
        )
    else:
        note = (
            "Your reply is held for a moderator because it may contain: "
            + ", ".join(made.hold_reasons)
            + "."
            if made.status == "held"
            else "Your reply is published."
        )
        messages.success(request, note, extra_tags=f"comment-{comment_id}")
    allowed = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(back if allowed else "/")
