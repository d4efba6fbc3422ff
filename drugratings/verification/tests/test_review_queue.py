"""Manual verification: licence submission and the verifiers' queue in the admin."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from drugratings.accounts.models import VerificationStatus
from drugratings.verification.models import Decision, VerificationDecision

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def licence_form(**overrides):
    data = {
        "license_number": "GMC-7654321",
        "license_body": "General Medical Council",
        "country": "GB",
        "region": "London",
        "document": SimpleUploadedFile("licence.pdf", PDF, content_type="application/pdf"),
    }
    data.update(overrides)
    return data


def test_an_unverified_physician_submits_a_licence_and_becomes_pending(personas, api_as):
    client = api_as(personas.unverified)
    response = client.client.post("/api/v1/me/licence", licence_form(), headers=client.headers)
    assert response.status_code == 200, response.content
    assert response.json()["verification_status"] == "pending"
    identity = personas.unverified.physician.identity
    identity.refresh_from_db()
    assert identity.license_body == "General Medical Council" and identity.document.name


def test_a_licence_document_must_be_a_pdf_or_image(personas, api_as):
    client = api_as(personas.unverified)
    bad = SimpleUploadedFile("licence.exe", b"MZ\x90\x00", content_type="application/pdf")
    response = client.client.post(
        "/api/v1/me/licence", licence_form(document=bad), headers=client.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "document"
    personas.unverified.physician.refresh_from_db()
    assert personas.unverified.physician.verification_status == VerificationStatus.UNVERIFIED


def test_verified_physicians_and_pharma_cannot_submit_a_licence(personas, api_as):
    for user in (personas.verified, personas.pharma):
        client = api_as(user)
        response = client.client.post("/api/v1/me/licence", licence_form(), headers=client.headers)
        assert response.status_code == 403


def test_a_verifier_approves_a_pending_physician_in_the_admin(personas, web_as):
    pending = personas.pending.physician
    admin = web_as(personas.moderator)
    queue = admin.get("/admin/verification/verificationcase/")
    assert queue.status_code == 200 and pending.handle.encode() in queue.content
    page = admin.get(f"/admin/verification/verificationcase/{pending.pk}/change/")
    assert b"Penny Pendleton" in page.content  # verifiers see the identity
    response = admin.post(
        f"/admin/verification/verificationcase/{pending.pk}/change/",
        {"decision": Decision.VERIFIED, "reason": "Licence confirmed with GMC"},
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.verification_status == VerificationStatus.VERIFIED
    decision = VerificationDecision.objects.get(physician=pending)
    assert (decision.decided_by, decision.reason) == (
        personas.moderator,
        "Licence confirmed with GMC",
    )


def test_a_decision_needs_a_reason(personas, web_as):
    pending = personas.pending.physician
    response = web_as(personas.moderator).post(
        f"/admin/verification/verificationcase/{pending.pk}/change/",
        {"decision": Decision.REJECTED, "reason": ""},
    )
    assert response.status_code == 200 and b"Give a reason" in response.content
    pending.refresh_from_db()
    assert pending.verification_status == VerificationStatus.PENDING
    assert not VerificationDecision.objects.filter(physician=pending).exists()


def test_rejecting_and_asking_for_more_are_audited(personas, web_as):
    admin = web_as(personas.moderator)
    for user, decision, status in (
        (personas.pending, Decision.REJECTED, "rejected"),
        (personas.rejected, Decision.MORE_INFO, "unverified"),
    ):
        admin.post(
            f"/admin/verification/verificationcase/{user.physician.pk}/change/",
            {"decision": decision, "reason": "See message"},
        )
        user.physician.refresh_from_db()
        assert user.physician.verification_status == status
        assert VerificationDecision.objects.filter(
            physician=user.physician, decision=decision, decided_by=personas.moderator
        ).exists()


def test_pharma_and_physicians_cannot_reach_the_queue(personas, web_as):
    for user in (personas.pharma, personas.verified):
        response = web_as(user).get("/admin/verification/verificationcase/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_verifier_downloads_the_licence_document(personas, api_as, web_as):
    client = api_as(personas.unverified)
    client.client.post("/api/v1/me/licence", licence_form(), headers=client.headers)
    case = personas.unverified.physician.pk
    response = web_as(personas.moderator).get(
        f"/admin/verification/verificationcase/{case}/document/"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
