"""The moderators' comment queue: held comments and flagged ones, with audited actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from drugratings.accounts.access import AccessDenied, Capability, can
from drugratings.catalog.access import open_reports
from drugratings.errors import InvalidInput
from drugratings.moderation import actions
from drugratings.moderation.access import comment_queue


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Capability.MODERATE):
        return render(
            request,
            "web/message.html",
            {"title": "Moderators only", "text": "This page is for moderators."},
            status=403,
        )
    items = list(comment_queue(request.user)[:100])
    return render(
        request,
        "web/moderation.html",
        {"items": items, "catalog_reports": open_reports().count()},
    )


@login_required
@require_POST
def act(request: HttpRequest, comment_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")
    try:
        if action == "edit":
            actions.edit(request.user, comment_id, request.POST.get("body", ""), reason)
        elif action in actions.MODERATION_ACTIONS:
            actions.MODERATION_ACTIONS[action](request.user, comment_id, reason)
        else:
            raise InvalidInput("action", f"Unknown action {action!r}.")
    except AccessDenied as exc:
        return render(
            request, "web/message.html", {"title": "Moderators only", "text": str(exc)}, status=403
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Comment #{comment_id}: {action} done.")
    return redirect("web:moderation")
