"""Stored model scores, fit runs, the debounced refit queue and per-drug daily view counts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Window(models.TextChoices):
    ALL_TIME = "all", "All time"
    TRAILING_12M = "12m", "Trailing 12 months"


class FitRun(models.Model):
    """One refit of the score model over all active ratings, stamped with its methodology."""

    methodology_version = models.CharField(max_length=20)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    n_ratings = models.IntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    is_current = models.BooleanField(default=False)
    # Rater and specialty effects of the all-time fit (npz), for rater-adjusted monthly trends.
    effects = models.BinaryField(null=True, blank=True)
    # ratingstats.diagnostics.Diagnostics.to_dict() of each dimension's all-time drug fit, keyed
    # by dimension: the public methodology page's diagnostics (no per-rating data).
    diagnostics = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_fit"
            )
        ]


class Score(models.Model):
    """A model-adjusted score of one drug (optionally for one indication) on one dimension."""

    fit = models.ForeignKey(FitRun, on_delete=models.CASCADE, related_name="scores")
    drug = models.ForeignKey("catalog.Drug", on_delete=models.CASCADE, related_name="scores")
    indication = models.ForeignKey(
        "catalog.Indication", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    dimension = models.CharField(max_length=16)
    window = models.CharField(max_length=4, choices=Window.choices, default=Window.ALL_TIME)
    estimate = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    n_ratings = models.IntegerField()
    n_raters = models.IntegerField()
    shown = models.BooleanField()
    se = models.FloatField(null=True)
    # Rank among the shown drugs of the same indication (indication rows) or class (drug rows).
    rank = models.IntegerField(null=True)
    rank_low = models.IntegerField(null=True)
    rank_high = models.IntegerField(null=True)
    rank_of = models.IntegerField(null=True)
    p_best = models.FloatField(null=True)
    best_in_group = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["fit", "drug", "window"]),
            models.Index(fields=["fit", "indication", "window"]),
        ]


class RefitRequest(models.Model):
    """A queued request to refit scores; the worker claims with a conditional UPDATE."""

    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.CharField(max_length=60, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, db_index=True)


class DrugViewDaily(models.Model):
    """Page views of a drug per day. Counts only: never who viewed."""

    drug = models.ForeignKey("catalog.Drug", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["drug", "day"], name="one_view_row_per_drug_day")
        ]
