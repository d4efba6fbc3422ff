import pytest

from drugratings.moderation.screening import screen_comment


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Call me at (617) 555-0199 about this", "phone number"),
        ("International: +44 20 7946 0958", "phone number"),
        ("Write to jane.doe@example.org", "email address"),
        ("Patient John Smith, DOB 03/14/1962, improved", "date of birth with a name"),
        ("born on March 4, 1950 and doing fine", "date of birth with a name"),
        ("MRN: 00482913 had a rash", "medical record number"),
        ("She lives at 42 Elm Street near the clinic", "street address"),
        ("SSN 123-45-6789", "social security number"),
        ("Mrs. Alvarez tolerated it", "patient name"),
        ("Ask your rep for free samples and a coupon", "promotional"),
        ("Get 20% off at www.cheapmeds.example", "link"),
        ("THIS DRUG IS THE BEST DRUG EVER DO NOT USE ANYTHING ELSE", "off-topic: shouting"),
    ],
)
def test_identifiers_and_promotion_are_held(text, reason):
    assert reason in screen_comment(text).reasons


@pytest.mark.parametrize(
    "text",
    [
        "Reliable LDL reduction at 20 mg; myalgia in about 5% of my patients.",
        "Start at 25 mg and titrate over 2 weeks; check K+ at 1 week.",
        "Works well in patients over 65, dose 10/20 mg on alternate days.",
        "HbA1c fell by 1.2 points over 3 months in most of my patients.",
    ],
)
def test_clinical_text_with_numbers_is_published(text):
    assert screen_comment(text).reasons == ()
