"""Rating through the API: create, replace, validate, withdraw; comments, votes and flags."""

from __future__ import annotations

import pytest

from drugratings.analytics.models import RefitRequest
from drugratings.moderation.models import CommentFlag
from drugratings.ratings.models import (
    Comment,
    CommentStatus,
    HelpfulVote,
    Rating,
    RatingRevision,
    RevisionAction,
)

FULL = {"efficacy": 4, "safety": 5, "tolerability": 3, "accessibility": 2, "adherence": 4}


def put(client, catalog, drug=None, **body):
    drug = drug or catalog.atorvastatin
    payload = {"indication_id": catalog.hyperlipidemia.pk, **FULL, **body}
    return client.put(f"/api/v1/drugs/{drug.pk}/ratings/mine", payload)


def drug_counts(client, catalog):
    body = client.get(f"/api/v1/drugs/{catalog.atorvastatin.pk}").json()
    return {
        s["dimension"]: (s["n_ratings"], s["distribution"])
        for s in body["scores"]
        if s["indication_id"] is None
    }


def test_first_put_is_201_and_second_is_200_with_the_count_unchanged(
    small_catalog, personas, api_as
):
    client = api_as(personas.verified)
    first = put(client, small_catalog)
    assert first.status_code == 201
    assert first.json()["off_label"] is False and first.json()["efficacy"] == 4
    assert drug_counts(client, small_catalog)["efficacy"] == (1, [0, 0, 0, 1, 0])
    second = put(client, small_catalog, efficacy=2)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert drug_counts(client, small_catalog)["efficacy"] == (1, [0, 1, 0, 0, 0])
    assert Rating.objects.count() == 1
    actions = list(RatingRevision.objects.order_by("pk").values_list("action", "efficacy"))
    assert actions == [(RevisionAction.CREATED, 4), (RevisionAction.UPDATED, 2)]
    assert RefitRequest.objects.count() == 2


@pytest.mark.parametrize(
    "field", ["efficacy", "safety", "tolerability", "accessibility", "adherence"]
)
@pytest.mark.parametrize("value", [0, 6, "abc", 4.5, True, "4"])
def test_a_bad_score_is_a_422_naming_the_field_and_stores_nothing(
    small_catalog, personas, api_as, field, value
):
    response = put(api_as(personas.verified), small_catalog, **{field: value})
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Rating.objects.exists() and not RatingRevision.objects.exists()


def test_all_nulls_is_a_422_and_stores_nothing(small_catalog, personas, api_as):
    nulls = dict.fromkeys(FULL)
    response = put(api_as(personas.verified), small_catalog, **nulls)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "efficacy"
    assert "at least one" in response.json()["errors"][0]["message"]
    assert not Rating.objects.exists()


def test_a_failed_update_keeps_the_stored_rating(small_catalog, personas, api_as):
    client = api_as(personas.verified)
    put(client, small_catalog)
    assert put(client, small_catalog, safety=9).status_code == 422
    assert Rating.objects.get().safety == 5


@pytest.mark.parametrize("indication_id", [999999, "x", None])
def test_an_unknown_indication_is_a_422(small_catalog, personas, api_as, indication_id):
    response = put(api_as(personas.verified), small_catalog, indication_id=indication_id)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "indication_id"
    assert not Rating.objects.exists()


def test_an_unknown_drug_is_a_404(small_catalog, personas, api_as):
    response = api_as(personas.verified).put(
        "/api/v1/drugs/999999/ratings/mine",
        {"indication_id": small_catalog.hyperlipidemia.pk, **FULL},
    )
    assert response.status_code == 404
    assert not Rating.objects.exists()


def test_rating_for_an_unlisted_indication_is_off_label(small_catalog, personas, api_as):
    response = put(
        api_as(personas.verified),
        small_catalog,
        drug=small_catalog.unindicated,
        indication_id=small_catalog.migraine.pk,
    )
    assert response.status_code == 201 and response.json()["off_label"] is True
    body = api_as(personas.verified).get(f"/api/v1/indications/{small_catalog.migraine.pk}").json()
    assert body["drugs"][0]["listed"] is False


