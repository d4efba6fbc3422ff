"""Moderators work the queue; every action is audited."""

from __future__ import annotations

from django.core import mail

from drugratings.accounts.models import VerificationStatus
from drugratings.moderation.models import CommentFlag, ModeratorAction, ModeratorActionKind
from drugratings.ratings.models import Comment, CommentStatus, Rating


def held_comment(personas, catalog, body="Mr. Jones, DOB 01/02/1950, call 617-555-0100"):
    rating = Rating.objects.create(
        physician=personas.verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        efficacy=4,
    )
    return Comment.objects.create(
        physician=personas.verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        rating=rating,
        body=body,
        status=CommentStatus.HELD,
        hold_reasons=["phone number"],
    )


def test_the_queue_shows_held_and_flagged_comments(small_catalog, personas, web_as):
    held = held_comment(personas, small_catalog)
    flagged = Comment.objects.create(
        physician=personas.other_verified.physician,
        drug=small_catalog.sertraline,
        body="Buy it cheap",
    )
    CommentFlag.objects.create(
        comment=flagged, reporter=personas.verified.physician, reason="promotional"
    )
    page = web_as(personas.moderator).get("/moderation/")
    assert page.status_code == 200
    assert f"comment-{held.pk}".encode() not in page.content  # not a public anchor
    assert b"Mr. Jones" in page.content and b"Buy it cheap" in page.content


def test_a_moderator_edits_out_identifiers_and_publishes(small_catalog, personas, web_as):
    comment = held_comment(personas, small_catalog)
    response = web_as(personas.moderator).post(
        f"/moderation/comments/{comment.pk}/",
        {
            "action": "edit",
            "body": "The patient did well.",
            "reason": "Removed name, DOB and phone",
        },
    )
    assert response.status_code == 302
    comment.refresh_from_db()
    assert (comment.status, comment.body) == (CommentStatus.PUBLISHED, "The patient did well.")
    audit = ModeratorAction.objects.get()
    assert audit.kind == ModeratorActionKind.EDIT and audit.moderator == personas.moderator
    assert "DOB 01/02/1950" in audit.details["previous_body"]


def test_remove_warn_and_suspend_are_audited(small_catalog, personas, web_as):
    client = web_as(personas.moderator)
    comment = held_comment(personas, small_catalog)
    client.post(
        f"/moderation/comments/{comment.pk}/",
        {"action": "warn", "reason": "No identifiers, please."},
    )
    assert mail.outbox[-1].to == ["verified@doc.test"]
    client.post(
        f"/moderation/comments/{comment.pk}/", {"action": "remove", "reason": "Identifiers"}
    )
    comment.refresh_from_db()
    assert comment.status == CommentStatus.REMOVED
    client.post(f"/moderation/comments/{comment.pk}/", {"action": "suspend", "reason": "Repeated"})
    personas.verified.physician.refresh_from_db()
    assert personas.verified.physician.verification_status == VerificationStatus.SUSPENDED
    kinds = list(ModeratorAction.objects.order_by("at").values_list("kind", flat=True))
    assert kinds == [
        ModeratorActionKind.WARN,
        ModeratorActionKind.REMOVE,
        ModeratorActionKind.SUSPEND,
    ]


def test_a_removal_needs_a_reason(small_catalog, personas, web_as):
    comment = held_comment(personas, small_catalog)
    web_as(personas.moderator).post(f"/moderation/comments/{comment.pk}/", {"action": "remove"})
    comment.refresh_from_db()
    assert comment.status == CommentStatus.HELD and not ModeratorAction.objects.exists()


def test_only_moderators_moderate(small_catalog, personas, web_as):
    comment = held_comment(personas, small_catalog)
    for user in (personas.verified, personas.pharma):
        client = web_as(user)
        assert client.get("/moderation/").status_code == 403
        response = client.post(f"/moderation/comments/{comment.pk}/", {"action": "approve"})
        assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == CommentStatus.HELD
