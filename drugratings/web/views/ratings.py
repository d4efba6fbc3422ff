"""Rating a drug, withdrawing a rating, helpful votes, flags and "my ratings"."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from drugratings.accounts.access import AccessDenied, Capability, require
from drugratings.bounds import query_int, require_int
from drugratings.catalog import access as catalog
from drugratings.catalog.models import Indication
from drugratings.errors import InvalidInput
from drugratings.moderation.models import FlagReason
from drugratings.ratings import access as ratings_access
from drugratings.ratings import actions
from drugratings.ratings.dimensions import DIMENSIONS
from drugratings.ratings.queries import scored_ratings

NO_OPINION = ""
SCORE_CHOICES = [
    ("1", "1"),
    ("2", "2"),
    ("3", "3"),
    ("4", "4"),
    ("5", "5"),
    (NO_OPINION, "No opinion"),
]


class RatingForm(forms.Form):
    indication = forms.CharField(required=False)
    other_indication = forms.CharField(
        required=False,
        max_length=250,
        label="Other indication (off-label)",
        help_text="Name or ICD-10 code, e.g. migraine or G43",
    )
    comment = forms.CharField(
        required=False,
        max_length=actions.COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": actions.COMMENT_MAX}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for dimension in DIMENSIONS:
            self.fields[dimension.value] = forms.ChoiceField(
                choices=SCORE_CHOICES,
                required=False,
                label=dimension.label,
                widget=forms.RadioSelect,
                help_text=dimension.question,
            )

    def scores(self) -> dict[str, int | None]:
        return {
            d.value: int(v) if (v := self.cleaned_data.get(d.value)) else None for d in DIMENSIONS
        }

    def dimension_fields(self) -> list[forms.BoundField]:
        return [self[d.value] for d in DIMENSIONS]


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
    exact = Indication.objects.filter(name__iexact=text).first()
    if exact:
        return exact, []
    candidates, _ = catalog.list_indications(text, limit=10)
    if len(candidates) == 1:
        return candidates[0], []
    if not candidates:
        raise InvalidInput("other_indication", f"No indication matches “{text}”.")
    return None, candidates


def _listed_indications(drug) -> list[Indication]:
    counts = dict(
        scored_ratings()
        .filter(drug=drug)
        .values_list("indication_id")
        .annotate(n=Count("id"))
        .values_list("indication_id", "n")
    )
    listed = list(drug.indications.all())
    listed.sort(key=lambda i: (-counts.get(i.pk, 0), i.name))
    return listed


@login_required
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, slug: str) -> HttpResponse:
    drug = catalog.get_drug_by_slug(slug)
    try:
        require(request.user, Capability.RATE)
    except AccessDenied as exc:
        return render(
            request,
            "web/message.html",
            {"title": "You cannot rate yet", "text": str(exc)},
            status=403,
        )
    listed = _listed_indications(drug)
    initial_indication = request.GET.get("indication") or (str(listed[0].pk) if listed else "other")
    existing = None
    if (initial_id := query_int(initial_indication, None)) is not None:
        existing = ratings_access.my_rating(request.user, drug.pk, initial_id)
    initial = {"indication": initial_indication}
    if existing:
        initial.update({d.value: str(getattr(existing, d.value) or "") for d in DIMENSIONS})
        comment = getattr(existing, "comment", None)
        if comment and comment.status != "removed":
            initial["comment"] = comment.body
        if not any(i.pk == existing.indication_id for i in listed):
            initial.update(indication="other", other_indication=existing.indication.name)
    form = RatingForm(request.POST or None, initial=initial)
    candidates: list[Indication] = []
    if request.method == "POST" and form.is_valid():
        try:
            indication, candidates = resolve_indication(
                form.cleaned_data["indication"], form.cleaned_data["other_indication"]
            )
            if indication is not None:
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
        else:
            if indication is not None:
                note = "Rating saved." if outcome.created else "Rating updated."
                if outcome.comment is not None and outcome.comment.status == "held":
                    note += (
                        " Your comment is held for a moderator because it may contain: "
                        + ", ".join(outcome.comment.hold_reasons)
                        + "."
                    )
                messages.success(request, note)
                return redirect(
                    f"{reverse('web:drug', args=[drug.slug])}?all=1#indication-{indication.pk}"
                )
            form.add_error("other_indication", "Several indications match: pick one below.")
    return render(
        request,
        "web/rate.html",
        {
            "drug": drug,
            "form": form,
            "listed": listed,
            "existing": existing,
            "candidates": candidates,
            "selected": (selected := form["indication"].value() or initial_indication),
            "selected_in_rest": any(str(i.pk) == selected for i in listed[6:]),
        },
        status=400 if form.errors else 200,
    )


def _denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return render(
        request, "web/message.html", {"title": "Not allowed", "text": str(exc)}, status=403
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    drug = catalog.get_drug_by_slug(slug)
    try:
        indication_id = require_int(request.POST.get("indication"), "indication")
        actions.withdraw_rating(request.user, drug.pk, indication_id)
    except AccessDenied as exc:
        return _denied(request, exc)
    except (InvalidInput, ValueError) as exc:
        messages.error(request, str(getattr(exc, "message", exc)))
    else:
        messages.success(request, "Your rating was withdrawn.")
    return redirect("web:drug", slug=drug.slug)


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or fallback
    return target if target.startswith("/") and not target.startswith("//") else fallback


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
        actions.flag_comment(
            request.user, comment_id, request.POST.get("reason", ""), request.POST.get("note", "")
        )
    except AccessDenied as exc:
        return _denied(request, exc)
    except InvalidInput as exc:
        messages.error(request, str(getattr(exc, "message", exc)))
    else:
        messages.success(request, "Thank you: the moderators will look at this comment.")
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
    items, _ = catalog.list_indications(q, limit=10)
    return JsonResponse(
        {"items": [{"id": i.pk, "name": i.name, "icd10": i.icd10_codes[:3]} for i in items]}
    )


FLAG_REASONS = FlagReason.choices
