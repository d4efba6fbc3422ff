"""The verification queue: verifiers review licences and decide, with an audited reason."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from drugratings.accounts.access import Capability, require
from drugratings.accounts.admin_access import CapabilityAdminMixin
from drugratings.accounts.models import VerificationStatus
from drugratings.errors import InvalidInput
from drugratings.verification import actions
from drugratings.verification.matching import match_registry
from drugratings.verification.models import (
    Decision,
    RegistryRecord,
    Taxonomy,
    VerificationCase,
    VerificationDecision,
)

QUEUE_DECISIONS = [
    ("", "— keep as it is —"),
    (Decision.VERIFIED, "Approve: verified physician"),
    (Decision.MORE_INFO, "Ask for more information"),
    (Decision.REJECTED, "Reject"),
    (Decision.SUSPENDED, "Suspend"),
]


class DecisionForm(forms.ModelForm):
    decision = forms.ChoiceField(choices=QUEUE_DECISIONS, required=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required with a decision. Shown to the physician; audited.",
    )

    class Meta:
        model = VerificationCase
        fields: list[str] = []

    def clean(self) -> dict:
        data = super().clean()
        if data.get("decision") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason for the decision.")
        return data


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("queue", "Needs review (pending)"), *VerificationStatus.choices]

    def queryset(self, request, queryset):
        value = self.value() or "queue"
        if value == "queue":
            return queryset.filter(verification_status=VerificationStatus.PENDING)
        return queryset.filter(verification_status=value)

    def choices(self, changelist):
        for option in super().choices(changelist):
            if option["display"] == "All":
                continue
            if self.value() is None and option.get("query_string", "").endswith("status=queue"):
                option["selected"] = True
            yield option


@admin.register(VerificationCase)
class VerificationCaseAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    view_capability = Capability.VERIFY
    change_capability = Capability.VERIFY
    form = DecisionForm
    list_display = (
        "handle",
        "specialty",
        "country",
        "verification_status",
        "submitted",
        "status_reason",
    )
    list_filter = (StatusFilter, "country", "specialty")
    search_fields = ("handle", "identity__last_name", "identity__npi", "identity__license_number")
    ordering = ("identity__submitted_at", "created_at")
    list_select_related = ("specialty", "identity")
    readonly_fields = (
        "handle",
        "specialty",
        "country",
        "region",
        "verification_status",
        "status_reason",
        "identity_summary",
        "registry_check",
        "history",
    )
    fieldsets = (
        (
            "Account",
            {
                "fields": (
                    "handle",
                    "specialty",
                    "country",
                    "region",
                    "verification_status",
                    "status_reason",
                )
            },
        ),
        ("Identity (verifiers only)", {"fields": ("identity_summary", "registry_check")}),
        ("Decide", {"fields": ("decision", "reason")}),
        ("History", {"fields": ("history",)}),
    )

    @admin.display(description="Submitted", ordering="identity__submitted_at")
    def submitted(self, obj: VerificationCase):
        return obj.identity.submitted_at if hasattr(obj, "identity") else None

    @admin.display(description="Identity and licence")
    def identity_summary(self, obj: VerificationCase) -> str:
        identity = getattr(obj, "identity", None)
        if identity is None:
            return "No identity on file."
        document = (
            format_html(
                '<a href="{}">Download licence document</a>',
                reverse("admin:verification_document", args=[obj.pk]),
            )
            if identity.document
            else "No document uploaded."
        )
        return format_html(
            "{} {}<br>Email: {}<br>NPI: {}<br>Licence: {} ({}; {} {})<br>{}",
            identity.first_name,
            identity.last_name,
            obj.user.email,
            identity.npi or "—",
            identity.license_number or "—",
            identity.license_body or "issuing body not given",
            identity.license_country,
            identity.license_region,
            document,
        )

    @admin.display(description="Registry check")
    def registry_check(self, obj: VerificationCase) -> str:
        identity = getattr(obj, "identity", None)
        if identity is None or not identity.npi:
            return "No NPI given: verify the licence with the issuing body."
        outcome = match_registry(identity.npi, identity.first_name, identity.last_name)
        record = RegistryRecord.objects.filter(npi=identity.npi).first()
        taxonomy = Taxonomy.objects.filter(code=record.primary_taxonomy).first() if record else None
        found = (
            (
                f"Registry: {record.first_name} {record.last_name}, "
                f"{taxonomy or record.primary_taxonomy}"
            )
            if record
            else "Not in registry."
        )
        return format_html(
            "{}<br>Automatic outcome: {} — {}", found, outcome.status, outcome.reason
        )

    @admin.display(description="Decisions")
    def history(self, obj: VerificationCase) -> str:
        rows = VerificationDecision.objects.filter(physician=obj).select_related("decided_by")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — {} by {}: {}</li>",
                (
                    (
                        d.at.strftime("%Y-%m-%d %H:%M"),
                        d.get_decision_display(),
                        d.decided_by.email if d.decided_by else "automatic check",
                        d.reason,
                    )
                    for d in rows
                ),
            ),
        )

    def save_model(self, request: HttpRequest, obj: VerificationCase, form, change: bool) -> None:
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        try:
            actions.decide(obj, decision, form.cleaned_data["reason"], request.user)
        except InvalidInput as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{obj.handle}: {dict(QUEUE_DECISIONS)[decision]}.")

    def get_urls(self):
        return [
            path(
                "<int:pk>/document/",
                self.admin_site.admin_view(self.document),
                name="verification_document",
            ),
            *super().get_urls(),
        ]

    def document(self, request: HttpRequest, pk: int) -> HttpResponse:
        require(request.user, Capability.READ_IDENTITY)
        case = VerificationCase.objects.filter(pk=pk).select_related("identity").first()
        if case is None or not getattr(case, "identity", None) or not case.identity.document:
            raise Http404("No document.")
        response = FileResponse(case.identity.document.open("rb"), as_attachment=True)
        response["X-Content-Type-Options"] = "nosniff"
        return response


@admin.register(VerificationDecision)
class VerificationDecisionAdmin(CapabilityAdminMixin, admin.ModelAdmin):
    view_capability = Capability.VERIFY
    change_capability = Capability.ADMINISTER
    list_display = ("at", "physician", "decision", "decided_by", "reason")
    list_filter = ("decision",)
    readonly_fields = ("physician", "decision", "reason", "decided_by", "at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False