def test_a_comment_with_a_phone_number_and_date_of_birth_is_held(small_catalog, personas, api_as):
    client = api_as(personas.verified)
    response = put(
        client,
        small_catalog,
        comment="Mr. Jones (DOB 04/12/1958) did well; reach him on 617-555-0199.",
    )
    assert response.status_code == 201
    comment = response.json()["comment"]
    assert comment["status"] == "held"
    assert {"phone number", "date of birth with a name"} <= set(comment["hold_reasons"])
    listed = (
        api_as(personas.other_verified)
        .get(f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/comments")
        .json()
    )
    assert listed["total"] == 0


def test_a_clean_comment_is_published_with_handle_and_specialty_only(
    small_catalog, personas, api_as
):
    put(api_as(personas.verified), small_catalog, comment="Reliable LDL reduction; watch myalgia.")
    body = (
        api_as(personas.other_verified)
        .get(f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/comments")
        .json()
    )
    item = body["items"][0]
    assert item["body"] == "Reliable LDL reduction; watch myalgia."
    assert item["handle"] == personas.verified.physician.handle
    assert item["specialty"] == "Internal Medicine"
    text = str(body)
    assert "Verity" not in text and "verified@doc.test" not in text and "1234567893" not in text


def test_comments_are_stored_as_plain_text_and_escaped_on_pages(
    small_catalog, personas, api_as, web_as
):
    put(api_as(personas.verified), small_catalog, comment="<script>alert(1)</script> works well")
    assert Comment.objects.get().body == "<script>alert(1)</script> works well"
    page = web_as(personas.other_verified).get("/drugs/atorvastatin-calcium/")
    assert b"<script>alert(1)</script>" not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content


def test_withdrawing_removes_the_rating_keeps_history_and_hides_the_comment(
    small_catalog, personas, api_as
):
    client = api_as(personas.verified)
    put(client, small_catalog, comment="Good drug overall.")
    response = client.delete(
        f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/ratings/mine",
        indication_id=small_catalog.hyperlipidemia.pk,
    )
    assert response.status_code == 204
    assert not Rating.objects.exists()
    assert RatingRevision.objects.filter(action=RevisionAction.WITHDRAWN).count() == 1
    assert Comment.objects.get().status == CommentStatus.REMOVED
    again = client.delete(
        f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/ratings/mine",
        indication_id=small_catalog.hyperlipidemia.pk,
    )
    assert again.status_code == 404


def test_my_ratings_lists_only_mine(small_catalog, personas, api_as):
    put(api_as(personas.verified), small_catalog)
    put(api_as(personas.other_verified), small_catalog, drug=small_catalog.rosuvastatin)
    mine = api_as(personas.verified).get("/api/v1/me/ratings").json()
    assert [r["drug_id"] for r in mine] == [small_catalog.atorvastatin.pk]


def test_helpful_votes_count_once_and_not_for_your_own_comment(small_catalog, personas, api_as):
    put(api_as(personas.verified), small_catalog, comment="Useful first line statin.")
    comment = Comment.objects.get()
    other = api_as(personas.other_verified)
    assert other.post(f"/api/v1/comments/{comment.pk}/helpful").json() == {"helpful_count": 1}
    assert other.post(f"/api/v1/comments/{comment.pk}/helpful").json() == {"helpful_count": 1}
    own = api_as(personas.verified).post(f"/api/v1/comments/{comment.pk}/helpful")
    assert own.status_code == 422
    assert HelpfulVote.objects.count() == 1


def test_flags_need_a_known_reason_and_count_once(small_catalog, personas, api_as):
    put(api_as(personas.verified), small_catalog, comment="Works for most of my patients.")
    comment = Comment.objects.get()
    other = api_as(personas.other_verified)
    bad = other.post(f"/api/v1/comments/{comment.pk}/flag", {"reason": "dislike"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"
    assert (
        other.post(f"/api/v1/comments/{comment.pk}/flag", {"reason": "off_topic"}).status_code
        == 201
    )
    assert (
        other.post(f"/api/v1/comments/{comment.pk}/flag", {"reason": "off_topic"}).status_code
        == 201
    )
    assert CommentFlag.objects.count() == 1


@pytest.mark.parametrize("who", ["pharma", "unverified", "pending", "rejected", "moderator"])
def test_only_verified_physicians_write(small_catalog, personas, api_as, who):
    client = api_as(getattr(personas, who))
    assert put(client, small_catalog).status_code == 403
    assert not Rating.objects.exists()


def test_pharma_cannot_read_comments(small_catalog, personas, api_as):
    response = api_as(personas.pharma).get(
        f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/comments"
    )
    assert response.status_code == 403


def test_ratings_are_rate_limited_per_account(small_catalog, personas, api_as, settings):
    settings.WRITE_LIMITS_PER_HOUR = {**settings.WRITE_LIMITS_PER_HOUR, "rate": 2}
    client = api_as(personas.verified)
    assert put(client, small_catalog).status_code == 201
    assert put(client, small_catalog, efficacy=3).status_code == 200
    limited = put(client, small_catalog, efficacy=2)
    assert limited.status_code == 429
    assert Rating.objects.get().efficacy == 3


def test_votes_flags_and_comments_are_rate_limited_per_account(
    small_catalog, personas, api_as, settings
):
    from drugratings.testing.personas import make_physician

    settings.WRITE_LIMITS_PER_HOUR = {"rate": 100, "comment": 1, "vote": 1, "flag": 1}
    authors = [make_physician(f"author{n}@x.test") for n in range(2)]
    for author, drug in zip(
        authors, (small_catalog.atorvastatin, small_catalog.rosuvastatin), strict=True
    ):
        put(api_as(author), small_catalog, drug=drug, comment="Solid choice.")
    first, second = Comment.objects.order_by("pk")
    voter = api_as(personas.verified)
    assert voter.post(f"/api/v1/comments/{first.pk}/helpful").status_code == 200
    assert voter.post(f"/api/v1/comments/{second.pk}/helpful").status_code == 429
    assert voter.post(f"/api/v1/comments/{first.pk}/flag", {"reason": "other"}).status_code == 201
    assert voter.post(f"/api/v1/comments/{second.pk}/flag", {"reason": "other"}).status_code == 429
    commenter = api_as(personas.other_verified)
    assert put(commenter, small_catalog, comment="First.").status_code == 201
    limited = put(commenter, small_catalog, drug=small_catalog.rosuvastatin, comment="Second.")
    assert limited.status_code == 429 and limited.json()["errors"][0]["field"] == "comment"
    assert not Rating.objects.filter(
        physician=personas.other_verified.physician, drug=small_catalog.rosuvastatin
    ).exists()
