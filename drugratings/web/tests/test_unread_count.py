"""The menu's unread count is the length of the notification list since last seen, counted in
one statement: every kind of notice, none of the physician's own, none held, at most LIMIT."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from drugratings.ratings.models import Comment, CommentStatus, Rating
from drugratings.verification.models import Decision, VerificationDecision
from drugratings.web.actions import mark_seen
from drugratings.web.models import NotificationState, SavedDrug
from drugratings.web.notifications import LIMIT, notices_for, unread_count


def listed(user) -> int:
    state = NotificationState.objects.filter(user=user).first()
    return len(notices_for(user, since=state.seen_at if state else None))


@pytest.fixture
def reader(small_catalog, personas):
    me = personas.verified
    Rating.objects.create(
        physician=me.physician,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=4,
    )
    SavedDrug.objects.create(user=me, drug=small_catalog.sertraline)
    return me


def comment(author, drug, *, parent=None, status=CommentStatus.PUBLISHED, at=None) -> Comment:
    at = at or timezone.now()
    return Comment.objects.create(
        physician=author.physician,
        drug=drug,
        parent=parent,
        body="Seen it too.",
        status=status,
        created_at=at,
        updated_at=at,
    )


def test_it_counts_what_the_list_shows_and_nothing_else(small_catalog, personas, reader):
    colleague, cat = personas.other_verified, small_catalog
    assert unread_count(reader) == listed(reader) == 0
    comment(colleague, cat.atorvastatin)  # on a drug the reader rated
    comment(colleague, cat.sertraline)  # on a drug the reader saved
    mine = comment(reader, cat.atorvastatin)  # the reader's own: never a notice
    comment(colleague, cat.atorvastatin, parent=mine)  # a reply to the reader
    comment(reader, cat.atorvastatin, parent=comment(colleague, cat.rosuvastatin))
    comment(colleague, cat.rosuvastatin)  # a drug the reader neither rated nor saved
    comment(colleague, cat.atorvastatin, status=CommentStatus.HELD)
    VerificationDecision.objects.create(
        physician=reader.physician, decision=Decision.VERIFIED, reason="NPI matched"
    )
    assert unread_count(reader) == listed(reader) == 4


def test_it_counts_only_what_came_after_the_list_was_seen(small_catalog, personas, reader):
    colleague = personas.other_verified
    comment(colleague, small_catalog.atorvastatin, at=timezone.now() - timedelta(hours=1))
    mark_seen(reader)
    assert unread_count(reader) == listed(reader) == 0
    comment(colleague, small_catalog.atorvastatin, at=timezone.now() + timedelta(seconds=1))
    assert unread_count(reader) == listed(reader) == 1


def test_it_stops_where_the_list_does(small_catalog, personas, reader):
    for _ in range(LIMIT + 5):
        comment(personas.other_verified, small_catalog.atorvastatin)
    assert unread_count(reader) == listed(reader) == LIMIT


def test_other_roles_have_no_count(personas):
    assert unread_count(personas.moderator) == unread_count(personas.pharma) == 0
