"""Rating a drug, withdrawing a rating, helpful votes, flags and "my ratings"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from drugratings.accounts.access import AccessDenied, Capability, require
from drugratings.catalog import access as catalog
from drugratings.catalog.models import Indication
from drugratings.errors import InvalidInput
from drugratings.moderation import actions as moderation_actions
from drugratings.moderation.models import FlagReason
from drugratings.ratings import access as ratings_access
from drugratings.ratings import actions
from drugratings.ratings.dimensions import DIMENSIONS
from drugratings.ratings.models import Rating
from drugratings.web.redirects import safe_target

# Confirmations of the physician's own rating are shown beside it, under this anchor.
MINE = "mine"

NO_OPINION = ""
SCORE_CHOICES = [
    ("1", "1"),
    ("2", "2"),
    ("3", "3"),
    ("4", "4"),
    ("5", "5"),
    (NO_OPINION, _("No opinion")),
]


class RatingForm(forms.Form):
    indication = forms.CharField(required=False, max_length=20)
    other_indication = forms.CharField(
        required=False,
        max_length=250,
        label=_("Other indication (off-label)"),
        help_text=_("Name or ICD-10 code, e.g. migraine or G43"),
    )
    # The indication of the rating being edited: an edit never moves scores to another indication.
    editing = forms.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput
    )
    comment = forms.CharField(
        required=False,
        max_length=actions.COMMENT_MAX,
        widget=forms.Textarea(
            attrs={"rows": 4, "maxlength": actions.COMMENT_MAX, "data-counter": "comment-count"}
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for dimension in DIMENSIONS:
            self.fields[dimension.value] = forms.ChoiceField(
                choices=SCORE_CHOICES,
                required=False,
                label=_(dimension.label),
                widget=forms.RadioSelect,
                help_text=_(dimension.question),
            )

    def scores(self) -> dict[str, int | None]:
        return {
            d.value: int(v) if (v := self.cleaned_data.get(d.value)) else None for d in DIMENSIONS
        }

    def dimension_fields(self) -> list[forms.BoundField]:
        return [self[d.value] for d in DIMENSIONS]


def spellings(text: str) -> list[str]:
    """Ways physicians write an eponym: "Raynaud's disease", "Raynaud disease", "Raynauds"."""
    base = " ".join(text.replace("\u2019", "'").split())
    plain = re.sub(r"'s\b", "", base).replace("'", "")
    words = plain.split()
    possessive = [
        " ".join([*words[:i], words[i] + "'s", *words[i + 1 :]]) for i in range(len(words) - 1)
    ]
    return list(dict.fromkeys([base, plain, *possessive]))


def find_indications(text: str, limit: int) -> list[Indication]:
    """Indications matching any spelling of the text, the literal one first."""
    found: dict[int, Indication] = {}
    for spelling in spellings(text):
        items, _ = catalog.list_indications(spelling, limit=limit)
        found.update((i.pk, i) for i in items if i.pk not in found)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def resolve_indication(choice: str, other: str) -> tuple[Indication | None, list[Indication]]:
    """The indication picked in the form: a listed one by id, or another by name or ICD code.
    Returns (indication, candidates) where candidates is non-empty when the text is ambiguous."""
    if choice and choice != "other":
        try:
            return catalog.get_indication(int(choice)), []
        except (ValueError, Exception):
            raise InvalidInput("indication", "Choose one of the listed indications.") from None
    text = other.strip()
    if not text:
        raise InvalidInput("indication", "Choose the indication you are rating the drug for.")
    exact = next((i for v in spellings(text) if (i := catalog.indication_named(v))), None)
    if exact:
        return exact, []
    candidates = find_indications(text, limit=10)
    if len(candidates) == 1:
        return candidates[0], []
    if not candidates:
        raise InvalidInput("other_indication", f"No indication matches “{text}”.")
    return None, candidates


MAX_ID = 2**31 - 1


def _indication_param(raw: str | None) -> int | None:
    """A positive database id from the query string, or None for anything else."""
    if raw and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


def _cannot_rate(request: HttpRequest) -> HttpResponse | None:
    try:
        require(request.user, Capability.RATE)
    except AccessDenied as exc:
        return render(
            request,
            "web/cannot_rate.html",
            {"title": "You cannot rate yet", "text": str(exc)},
            status=403,
        )
    return None


@dataclass(frozen=True)
class RateStart:
    """Where the form starts: the indication selected and the rating it edits (None: a new one)."""

    selected: str
    existing: Rating | None


def _start(user, drug, listed: list[Indication], requested: int | None) -> RateStart:
    """Only a request for a (drug, indication) the physician rated opens that rating for
    editing; anything else is a new, empty rating for the first listed indication not yet rated."""
    if requested is not None:
        existing = ratings_access.my_rating(user, drug.pk, requested)
        return RateStart(str(requested), existing)
    rated = set(
        ratings_access.my_ratings(user).filter(drug=drug).values_list("indication_id", flat=True)
    )
    unrated = next((i for i in listed if i.pk not in rated), None)
    return RateStart(str(unrated.pk) if unrated else "other", None)


def _initial(start: RateStart, listed: list[Indication]) -> dict[str, str | int]:
    initial: dict[str, str | int] = {"indication": start.selected}
    existing = start.existing
    if existing is None:
        return initial
    initial["editing"] = existing.indication_id
    initial.update({d.value: str(getattr(existing, d.value) or "") for d in DIMENSIONS})
    comment = getattr(existing, "comment", None)
    if comment and comment.status != "removed":
        initial["comment"] = comment.body
    if not any(i.pk == existing.indication_id for i in listed):
        initial.update(indication="other", other_indication=existing.indication.name)
    return initial


def _editing(request: HttpRequest, drug, form: RatingForm) -> Rating | None:
    """The rating a submitted form edits (from its hidden field), if the physician has it."""
    raw = form["editing"].value()
    return (
        ratings_access.my_rating(request.user, drug.pk, int(raw))
        if str(raw or "").isdigit() and int(raw) <= MAX_ID
        else None
    )


def _saved_note(outcome: actions.RatingOutcome) -> str:
    note = str(_("Rating saved.") if outcome.created else _("Rating updated."))
    if outcome.comment is not None and outcome.comment.status == "held":
        note += (
            " "
            + str(_("Your comment is held for a moderator because it may contain:"))
            + " "
            + ", ".join(outcome.comment.hold_reasons)
            + "."
        )
    return note


def _save(request: HttpRequest, drug, form: RatingForm) -> tuple[HttpResponse | None, list]:
    """Store a valid form; (redirect, []) on success, (None, candidates) to show the form again."""
    editing = form.cleaned_data.get("editing")
    try:
        indication, candidates = resolve_indication(
            form.cleaned_data["indication"], form.cleaned_data["other_indication"]
        )
        if indication is None:
            form.add_error("other_indication", "Several indications match: pick one below.")
            return None, candidates
        if editing is not None and indication.pk != editing:
            raise InvalidInput(
                "indication",
                "This form edits your rating for one indication. To rate another indication, "
                "start a new rating.",
            )
        outcome = actions.upsert_rating(
            request.user,
            drug.pk,
            actions.RatingInput(
                indication_id=indication.pk,
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
            ),
        )
    except InvalidInput as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None, []
    messages.success(request, _saved_note(outcome), extra_tags=MINE)
    return redirect(_drug_anchor(drug, indication.pk)), []


def _drug_anchor(drug, indication_id: int | None) -> str:
    """The drug page opened on the physician's rating, with the confirmation beside it."""
    query = f"?indication={indication_id}" if indication_id else ""
    return f"{reverse('web:drug', args=[drug.slug])}{query}#{MINE}"


