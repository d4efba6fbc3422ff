"""Pharma organisations, their subscriptions and analysts. Releases and reports build on these."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PharmaOrganization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(unique=True)
    is_active = models.BooleanField(default=True)
    # Covers every indication and class (used for the demo organisation and for enterprise plans).
    all_areas = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # The manufacturers it stands for: application holders or labellers as the FDA catalogue
    # names them (matched case-insensitively as part of the name, so "Pfizer" covers
    # "Parke-Davis Div of Pfizer Inc"). Their drugs are the organisation's portfolio.
    manufacturers = models.JSONField(default=list, blank=True)
    # Competitors the organisation watches for alerts besides its own portfolio.
    watched_drugs = models.ManyToManyField("catalog.Drug", blank=True, related_name="+")
    # Analyst accounts bought; the organisation admin invites within this number.
    seats = models.PositiveIntegerField(default=5)

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """One area an organisation may see: an indication or a drug class."""

    organization = models.ForeignKey(
        PharmaOrganization, on_delete=models.CASCADE, related_name="subscriptions"
    )
    indication = models.ForeignKey(
        "catalog.Indication", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    drug_class = models.ForeignKey(
        "catalog.DrugClass", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    starts_on = models.DateField(default=timezone.now)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(indication__isnull=False) & Q(drug_class__isnull=True))
                | (Q(indication__isnull=True) & Q(drug_class__isnull=False)),
                name="subscription_one_area",
            )
        ]


class DigestFrequency(models.TextChoices):
    OFF = "off", "Off"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class PharmaAnalyst(models.Model):
    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="pharma_analyst"
    )
    organization = models.ForeignKey(
        PharmaOrganization, on_delete=models.CASCADE, related_name="analysts"
    )
    display_name = models.CharField(max_length=120, blank=True)
    # Invites and removes the organisation's analysts, reads its audit log.
    is_org_admin = models.BooleanField(default=False)
    digest = models.CharField(
        max_length=6, choices=DigestFrequency.choices, default=DigestFrequency.WEEKLY
    )
    digest_sent_at = models.DateTimeField(null=True, blank=True)
    digest_last_release = models.ForeignKey(
        "Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.display_name or f"analyst #{self.pk}"


class PublishedReleases(models.Manager):
    """Releases whose build finished. The builder writes a release in many short transactions
    (so the embedded SQLite database stays writable for requests meanwhile); until its last one
    commits, the release is hidden from every reader that uses `Release.objects`."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(complete=True)


class Release(models.Model):
    """A published, immutable snapshot of every report cell. Pharma reads only releases."""

    published_at = models.DateTimeField(default=timezone.now, db_index=True)
    build_seconds = models.FloatField(default=0.0)
    methodology_version = models.CharField(max_length=20)
    privacy = models.JSONField(default=dict, help_text="Parameters and ledger summary")
    n_events = models.IntegerField(default=0, help_text="Rating changes included")
    n_deferred = models.IntegerField(default=0, help_text="Changes deferred by the budget")
    n_cells_changed = models.IntegerField(default=0)
    n_cells_published = models.IntegerField(default=0)
    n_cells_suppressed = models.IntegerField(default=0)
    complete = models.BooleanField(default=True, help_text="False while being built")

    objects = PublishedReleases()
    all_objects = models.Manager()  # noqa: DJ012 (the builder's view, incl. one being written)

    class Meta:
        ordering = ["-pk"]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return f"release #{self.pk}"


class Level(models.IntegerChoices):
    DRUG = 0, "Drug (all indications)"
    DRUG_INDICATION = 1, "Drug for one indication"


class Breakdown(models.TextChoices):
    NONE = "none", "None"
    SPECIALTY = "specialty", "Specialty"
    REGION = "region", "Region"
    MONTH = "month", "Month"
    # Two at a time: values are "<first>|<second>", e.g. "12|2025-03".
    SPECIALTY_MONTH = "specialty,month", "Specialty by month"
    REGION_SPECIALTY = "region,specialty", "Region by specialty"
    REGION_MONTH = "region,month", "Region by month"


