"""Ratings and comments: verified physicians only (everyone else gets 403)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from drugratings.api.auth import SIGNED_IN
from drugratings.api.bounds import MAX_ID, MAX_OFFSET, Id
from drugratings.moderation import actions as moderation_actions
from drugratings.ratings import access, actions
from drugratings.ratings.dimensions import SCORE_MAX, SCORE_MIN
from drugratings.ratings.models import Comment, Rating

router = Router(tags=["ratings"], auth=SIGNED_IN)

Score = Annotated[int, Field(strict=True, ge=SCORE_MIN, le=SCORE_MAX)] | None


class RatingIn(Schema):
    indication_id: Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
    efficacy: Score = None
    safety: Score = None
    tolerability: Score = None
    accessibility: Score = None
    adherence: Score = None
    comment: str | None = Field(None, max_length=actions.COMMENT_MAX)


class CommentState(Schema):
    id: int
    status: str
    hold_reasons: list[str]


class RatingOut(Schema):
    id: int
    drug_id: int
    indication_id: int
    off_label: bool
    efficacy: int | None
    safety: int | None
    tolerability: int | None
    accessibility: int | None
    adherence: int | None
    status: str
    created_at: datetime
    updated_at: datetime
    comment: CommentState | None


class CommentOut(Schema):
    id: int
    body: str
    handle: str
    specialty: str
    indication_id: int | None
    indication: str
    off_label: bool
    helpful_count: int
    created_at: datetime
    edited: bool
    voted: bool


class CommentList(Schema):
    items: list[CommentOut]
    total: int


class FlagIn(Schema):
    reason: str = Field(
        ...,
        description="patient_identifier, promotional, off_topic, abusive, misinformation or other",
    )
    note: str = Field("", max_length=500)


class HelpfulOut(Schema):
    helpful_count: int


class FlagOut(Schema):
    id: int
    reason: str


def rating_out(rating: Rating, comment: Comment | None) -> dict:
    return {
        "id": rating.pk,
        "drug_id": rating.drug_id,
        "indication_id": rating.indication_id,
        "off_label": rating.off_label,
        **rating.scores(),
        "status": rating.status,
        "created_at": rating.created_at,
        "updated_at": rating.updated_at,
        "comment": {
            "id": comment.pk,
            "status": comment.status,
            "hold_reasons": comment.hold_reasons,
        }
        if comment
        else None,
    }


@router.put(
    "/drugs/{drug_id}/ratings/mine",
    response={200: RatingOut, 201: RatingOut},
    summary="Rate a drug for an indication (201 first time, 200 when replacing)",
)
def put_my_rating(request: HttpRequest, drug_id: Id, payload: RatingIn) -> Status:
    outcome = actions.upsert_rating(
        request.user,
        drug_id,
        actions.RatingInput(
            indication_id=payload.indication_id,
            scores={
                name: getattr(payload, name)
                for name in ("efficacy", "safety", "tolerability", "accessibility", "adherence")
            },
            comment=payload.comment,
        ),
    )
    return Status(201 if outcome.created else 200, rating_out(outcome.rating, outcome.comment))


@router.delete(
    "/drugs/{drug_id}/ratings/mine",
    response={204: None},
    summary="Withdraw your rating of a drug for an indication",
)
def delete_my_rating(request: HttpRequest, drug_id: Id, indication_id: Id) -> Status:
    actions.withdraw_rating(request.user, drug_id, indication_id)
    return Status(204, None)


@router.get("/me/ratings", response=list[RatingOut], summary="Your ratings")
def list_my_ratings(request: HttpRequest) -> list[dict]:
    return [rating_out(r, getattr(r, "comment", None)) for r in access.my_ratings(request.user)]


@router.get("/drugs/{drug_id}/comments", response=CommentList, summary="Comments on a drug")
def list_comments(
    request: HttpRequest,
    drug_id: Id,
    indication_id: Id | None = None,
    sort: str = "helpful",
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    items, total = access.published_comments(
        request.user, drug_id, indication_id=indication_id, sort=sort, limit=limit, offset=offset
    )
    return {"items": [item.__dict__ for item in items], "total": total}


@router.post(
    "/comments/{comment_id}/helpful", response=HelpfulOut, summary="Mark a comment helpful (once)"
)
def helpful(request: HttpRequest, comment_id: Id) -> dict:
    return {"helpful_count": actions.vote_helpful(request.user, comment_id)}


@router.post("/comments/{comment_id}/flag", response={201: FlagOut}, summary="Report a comment")
def flag(request: HttpRequest, comment_id: Id, payload: FlagIn) -> Status:
    created = moderation_actions.flag_comment(
        request.user, comment_id, payload.reason, payload.note
    )
    return Status(201, {"id": created.pk, "reason": created.reason})
