"""Ratings (one per physician, drug and indication), their edit history, comments and votes."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from drugratings.ratings.dimensions import DIMENSION_NAMES, SCORE_MAX, SCORE_MIN


class RatingStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    QUARANTINED = "quarantined", "Quarantined (excluded pending review)"
    REMOVED = "removed", "Removed by a moderator"


def _score_field() -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(null=True, blank=True)


def _score_checks() -> list[models.CheckConstraint]:
    checks = [
        models.CheckConstraint(
            condition=Q(**{f"{name}__isnull": True})
            | Q(**{f"{name}__gte": SCORE_MIN, f"{name}__lte": SCORE_MAX}),
            name=f"rating_{name}_1_to_5",
        )
        for name in DIMENSION_NAMES
    ]
    at_least_one = Q()
    for name in DIMENSION_NAMES:
        at_least_one |= Q(**{f"{name}__isnull": False})
    checks.append(models.CheckConstraint(condition=at_least_one, name="rating_has_a_score"))
    return checks


class Rating(models.Model):
    physician = models.ForeignKey(
        "accounts.PhysicianProfile", on_delete=models.CASCADE, related_name="ratings"
    )
    drug = models.ForeignKey("catalog.Drug", on_delete=models.CASCADE, related_name="ratings")
    indication = models.ForeignKey(
        "catalog.Indication", on_delete=models.PROTECT, related_name="ratings"
    )
    off_label = models.BooleanField(default=False)
    efficacy = _score_field()
    safety = _score_field()
    tolerability = _score_field()
    accessibility = _score_field()
    adherence = _score_field()
    status = models.CharField(
        max_length=16, choices=RatingStatus.choices, default=RatingStatus.ACTIVE
    )
    # Set by trust and safety when the rater declared (or was paid by) an interested company.
    conflict_of_interest = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["physician", "drug", "indication"],
                name="one_rating_per_physician_drug_indication",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in RatingStatus]), name="rating_status_valid"
            ),
            *_score_checks(),
        ]
        indexes = [
            models.Index(fields=["drug", "indication"]),
            models.Index(fields=["indication"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return f"rating #{self.pk}"

    def scores(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in DIMENSION_NAMES}


class RevisionAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    WITHDRAWN = "withdrawn", "Withdrawn"
    QUARANTINED = "quarantined", "Quarantined"
    RESTORED = "restored", "Restored"
    REMOVED = "removed", "Removed"


class RatingRevision(models.Model):
    """Every state a rating has had, kept when the rating is edited or withdrawn."""

    rating = models.ForeignKey(
        Rating, null=True, on_delete=models.SET_NULL, related_name="revisions"
    )
    physician = models.ForeignKey(
        "accounts.PhysicianProfile", on_delete=models.CASCADE, related_name="+"
    )
    drug = models.ForeignKey("catalog.Drug", on_delete=models.CASCADE, related_name="+")
    indication = models.ForeignKey("catalog.Indication", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=RevisionAction.choices)
    efficacy = _score_field()
    safety = _score_field()
    tolerability = _score_field()
    accessibility = _score_field()
    adherence = _score_field()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["physician", "drug"])]


class CommentStatus(models.TextChoices):
    PUBLISHED = "published", "Published"
    HELD = "held", "Held for moderation"
    REMOVED = "removed", "Removed"


class Comment(models.Model):
    """A physician's comment on a drug for an indication. Stored as plain text."""

    physician = models.ForeignKey(
        "accounts.PhysicianProfile", on_delete=models.CASCADE, related_name="comments"
    )
    drug = models.ForeignKey("catalog.Drug", on_delete=models.CASCADE, related_name="comments")
    indication = models.ForeignKey(
        "catalog.Indication", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rating = models.OneToOneField(
        Rating, null=True, blank=True, on_delete=models.SET_NULL, related_name="comment"
    )
    # A reply to another comment (one level only: a reply is never replied to).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    body = models.TextField(max_length=4000)
    status = models.CharField(
        max_length=16, choices=CommentStatus.choices, default=CommentStatus.PUBLISHED
    )
    hold_reasons = models.JSONField(default=list, blank=True)
    helpful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CommentStatus]),
                name="comment_status_valid",
            )
        ]
        indexes = [
            models.Index(fields=["drug", "status", "-helpful_count"]),
            models.Index(fields=["drug", "status", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
            # Replies to given comments (a drug page, a physician's notifications): without it
            # SQLite walks every published comment by the status index. Replies only, so that
            # top-level reads (`parent IS NULL`) keep the drug indexes above.
            models.Index(
                fields=["parent", "status", "created_at"],
                condition=Q(parent__isnull=False),
                name="comment_replies_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"comment #{self.pk}"


class HelpfulVote(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="votes")
    physician = models.ForeignKey(
        "accounts.PhysicianProfile", on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "physician"], name="one_vote_per_comment")
        ]


class DrugRatingsVersion(models.Model):
    """Bumped in the same transaction as any change to a drug's ratings, so cached figures of
    the drug are never served stale (every server process compares this number).

    `comments_version` moves with what the drug's comment list shows and its ratings do not:
    helpful votes, replies, moderators' decisions. Cached comment lists are keyed by both
    numbers; the figures by `version` alone, so a vote never invalidates them."""

    drug = models.OneToOneField(
        "catalog.Drug", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.BigIntegerField(default=0)
    comments_version = models.BigIntegerField(default=0)
