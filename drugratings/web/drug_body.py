"""What the drug page shows, built once per (drug, versions, kind of viewer, filters, language).

`build` renders the page's body without the request (web/stitching.py): figures, comparisons,
comments and trend come from the drug and the filters, and from the reader only through
`Viewer`, the handful of capabilities that decide what a kind of reader is shown. The reader's
own parts (their ratings, saved state, votes, the CSRF token) are markers filled per request by
web/views/drug.py. `key` names everything the body depends on, so stored bodies are shared by all
readers of a kind and never served after a write that changes them has returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final
from urllib.parse import urlencode

from django.http import HttpRequest
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.translation import get_language

from drugratings.accounts.access import Capability, FigureView, can, physician_of
from drugratings.accounts.models import Role, Specialty, User
from drugratings.analytics.access import ScoreCell
from drugratings.analytics.models import Window
from drugratings.analytics.trends import monthly_trend
from drugratings.bounds import query_int
from drugratings.catalog import access as catalog
from drugratings.catalog import actions as catalog_actions
from drugratings.catalog.models import Drug, Indication
from drugratings.core.cached import digest
from drugratings.moderation.models import FlagReason
from drugratings.portal.access import Subject, drug_cells_for_viewer, figures_key, page_figure_view
from drugratings.ratings.access import CommentSort, my_ratings, my_votes, shared_comments
from drugratings.ratings.actions import COMMENT_MAX
from drugratings.ratings.dimensions import DIMENSIONS
from drugratings.web import stitching

# The catalogue facts on the page (label, maker, listed indications) carry no version: a stored
# body is rebuilt at least this often, so a catalogue edit shows within ten minutes. Figures and
# comments are keyed by their versions and never lag.
SECONDS: Final = 600
SECTIONS_SHOWN: Final = 6  # across-indications plus the five most-rated indications; ?all=1
COMMENTS_SHOWN: Final = 10
COMMENTS_MAX: Final = 200
# The label itself is not fetched at run time: DailyMed's search by generic name finds it.
DAILYMED_SEARCH: Final = "https://dailymed.nlm.nih.gov/dailymed/search.cfm?"


@dataclass(frozen=True)
class ScoreSection:
    """Score cells of one drug for one indication (None: across all indications)."""

    indication: Indication | None
    listed: bool
    cells: list[ScoreCell]

    @property
    def n_raters(self) -> int:
        return max((c.n_raters for c in self.cells), default=0)


@dataclass(frozen=True)
class DrugPageFilters:
    """What the reader asked the drug page for, from its query string (bad values ignored)."""

    indication_id: int | None
    specialty_id: int | None
    window: str
    all_sections: bool
    comment_sort: str
    comment_indication: int | None
    comment_limit: int

    @classmethod
    def from_request(cls, request: HttpRequest) -> DrugPageFilters:
        get = request.GET
        window = get.get("window", Window.ALL_TIME)
        sort = get.get("sort", CommentSort.HELPFUL)
        limit = query_int(get.get("comments"), None) or COMMENTS_SHOWN
        return cls(
            indication_id=query_int(get.get("indication"), None),
            specialty_id=query_int(get.get("specialty"), None),
            window=window if window in Window.values else Window.ALL_TIME,
            all_sections=get.get("all") == "1",
            comment_sort=sort if sort in CommentSort.ALL else CommentSort.HELPFUL,
            comment_indication=query_int(get.get("comments_for"), None),
            comment_limit=min(max(limit, COMMENTS_SHOWN), COMMENTS_MAX),
        )

    def query(self, **changes: object) -> str:
        """These filters as a query string (defaults left out), with `changes` applied: the
        page's own links and `next` targets are built from it, never from the raw request."""
        values = {
            "indication": self.indication_id,
            "specialty": self.specialty_id,
            "window": None if self.window == Window.ALL_TIME else self.window,
            "all": "1" if self.all_sections else None,
            "sort": None if self.comment_sort == CommentSort.HELPFUL else self.comment_sort,
            "comments_for": self.comment_indication,
            "comments": None if self.comment_limit == COMMENTS_SHOWN else self.comment_limit,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True)
