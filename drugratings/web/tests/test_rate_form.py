"""The web rating form: a new rating starts empty, only an edit of the same (drug, indication) is
pre-filled, an edit never moves to another indication, and withdrawing asks first."""

from __future__ import annotations

import re

import pytest

from drugratings.catalog.models import DrugIndication
from drugratings.ratings.models import Comment, Rating

RATE = "/drugs/atorvastatin-calcium/rate/"
WITHDRAW = "/drugs/atorvastatin-calcium/withdraw/"


@pytest.fixture
def rated(small_catalog, personas):
    """The verified physician rated atorvastatin for hyperlipidemia (listed) and migraine
    (off-label); atorvastatin is also labelled for depression, another listed indication."""
    DrugIndication.objects.create(
        drug=small_catalog.atorvastatin, indication=small_catalog.depression
    )
    me = personas.verified.physician
    rating = Rating.objects.create(
        physician=me,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=5,
        safety=4,
        tolerability=2,
    )
    Comment.objects.create(
        physician=me,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        rating=rating,
        body="Strong LDL reduction in my clinic.",
    )
    Rating.objects.create(
        physician=me,
        drug=small_catalog.atorvastatin,
        indication=small_catalog.migraine,
        off_label=True,
        adherence=1,
    )
    return small_catalog


def checked(html: str) -> dict[str, str]:
    """name -> value of every checked radio on the page."""
    return dict(
        re.findall(r'<input type="radio" name="(\w+)" value="([^"]*)"[^>]*\bchecked\b', html)
    )


def test_rate_for_another_indication_starts_empty(rated, personas, web_as):
    page = web_as(personas.verified).get(RATE).content.decode()
    assert "Update your rating" not in page
    assert "Strong LDL reduction" not in page
    chosen = checked(page)
    # No score is pre-chosen (only "no opinion"), and the unrated listed indication is selected.
    assert {chosen.get(d, "") for d in ("efficacy", "safety", "tolerability", "adherence")} == {""}
    assert chosen["indication"] == str(rated.depression.pk)
    assert 'name="editing"' in page and 'name="editing" value=' not in page


def test_only_an_edit_of_the_same_indication_is_prefilled(rated, personas, web_as):
    page = web_as(personas.verified).get(RATE, {"indication": rated.hyperlipidemia.pk})
    html = page.content.decode()
    assert "Update your rating" in html
    assert "Strong LDL reduction" in html
    chosen = checked(html)
    assert (chosen["efficacy"], chosen["safety"], chosen["tolerability"]) == ("5", "4", "2")
    assert f'name="editing" value="{rated.hyperlipidemia.pk}"' in html


def test_an_indication_not_yet_rated_is_empty_even_when_asked_for(rated, personas, web_as):
    page = web_as(personas.verified).get(RATE, {"indication": rated.depression.pk})
    html = page.content.decode()
    assert "Update your rating" not in html and "Strong LDL" not in html
    assert checked(html).get("efficacy", "") == ""


def test_an_off_label_rating_picks_up_no_dimension_it_never_had(rated, personas, web_as):
    html = web_as(personas.verified).get(RATE, {"indication": rated.migraine.pk}).content.decode()
    chosen = checked(html)
    assert chosen["adherence"] == "1"
    assert {chosen.get(d, "") for d in ("efficacy", "safety", "tolerability")} == {""}
    assert 'name="other_indication" value="Migraine"' in html


def test_a_new_off_label_rating_saves_only_what_was_chosen(rated, personas, web_as):
    client = web_as(personas.verified)
    form = client.get(RATE).content.decode()
    assert 'value="5"' in form  # the scale is there, but nothing of the old rating is chosen
    answer = client.post(
        RATE,
        {"indication": "other", "other_indication": "Major depressive disorder", "safety": "3"},
    )
    assert answer.status_code == 302
    new = Rating.objects.get(physician=personas.verified.physician, indication=rated.depression)
    assert new.scores() == {
        "efficacy": None,
        "safety": 3,
        "tolerability": None,
        "accessibility": None,
        "adherence": None,
    }
    assert not Comment.objects.filter(rating=new).exists()