@login_required
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, slug: str) -> HttpResponse:
    drug = catalog.get_drug_by_slug(slug)
    denied = _cannot_rate(request)
    if denied is not None:
        return denied
    listed = ratings_access.listed_indications_by_use(drug)
    start = _start(request.user, drug, listed, _indication_param(request.GET.get("indication")))
    form = RatingForm(request.POST or None, initial=_initial(start, listed))
    candidates: list[Indication] = []
    existing = start.existing
    if request.method == "POST":
        existing = _editing(request, drug, form)
        if form.is_valid():
            response, candidates = _save(request, drug, form)
            if response is not None:
                return response
    selected = str(form["indication"].value() or start.selected)
    return render(
        request,
        "web/rate.html",
        {
            "drug": drug,
            "form": form,
            "listed": listed,
            "existing": existing,
            "candidates": candidates,
            "selected": selected,
            "selected_in_rest": any(str(i.pk) == selected for i in listed[6:]),
            "comment_max": actions.COMMENT_MAX,
        },
        status=400 if form.errors else 200,
    )


def _denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return render(
        request, "web/message.html", {"title": "Not allowed", "text": str(exc)}, status=403
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    """Withdrawing asks first: a GET (or a POST without `confirm`) shows what will be removed."""
    drug = catalog.get_drug_by_slug(slug)
    try:
        require(request.user, Capability.RATE)
    except AccessDenied as exc:
        return _denied(request, exc)
    source = request.POST if request.method == "POST" else request.GET
    indication_id = _indication_param(source.get("indication"))
    rating = (
        ratings_access.my_rating(request.user, drug.pk, indication_id) if indication_id else None
    )
    if rating is None:
        messages.error(
            request, "You have no rating of this drug for that indication.", extra_tags=MINE
        )
        return redirect(_drug_anchor(drug, None))
    if request.method == "GET" or source.get("confirm") != "yes":
        return render(request, "web/withdraw.html", {"drug": drug, "rating": rating})
    actions.withdraw_rating(request.user, drug.pk, rating.indication_id)
    messages.success(
        request,
        f"Your rating for {rating.indication.name} was withdrawn.",
        extra_tags=MINE,
    )
    return redirect(_drug_anchor(drug, None))


def _back(request: HttpRequest, fallback: str) -> str:
    return safe_target(request, fallback)


@login_required
@require_POST
def helpful(request: HttpRequest, comment_id: int) -> HttpResponse:
    try:
        count = actions.vote_helpful(request.user, comment_id)
    except AccessDenied as exc:
        return _denied(request, exc)
    except InvalidInput as exc:
        if request.headers.get("Accept") == "application/json":
            return JsonResponse({"detail": exc.message}, status=exc.status)
        messages.error(request, exc.message)
        return redirect(_back(request, "/"))
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"helpful_count": count})
    return redirect(_back(request, "/"))