class CellVersion(models.Model):
    """The published values of one report cell, valid from one release until superseded.

    Releases share unchanged cells, so a release is the set of versions with
    `first_release <= R` and (`last_release` null or `>= R`): immutable, and built incrementally.
    Values are per dimension: `values[dim] = {score, ci_low, ci_high, n_raters}`.
    """

    first_release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    last_release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    drug = models.ForeignKey("catalog.Drug", on_delete=models.CASCADE, related_name="+")
    indication = models.ForeignKey(
        "catalog.Indication", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    breakdown = models.CharField(max_length=20, choices=Breakdown.choices)
    breakdown_value = models.CharField(max_length=60, blank=True)
    suppressed = models.BooleanField()
    values = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["level", "indication", "breakdown", "first_release"]),
            models.Index(fields=["level", "drug", "breakdown", "first_release"]),
            models.Index(fields=["last_release"]),
        ]


class CellState(models.Model):
    """Private state of a cell's continual-release tree. Never read by any pharma path."""

    key = models.CharField(max_length=80, unique=True)
    drug_id = models.BigIntegerField(db_index=True)
    step = models.IntegerField(default=0)
    state = models.JSONField(default=dict)


class IncludedRating(models.Model):
    """A rating as last included in pharma statistics (private): its adjusted values, and the
    physician attributes that place it in cells. Changes since are the next release's events."""

    physician_id = models.BigIntegerField()
    # Releases read a drug's included ratings when it changes (and plan drugs in chunks).
    drug_id = models.BigIntegerField(db_index=True)
    indication_id = models.BigIntegerField()
    specialty_id = models.BigIntegerField()
    region = models.CharField(max_length=40)
    month = models.CharField(max_length=7)
    raw = models.JSONField(help_text="The five raw scores when included (None = no opinion)")
    adjusted = models.JSONField(help_text="Centred, clipped, leniency-adjusted values")
    included_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["physician_id", "drug_id", "indication_id"], name="one_included_rating"
            )
        ]


class ChangeMark(models.Model):
    """A physician whose live ratings may differ from those the last release included: written
    by PostgreSQL triggers (`portal.change_marks`) whenever a rating is inserted, edited or
    deleted, or a physician's specialty, region, country or standing changes; read and cleared
    by the next release, which then compares only the marked physicians' rows. A mark for
    EVERYONE (-1) makes the next release compare every physician's."""

    physician_id = models.BigIntegerField()


class LedgerEntry(models.Model):
    """Privacy loss (zCDP rho) charged to a physician by one release."""

    physician_id = models.BigIntegerField(db_index=True)
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="ledger")
    rho = models.FloatField()
    at = models.DateTimeField(default=timezone.now, db_index=True)


class PortalRequest(models.Model):
    """Audit log of every pharma request: who, what, which release, when."""

    user = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        PharmaOrganization, null=True, on_delete=models.SET_NULL, related_name="requests"
    )
    api_key_prefix = models.CharField(max_length=12, blank=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    query = models.CharField(max_length=500, blank=True)
    release = models.ForeignKey(Release, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]


def default_webhook_events() -> list[str]:
    return ["release"]


class Webhook(models.Model):
    """An organisation's endpoint told of each new release, with an HMAC-SHA256 signature."""

    organization = models.ForeignKey(
        PharmaOrganization, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField()
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_release_sent = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_status = models.CharField(max_length=100, blank=True)
    # Which events to POST: "release" and/or "alert".
    events = models.JSONField(default=default_webhook_events)


class EngagementVersion(models.Model):
    """Published engagement of a drug in one completed month: comments and page views, each
    with privacy noise (null when suppressed). Monthly ratings come from the month cells."""

    first_release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    last_release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    drug = models.ForeignKey("catalog.Drug", on_delete=models.CASCADE, related_name="+")
    month = models.CharField(max_length=7)
    comments = models.IntegerField(null=True)
    page_views = models.IntegerField(null=True)
    # Private: the true values these were computed from, to know when to publish anew.
    true_comments = models.IntegerField()
    true_views = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["drug", "first_release"])]


class QuarterlyReport(models.Model):
    """A slide-ready PDF of one subscribed area for one quarter, made by the worker when the
    quarter ends (and kept, so the deck shown to leadership can be downloaded again)."""

    organization = models.ForeignKey(
        PharmaOrganization, on_delete=models.CASCADE, related_name="quarterly_reports"
    )
    kind = models.CharField(max_length=12)  # "indications" or "classes" (the page kinds)
    subject_id = models.BigIntegerField()
    subject_name = models.CharField(max_length=250)
    quarter = models.CharField(max_length=7)  # "2026-Q3"
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    pdf = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-quarter", "subject_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "subject_id", "quarter"],
                name="one_quarterly_report",
            )
        ]
