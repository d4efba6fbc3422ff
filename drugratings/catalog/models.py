"""The drug catalogue: drugs, their brands, classes and indications (FDA NDC + DrugCentral)."""

from __future__ import annotations

import re

from django.db import models
from django.utils import timezone

# Indication names that are procedures, administration or supplementation, not conditions a
# physician chooses a drug for ("Administration of Local Anesthesia").
NONCLINICAL = re.compile(
    r"\b(administration|anesthesia|anaesthesia|diagnostic|radiograph|imaging|contrast|"
    r"procedure|sedation|premedication|adjunct|supplement|deficiency prevention|"
    r"nutritional|irrigation|dialysis|transfusion|sunscreen)\b",
    re.IGNORECASE,
)


def is_clinical(indication_name: str) -> bool:
    return NONCLINICAL.search(indication_name) is None


class DrugClass(models.Model):
    """An FDA Established Pharmacologic Class (or MeSH action where FDA gives none)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=220, unique=True)
    source = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "drug classes"

    def __str__(self) -> str:
        return self.name


class Indication(models.Model):
    """A condition a drug is used for, with its ICD-10-CM codes where a mapping exists."""

    name = models.CharField(max_length=250, unique=True)
    slug = models.SlugField(max_length=270, unique=True)
    icd10_codes = models.JSONField(default=list, blank=True)
    # Lower-cased name and codes, for portable case-insensitive search.
    search_text = models.TextField(blank=True)
    doid = models.CharField(max_length=20, blank=True)
    umls_cui = models.CharField(max_length=20, blank=True)
    # Other names of the condition (Disease Ontology label, MeSH heading), for search.
    synonyms = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def icd10_display(self) -> str:
        return ", ".join(self.icd10_codes)


class Drug(models.Model):
    """One prescription drug: a distinct set of active moieties, with its brands."""

    source_id = models.CharField(max_length=40, unique=True, help_text="e.g. NDC2019-00123")
    # Source ids of catalogue rows merged into this drug (other salts or hydrates of its moiety).
    aliases = models.JSONField(default=list, blank=True)
    generic_name = models.CharField(max_length=400)
    slug = models.SlugField(max_length=420, unique=True)
    moiety_key = models.CharField(max_length=600, db_index=True, help_text="Sorted active moieties")
    drug_class = models.ForeignKey(
        DrugClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="drugs"
    )
    other_classes = models.ManyToManyField(DrugClass, blank=True, related_name="+")
    brand_names = models.JSONField(default=list, blank=True)
    manufacturer = models.CharField(max_length=200, blank=True)
    manufacturers = models.JSONField(default=list, blank=True)
    application_numbers = models.JSONField(default=list, blank=True)
    approval_status = models.CharField(max_length=60, blank=True)
    product_type = models.CharField(max_length=60, blank=True)
    routes = models.CharField(max_length=300, blank=True)
    dosage_forms = models.CharField(max_length=300, blank=True)
    dea_schedule = models.CharField(max_length=10, blank=True)
    first_marketed = models.DateField(null=True, blank=True)
    is_listed = models.BooleanField(default=True, help_text="Listed in the latest NDC file")
    # Lower-cased generic and brand names joined by "|", for portable substring search.
    search_text = models.TextField(blank=True)
    indications = models.ManyToManyField(
        Indication, through="DrugIndication", related_name="drugs", blank=True
    )

    class Meta:
        ordering = ["generic_name"]
        indexes = [models.Index(fields=["generic_name"])]

    def __str__(self) -> str:
        return self.generic_name

    @property
    def display_name(self) -> str:
        return self.generic_name[:1].upper() + self.generic_name[1:]

    @property
    def listed_indications(self) -> list[Indication]:
        """Labelled indications by name, each with `source`: the reference that lists it.
        Uses the prefetched `drug_indications` (catalog.access.drugs_with_relations)."""
        links = self.drug_indications.all()
        if "drug_indications" not in getattr(self, "_prefetched_objects_cache", {}):
            links = links.select_related("indication")  # not prefetched: one query, not N
        listed = []
        for link in links:
            indication = link.indication
            indication.source = link.source
            listed.append(indication)
        return sorted(listed, key=lambda i: i.name.lower())


class BrandProduct(models.Model):
    """A branded NDA/BLA product of a drug, with its application holder."""

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="brand_products")
    brand_name = models.CharField(max_length=300)
    application_number = models.CharField(max_length=30)
    application_holder = models.CharField(max_length=200, blank=True)
    routes = models.CharField(max_length=300, blank=True)
    first_marketed = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["drug", "brand_name", "application_number"], name="brand_product_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand_name} ({self.application_number})"


class DrugIndication(models.Model):
    """A labelled or literature indication of a drug (off-label ratings need no row here)."""

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="drug_indications")
    indication = models.ForeignKey(
        Indication, on_delete=models.CASCADE, related_name="drug_indications"
    )
    # The reference(s) listing the pair, e.g. "FDA label (LabeledIn); PharmacotherapyDB".
    source = models.CharField(max_length=200, default="FDA label (LabeledIn)")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["drug", "indication"], name="drug_indication_unique")
        ]


class OfficialDrugInfo(models.Model):
    """Manufacturer label facts shown apart from physician content; edited by admins only."""

    drug = models.OneToOneField(Drug, on_delete=models.CASCADE, related_name="official_info")
    label_url = models.URLField(blank=True)
    approval_date = models.DateField(null=True, blank=True)
    summary = models.TextField(blank=True, max_length=2000)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "official drug information"
        verbose_name_plural = "official drug information"


class CatalogImport(models.Model):
    """One run of the catalogue importer, with what it did and what it skipped."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=300)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)


class CatalogReportKind(models.TextChoices):
    NOT_ON_LABEL = "not_on_label", "An indication listed here is not on the label"
    MISSING_INDICATION = "missing_indication", "A labelled indication is missing"
    WRONG_SOURCE = "wrong_source", "The source given for an indication is wrong"
    OTHER = "other", "Another fact is wrong (class, brand, maker)"


class CatalogReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    CORRECTED = "corrected", "Corrected"
    DISMISSED = "dismissed", "Dismissed"


class CatalogErrorReport(models.Model):
    """A physician's or moderator's report that a catalogue fact is wrong; moderators resolve it."""

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="error_reports")
    indication = models.ForeignKey(
        Indication, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=CatalogReportKind.choices)
    message = models.TextField(max_length=2000)
    reporter = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=12, choices=CatalogReportStatus.choices, default=CatalogReportStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]


class CorrectionAction(models.TextChoices):
    REMOVE_INDICATION = "remove_indication", "Not on the label: remove the indication"
    ADD_INDICATION = "add_indication", "On the label: list the indication"


class CatalogCorrection(models.Model):
    """A moderator's correction of a drug's labelled indications. The importer applies every
    correction after loading the sources, so corrections survive re-imports."""

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="corrections")
    indication = models.ForeignKey(Indication, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=20, choices=CorrectionAction.choices)
    # The reference the moderator checked (shown as the indication's source when added).
    reference = models.CharField(max_length=200)
    report = models.ForeignKey(
        CatalogErrorReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["drug", "indication"], name="one_correction_per_pair")
        ]


class CatalogAudit(models.Model):
    """Append-only record of every change made to the catalogue by a person."""

    actor = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=40)
    drug = models.ForeignKey(Drug, null=True, on_delete=models.SET_NULL, related_name="+")
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