@login_required
@require_POST
def flag(request: HttpRequest, comment_id: int) -> HttpResponse:
    try:
        moderation_actions.flag_comment(
            request.user, comment_id, request.POST.get("reason", ""), request.POST.get("note", "")
        )
    except AccessDenied as exc:
        return _denied(request, exc)
    except InvalidInput as exc:
        messages.error(request, str(getattr(exc, "message", exc)))
    else:
        messages.success(
            request,
            "Thank you: the moderators will look at this comment.",
            extra_tags=f"comment-{comment_id}",
        )
    return redirect(_back(request, "/"))


@login_required
@require_GET
def my_ratings(request: HttpRequest) -> HttpResponse:
    try:
        ratings = list(ratings_access.my_ratings(request.user)[:500])
    except AccessDenied as exc:
        return render(
            request, "web/message.html", {"title": "No ratings", "text": str(exc)}, status=403
        )
    return render(request, "web/my_ratings.html", {"ratings": ratings, "dimensions": DIMENSIONS})


@require_GET
def indication_suggest(request: HttpRequest) -> JsonResponse:
    """Indications by name or ICD-10 code, for the off-label field of the rating form."""
    q = request.GET.get("q", "").strip()[:100]
    if len(q) < 2:
        return JsonResponse({"items": []})
    items = find_indications(q, limit=10)
    return JsonResponse(
        {"items": [{"id": i.pk, "name": i.name, "icd10": i.icd10_codes[:3]} for i in items]}
    )


FLAG_REASONS = FlagReason.choices