class Viewer:
    """Everything the stored body depends on about its reader, and nothing personal: readers
    with equal Viewers share stored bodies (their own parts are stitched in per request)."""

    figures: FigureView
    can_rate: bool
    can_vote: bool
    can_reply: bool
    reads_comments: bool
    is_physician: bool
    unverified_physician: bool
    signed_in: bool
    can_report_error: bool

    @classmethod
    def of(cls, user: User, drug_id: int) -> Viewer:
        signed_in = user.is_authenticated
        can_rate = can(user, Capability.RATE)
        return cls(
            figures=page_figure_view(user, Subject(drug_id=drug_id)),
            can_rate=can_rate,
            can_vote=can(user, Capability.VOTE),
            can_reply=can(user, Capability.COMMENT),
            reads_comments=can(user, Capability.READ_COMMENTS),
            is_physician=physician_of(user) is not None,
            unverified_physician=signed_in and not can_rate and user.role == Role.PHYSICIAN,
            signed_in=signed_in,
            can_report_error=catalog_actions.can_report(user),
        )


def key(user: User, drug_id: int, viewer: Viewer, filters: DrugPageFilters) -> list[object]:
    """Everything a stored body depends on. The figures' part is the drug API's (their ratings
    version and fit for live viewers, the release for pharma, nothing for the rest), with the
    comments' version for live viewers, the only ones who read comments: a vote or a
    moderator's decision shows at once, and leaves the figures' key alone."""
    return [
        *figures_key(viewer.figures, user, drug_id, with_comments=True),
        viewer,
        filters,
        get_language(),
        layout(),
    ]


TEMPLATES: Final = (
    "web/_drug_body.html",
    "web/_comments.html",
    "web/_score_first.html",
    "web/_score_rows.html",
    "web/_notes.html",
    "web/_drug_mine.html",
)


@cache
def layout() -> str:
    """The templates and the shapes of `StoredBody` and `OwnParts`, digested: a process never
    stitches a body stored by another release of the code (its markers could name parts this
    one lacks)."""
    sources = [get_template(name).template.source for name in TEMPLATES]
    return digest([*sources, *StoredBody.__dataclass_fields__, *OwnParts.__dataclass_fields__])


@dataclass(frozen=True)
class StoredBody:
    title: str
    html: str
    # Author of each top-level comment shown, by comment id: never rendered, only compared with
    # the reader per request (their own comments take no vote or reply).
    authors: dict[int, int]


def build(user: User, drug_id: int, viewer: Viewer, filters: DrugPageFilters) -> StoredBody:
    """The body for every reader like `viewer`. `user` is passed on to the permission-checked
    reads only; nothing of it is rendered (the template gets no request, user or session)."""
    drug = catalog.get_drug(drug_id)
    scores = _score_context(viewer, drug, filters)
    comments = _comment_context(user, viewer, drug, filters)
    context = {
        "drug": drug,
        "dimensions": DIMENSIONS,
        "viewer": viewer,
        "filters": filters,
        "page_path": _page_path(drug, filters),
        "csrf_token": stitching.hole("csrf"),
        **scores,
        **comments,
        **_label_context(drug),
    }
    html = render_to_string("web/_drug_body.html", context)
    return StoredBody(drug.display_name, html, comments["authors"])


@dataclass(frozen=True)
class OwnParts:
    """What of the page is the reader's own and moves only with the drug's versions: their
    ratings of it (every rating write bumps the ratings version, every decision on their
    comments the comments version) and their helpful votes (each bumps the comments version).
    Stored per reader under the body's key, so it is never older than the body it fills
    (web/views/drug.py)."""

    mine_html: str  # their ratings' section, with a hole for its flash messages
    rated: frozenset[int]  # indications they rated the drug for
    voted: frozenset[int]  # shown comments they found helpful


def own_parts(user: User, drug: Drug, viewer: Viewer, comment_ids: list[int]) -> OwnParts:
    mine = list(my_ratings(user).filter(drug=drug)) if viewer.can_rate else []
    html = (
        render_to_string(
            "web/_drug_mine.html", {"drug": drug, "dimensions": DIMENSIONS, "my_list": mine}
        )
        if viewer.can_rate
        else ""
    )
    voted = my_votes(user, comment_ids) if viewer.can_vote else set()
    return OwnParts(html, frozenset(r.indication_id for r in mine), frozenset(voted))


def _page_path(drug: Drug, filters: DrugPageFilters) -> str:
    query = filters.query()
    return reverse("web:drug", args=[drug.slug]) + (f"?{query}" if query else "")