def test_an_edit_cannot_move_its_scores_to_another_indication(rated, personas, web_as):
    client = web_as(personas.verified)
    answer = client.post(
        RATE,
        {
            "editing": rated.hyperlipidemia.pk,
            "indication": rated.depression.pk,
            "efficacy": "5",
            "safety": "4",
            "comment": "Strong LDL reduction in my clinic.",
        },
    )
    assert answer.status_code == 400
    assert "start a new rating" in answer.content.decode()
    assert not Rating.objects.filter(indication=rated.depression).exists()
    kept = Rating.objects.get(indication=rated.hyperlipidemia)
    assert (kept.efficacy, kept.tolerability) == (5, 2)


def test_saving_redirects_to_the_confirmation_beside_the_rating(rated, personas, web_as):
    client = web_as(personas.verified)
    answer = client.post(
        RATE,
        {
            "editing": rated.hyperlipidemia.pk,
            "indication": rated.hyperlipidemia.pk,
            "efficacy": "3",
        },
    )
    assert answer.status_code == 302
    assert answer["Location"].endswith(f"?indication={rated.hyperlipidemia.pk}#mine")
    page = client.get(answer["Location"]).content.decode()
    mine = page[page.index('id="mine"') :]
    assert "Rating updated." in mine[:3000]
    assert "Hyperlipidemia" in mine[:3000]


def test_withdrawing_asks_first_and_a_post_without_confirm_changes_nothing(rated, personas, web_as):
    client = web_as(personas.verified)
    ask = client.get(WITHDRAW, {"indication": rated.hyperlipidemia.pk})
    assert ask.status_code == 200
    assert b"Withdraw your rating?" in ask.content
    assert b'name="confirm" value="yes"' in ask.content
    unconfirmed = client.post(WITHDRAW, {"indication": rated.hyperlipidemia.pk})
    assert unconfirmed.status_code == 200
    assert Rating.objects.filter(indication=rated.hyperlipidemia).exists()
    done = client.post(WITHDRAW, {"indication": rated.hyperlipidemia.pk, "confirm": "yes"})
    assert done.status_code == 302 and done["Location"].endswith("#mine")
    assert not Rating.objects.filter(indication=rated.hyperlipidemia).exists()
    page = client.get(done["Location"]).content.decode()
    assert "was withdrawn" in page[page.index('id="mine"') :][:3000]


def test_withdrawing_a_rating_you_do_not_have_says_so(rated, personas, web_as):
    answer = web_as(personas.verified).post(
        WITHDRAW, {"indication": "99999999999999999999", "confirm": "yes"}
    )
    assert answer.status_code == 302
    assert Rating.objects.count() == 2


def test_a_report_is_confirmed_on_the_reported_comment(rated, personas, web_as):
    comment = Comment.objects.get(rating__indication=rated.hyperlipidemia)
    client = web_as(personas.other_verified)
    back = f"/drugs/atorvastatin-calcium/#comment-{comment.pk}"
    answer = client.post(f"/comments/{comment.pk}/flag/", {"reason": "off_topic", "next": back})
    assert answer["Location"] == back
    page = client.get(back).content.decode()
    card = page[page.index(f'id="comment-{comment.pk}"') :]
    assert "the moderators will look at this comment" in card[:2500]


def test_the_pending_physician_is_told_what_happens_next(small_catalog, personas, web_as):
    page = web_as(personas.pending).get(RATE)
    assert page.status_code == 403
    assert b"What happens next" in page.content and b"/accounts/licence/" in page.content
    page = web_as(personas.unverified).get(RATE)
    assert b"Submit your licence" in page.content


@pytest.mark.parametrize(
    ("stored", "typed"),
    [("Raynaud's disease", "Raynaud disease"), ("Raynaud disease", "Raynaud's disease")],
)
def test_the_off_label_picker_finds_eponyms_either_way(
    small_catalog, personas, web_as, stored, typed
):
    from drugratings.catalog.models import Indication

    raynaud = Indication.objects.create(
        name=stored, slug="raynaud", icd10_codes=["I73.00"], search_text=f"{stored.lower()} i73.00"
    )
    client = web_as(personas.verified)
    items = client.get("/search/indications", {"q": typed}).json()["items"]
    assert [i["name"] for i in items] == [stored]
    answer = client.post(
        "/drugs/propranolol-hydrochloride/rate/",
        {"indication": "other", "other_indication": typed, "efficacy": "4"},
    )
    assert answer.status_code == 302
    assert Rating.objects.get(physician=personas.verified.physician).indication == raynaud
