"""The drug catalogue: drugs, their brands, classes and indications (FDA NDC + DrugCentral)."""

from __future__ import annotations

from django.db import models


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
    source = models.CharField(max_length=40, default="DrugCentral 2016")

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