def _sections(cells: list[ScoreCell], listed_ids: set[int]) -> list[ScoreSection]:
    by_indication: dict[int | None, list[ScoreCell]] = {}
    for cell in cells:
        by_indication.setdefault(cell.indication_id, []).append(cell)
    indications = catalog.indications_by_id([i for i in by_indication if i is not None])
    sections = [
        ScoreSection(indications.get(i) if i is not None else None, i is None or i in listed_ids, c)
        for i, c in by_indication.items()
    ]
    # Across-indications first, then the indications with the most physicians.
    sections.sort(key=lambda s: (s.indication is not None, -s.n_raters))
    return sections


def _primary(sections: list[ScoreSection], indication_id: int | None) -> ScoreSection | None:
    """The section the first screen shows: the indication the reader came for, else all."""
    chosen = [s for s in sections if s.indication and s.indication.pk == indication_id]
    return (chosen or sections or [None])[0]


def _score_context(viewer: Viewer, drug: Drug, filters: DrugPageFilters) -> dict:
    view = viewer.figures
    sections: list[ScoreSection] = []
    if view != FigureView.NONE:
        cells = drug_cells_for_viewer(
            view, drug.pk, specialty_id=filters.specialty_id, window=filters.window
        )
        sections = _sections(cells, {i.pk for i in drug.indications.all()})
    primary = _primary(sections, filters.indication_id)
    others = [s for s in sections if s is not primary]
    shown = others if filters.all_sections else others[: SECTIONS_SHOWN - 1]
    return {
        "show_scores": view != FigureView.NONE,
        "pharma": view == FigureView.RELEASE,
        "primary": primary,
        "sections": shown,
        "all_sections": sections,
        "hidden_sections": len(others) - len(shown),
        "trend": _trend_lines(drug.pk) if view == FigureView.LIVE else [],
        "specialties": list(Specialty.objects.all()),
        "specialty_id": filters.specialty_id,
        "window": filters.window,
        "windows": Window.choices,
        "indication_id": primary.indication.pk if primary and primary.indication else None,
    }


def _comment_context(user: User, viewer: Viewer, drug: Drug, filters: DrugPageFilters) -> dict:
    thread = (
        shared_comments(
            user,
            drug.pk,
            indication_id=filters.comment_indication,
            sort=filters.comment_sort,
            limit=filters.comment_limit,
        )
        if viewer.reads_comments
        else None
    )
    return {
        "show_comments": thread is not None,
        "comments": thread.comments if thread else [],
        "comment_total": thread.total if thread else 0,
        "replies": thread.replies if thread else {},
        "authors": thread.authors if thread else {},
        "comment_max": COMMENT_MAX,
        "more_comments_query": filters.query(comments=filters.comment_limit + 20),
        "flag_reasons": FlagReason.choices,
    }


def _label_context(drug: Drug) -> dict:
    labelled = drug.drug_indications.select_related("indication").order_by("indication__name")
    return {
        "labelled": list(labelled),
        "dailymed_url": DAILYMED_SEARCH
        + urlencode({"labeltype": "all", "query": drug.generic_name}),
        "official": getattr(drug, "official_info", None),
    }


def _trend_lines(drug_id: int) -> list[dict]:
    """Sparkline geometry per dimension: points of the monthly rater-adjusted means (1-5 mapped
    to a 0-40 px high band) and the months they cover."""
    points = monthly_trend(drug_id)
    months = sorted({p.month for p in points})
    if len(months) < 2:
        return []
    step = 300 / (len(months) - 1)
    lines = []
    for dimension in DIMENSIONS:
        mine = [p for p in points if p.dimension == dimension.value]
        coords, band_top, band_bottom = [], [], []
        for p in mine:
            if p.value is None:
                continue
            x = months.index(p.month) * step

            def y(v: float) -> float:
                return 44 - (v - 1) / 4 * 40

            coords.append(f"{x:.1f},{y(p.value):.1f}")
            band_top.append(f"{x:.1f},{y(p.ci_high):.1f}")
            band_bottom.append(f"{x:.1f},{y(p.ci_low):.1f}")
        shown = [p for p in mine if p.value is not None]
        lines.append(
            {
                "label": dimension.label,
                "points": " ".join(coords),
                "band": " ".join(band_top + band_bottom[::-1]),
                "first": shown[0] if shown else None,
                "last": shown[-1] if shown else None,
            }
        )
    return [{"months": (months[0], months[-1]), "lines": lines}]
