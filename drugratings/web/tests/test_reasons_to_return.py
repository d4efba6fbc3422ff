"""Saved drugs, recently viewed, the notification centre with its email digest, and replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from drugratings.ratings import actions as rating_actions
from drugratings.ratings.models import Comment, CommentStatus, Rating
from drugratings.verification.models import Decision, VerificationDecision
from drugratings.web.digests import send_due_digests
from drugratings.web.models import NotificationState, SavedDrug
from drugratings.web.notifications import Kind, notices_for, unread_count

DRUG = "/drugs/atorvastatin-calcium/"


@pytest.fixture
def world(small_catalog, personas):
    Rating.objects.create(
        physician=personas.verified.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=4,
    )
    return small_catalog


def colleague_comments(personas, catalog, text="Myalgia in two older patients.") -> Comment:
    outcome = rating_actions.upsert_rating(
        personas.other_verified,
        catalog.atorvastatin.pk,
        rating_actions.RatingInput(catalog.hyperlipidemia.pk, {"efficacy": 3}, text),
    )
    return outcome.comment


def test_a_physician_who_rated_a_drug_is_told_of_a_colleagues_comment(world, personas, web_as):
    client = web_as(personas.verified)
    assert unread_count(personas.verified) == 0
    comment = colleague_comments(personas, world)
    assert unread_count(personas.verified) == 1
    home = client.get("/").content.decode()
    assert 'aria-label="1 new"' in home
    page = client.get("/me/notifications/").content.decode()
    assert "New comment on Atorvastatin calcium (Hyperlipidemia)" in page
    assert f"{DRUG}#comment-{comment.pk}" in page
    # Opening the centre marks them seen; the colleague is not told of their own comment.
    assert unread_count(personas.verified) == 0
    assert notices_for(personas.other_verified) == []


def test_saved_drugs_are_watched_too_and_listed(world, personas, web_as):
    client = web_as(personas.other_verified)
    answer = client.post(f"{DRUG.rstrip('/')}/save/")
    assert answer.status_code == 302 and answer["Location"].endswith("#scores")
    assert SavedDrug.objects.filter(user=personas.other_verified).count() == 1
    assert "Saved ✓" in client.get(DRUG).content.decode()
    assert "Atorvastatin calcium" in client.get("/me/saved/").content.decode()
    Comment.objects.create(
        physician=personas.verified.physician,
        drug=world.atorvastatin,
        indication=world.hyperlipidemia,
        body="Fine for most.",
    )
    assert [n.kind for n in notices_for(personas.other_verified)] == [Kind.COMMENT]
    client.post(f"{DRUG.rstrip('/')}/save/", {"action": "remove"})
    assert not SavedDrug.objects.filter(user=personas.other_verified).exists()


def test_pharma_cannot_save(world, personas, web_as):
    assert web_as(personas.pharma).post(f"{DRUG.rstrip('/')}/save/").status_code == 403
    assert not SavedDrug.objects.exists()


def test_recently_viewed_lists_drug_pages_newest_first(world, personas, web_as):
    client = web_as(personas.verified)
    client.get("/drugs/rosuvastatin-calcium/")
    client.get(DRUG)
    page = client.get("/me/saved/").content.decode()
    recent = page[page.index("Recently viewed") :]
    assert recent.index("Atorvastatin") < recent.index("Rosuvastatin")


def test_a_reply_is_one_level_screened_and_notified(world, personas, web_as):
    comment = colleague_comments(personas, world)
    client = web_as(personas.verified)
    back = f"{DRUG}#comment-{comment.pk}"
    answer = client.post(
        f"/comments/{comment.pk}/reply/", {"body": "Same in my clinic.", "next": back}
    )
    assert answer["Location"] == back
    reply = Comment.objects.get(parent=comment)
    assert reply.status == CommentStatus.PUBLISHED
    page = client.get(back).content.decode()
    assert "Same in my clinic." in page and "Your reply is published." in page
    # The colleague hears of the reply.
    kinds = [n.kind for n in notices_for(personas.other_verified)]
    assert Kind.REPLY in kinds
    # No reply to a reply; an empty reply names its field; nothing stored.
    deeper = client.post(f"/comments/{reply.pk}/reply/", {"body": "x", "next": back})
    empty = client.post(f"/comments/{comment.pk}/reply/", {"body": "  ", "next": back})
    assert deeper.status_code == empty.status_code == 302
    assert Comment.objects.filter(parent__isnull=False).count() == 1
    assert "Write your reply" in client.get(back).content.decode()


def test_a_reply_with_a_patient_identifier_is_held(world, personas, web_as):
    comment = colleague_comments(personas, world)
    web_as(personas.verified).post(
        f"/comments/{comment.pk}/reply/",
        {"body": "Call my patient on 415-555-0134 or jane.doe@example.com", "next": DRUG},
    )
    reply = Comment.objects.get(parent=comment)
    assert reply.status == CommentStatus.HELD and reply.hold_reasons
    assert notices_for(personas.other_verified) == []  # held replies are not announced


def test_verification_outcomes_are_notified(world, personas):
    VerificationDecision.objects.create(
        physician=personas.pending.physician, decision=Decision.VERIFIED, reason="NPI matched"
    )
    assert [n.text for n in notices_for(personas.pending)] == ["Verification: verified"]


def test_the_digest_emails_once_a_day_only_when_asked(world, personas, web_as):
    colleague_comments(personas, world)
    assert send_due_digests() == 0  # nobody asked
    web_as(personas.verified).post("/me/notifications/", {"digest": "on"})
    assert NotificationState.objects.get(user=personas.verified).digest
    out = __import__("io").StringIO()
    call_command("send_digests", stdout=out)
    assert "1 digest(s) sent" in out.getvalue()
    assert len(mail.outbox) == 1 and "New comment on Atorvastatin" in mail.outbox[0].body
    assert send_due_digests() == 0  # not again within the day
    later = timezone.now() + timedelta(days=1, minutes=1)
    assert send_due_digests(now=later) == 0  # nothing new since
