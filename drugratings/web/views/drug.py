"""The drug page: a stored body (web/drug_body.py) stitched with the reader's own parts.

Per request: the body from the shared cache, the reader's own parts (their ratings of the drug,
their votes) from the same cache under the body's key and their id, whether they saved the
drug, which shown comments they wrote, flash messages, the CSRF token, and the page's shell
(header, menu, footer: web/shell.py) with its own holes (title, path, unread badge).
Every key moves with every write that changes what it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape
from django.views.decorators.http import require_GET

from drugratings.accounts.access import physician_of
from drugratings.accounts.models import User
from drugratings.analytics.actions import count_drug_view
from drugratings.catalog import access as catalog
from drugratings.catalog.models import Drug
from drugratings.core.cached import stored
from drugratings.core.rows import one_row
from drugratings.web import drug_body
from drugratings.web.context import login_next, unread_badge
from drugratings.web.drug_body import DrugPageFilters, StoredBody, Viewer
from drugratings.web.models import SavedDrug
from drugratings.web.shell import shell
from drugratings.web.stitching import stitch
from drugratings.web.views.me import remember_view

Notes = dict[str, list[dict[str, str]]]


@require_GET
def drug_page(request: HttpRequest, slug: str) -> HttpResponse:
    drug = catalog.get_drug_name(slug)
    count_drug_view(drug.pk)
    remember_view(request, drug.pk)
    filters = DrugPageFilters.from_request(request)
    viewer = Viewer.of(request.user, drug.pk)
    key = [drug.pk, *drug_body.key(request.user, drug.pk, viewer, filters)]
    body = stored(
        "drug-page",
        key,
        partial(drug_body.build, request.user, drug.pk, viewer, filters),
        seconds=drug_body.SECONDS,
    )
    reader = Reader.of(request, drug, viewer, body, key)
    return HttpResponse(stitch(shell("web/drug.html", request.user), reader.fill, reader.holds))


@dataclass
class Reader:
    """One reader's parts of the page: their own (stored per reader and versions), whether
    they saved the drug, and this request's flash messages and CSRF token."""

    request: HttpRequest
    viewer: Viewer
    body: StoredBody
    own: drug_body.OwnParts
    wrote: set[int]  # shown comments they wrote
    saved: bool
    notes: Notes

    @classmethod
    def of(
        cls, request: HttpRequest, drug: Drug, viewer: Viewer, body: StoredBody, key: list
    ) -> Reader:
        user: User = request.user
        me = physician_of(user)
        own = stored(
            "drug-page-reader",
            [user.pk, *key],
            partial(drug_body.own_parts, user, drug, viewer, list(body.authors)),
            seconds=drug_body.SECONDS,
        )
        wrote = {c for c, author in body.authors.items() if me is not None and author == me.pk}
        saved = me is not None and bool(one_row(SavedDrug, user=user, drug=drug, fields=("id",)))
        return cls(request, viewer, body, own, wrote, saved, _notes(request))

    @cached_property
    def csrf(self) -> str:
        # One masked token for every form of the body (each get_token call masks anew).
        return get_token(self.request)

    def holds(self, name: str, arg: str) -> bool:
        match name:
            case "rated":
                return bool(self.own.rated)
            case "rated_for":
                return int(arg) in self.own.rated
            case "saved":
                return self.saved
            case "voted":
                return int(arg) in self.own.voted
            case "may_vote":
                return self.viewer.can_vote and int(arg) not in self.wrote
            case "may_reply":
                return self.viewer.can_reply and int(arg) not in self.wrote
        raise ValueError(f"no reader predicate {name!r}")

    def fill(self, name: str, arg: str) -> str:
        match name:
            case "body":
                return stitch(self.body.html, self.fill, self.holds)
            case "title":
                return escape(self.body.title)
            case "path":
                return escape(self.request.get_full_path())
            case "login_next":
                return escape(login_next(self.request))
            case "unread":
                user = self.request.user
                return unread_badge(user) if physician_of(user) is not None else ""
            case "csrf":
                return self.csrf
            case "mine":
                return stitch(self.own.mine_html, self.fill, self.holds)
            case "notes":
                return _rendered_notes(self.notes.get(arg))
            case "comment_notes":
                return _rendered_notes(self.notes.get(f"comment-{arg}"))
        raise ValueError(f"no reader hole {name!r}")


def _rendered_notes(items: list[dict[str, str]] | None) -> str:
    return render_to_string("web/_notes.html", {"items": items}) if items else ""


def _notes(request: HttpRequest) -> Notes:
    """Flash messages by where they belong: beside the physician's rating ("mine"), on a
    comment ("comment-<id>"), or at the top of the page ("top")."""
    notes: Notes = {}
    for message in get_messages(request):
        anchor = message.extra_tags or "top"
        notes.setdefault(anchor, []).append({"level": message.level_tag, "text": str(message)})
    return notes
