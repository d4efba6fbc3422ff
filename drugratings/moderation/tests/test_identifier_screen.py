"""The comment screen holds patient identifiers (HIPAA Safe Harbor kinds in free text) and lets
ordinary clinical text through, measured on the labelled set (issue 10)."""

from __future__ import annotations

import socket
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from drugratings.moderation import screening
from drugratings.moderation.evaluation import (
    HOLD_RATE_TARGET,
    IDENTIFIER,
    ORDINARY,
    RECALL_TARGET,
    evaluate,
    read_labelled,
)
from drugratings.moderation.screening import HoldReason, screen_comment


def test_the_labelled_set_meets_the_recall_and_hold_rate_targets():
    examples = read_labelled()
    identifiers = [e for e in examples if e.label == IDENTIFIER]
    ordinary = [e for e in examples if e.label == ORDINARY]
    assert len(examples) >= 100 and len(identifiers) >= 50 and len(ordinary) >= 50
    assert len({e.kind for e in identifiers}) >= 12  # identifiers in many forms
    result = evaluate(examples)
    assert result.recall >= RECALL_TARGET, [e.text for e in result.missed]
    assert result.hold_rate <= HOLD_RATE_TARGET, [e.text for e, _ in result.held_ordinary]


def test_the_command_prints_recall_and_hold_rate():
    out = StringIO()
    call_command("eval_screening", stdout=out)
    text = out.getvalue()
    assert "Identifiers held (recall): " in text and "Ordinary comments held:" in text
    assert "ms per comment" in text


def test_the_command_fails_when_a_target_is_missed(tmp_path: Path):
    labelled = tmp_path / "set.tsv"
    labelled.write_text(
        "label\tkind\ttext\nidentifier\tname\tThe one I treat is called Zorblax.\n"
        "ordinary\tclinical\tDose 20 mg daily.\n"
    )
    with pytest.raises(CommandError, match="targets missed"):
        call_command("eval_screening", file=labelled, stdout=StringIO())


def test_the_command_names_the_line_of_a_malformed_row(tmp_path: Path):
    labelled = tmp_path / "set.tsv"
    labelled.write_text("label\tkind\ttext\nordinary\tclinical\tfine\nmaybe\tx\ttext\n")
    with pytest.raises(CommandError, match=r"set\.tsv:3:"):
        call_command("eval_screening", file=labelled, stdout=StringIO())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # The three published in testing.
        ("Text me on 4155550134", HoldReason.PHONE),
        ("Jane Doe 14 March 1962 developed ankle edema", HoldReason.DATE_OF_BIRTH),
        ("JS, 64M, seen 11/02/2026", HoldReason.PATIENT_NAME),
        ("Call +33 1 42 68 53 00 for the Paris data", HoldReason.PHONE),
        ("Whatsapp +91 98765 43210", HoldReason.PHONE),
        ("Logged from 10.20.30.40 at the clinic", HoldReason.IP_ADDRESS),
        ("Read https://notes.example.net/case-7", HoldReason.LINK),
        ("Aged 94 and still on it", HoldReason.AGE_OVER_89),
        ("Card 4111 1111 1111 1111 used for the copay", HoldReason.ACCOUNT_NUMBER),
        ("Account no. 44810027 was billed", HoldReason.ACCOUNT_NUMBER),
        ("She resides at PO Box 4471, Boise, ID 83702", HoldReason.ADDRESS),
        ("Admitted on 2026-02-11 with angioedema", HoldReason.DATE),
        ("Email jsmith at example dot com", HoldReason.EMAIL),
        ("Linda Williams stopped it because of the cough", HoldReason.PATIENT_NAME),
    ],
)
def test_identifiers_are_held_with_their_reason(text, reason):
    assert reason in screen_comment(text).reasons


@pytest.mark.parametrize(
    "text",
    [
        "BP 140/90 on average before, now around 125/80 on 5/10 mg.",
        "I prescribe it t.i.d. with meals; 2x daily loses efficacy.",
        "A 64-year-old with CKD stage 3 did fine at the renal dose.",
        "Since the 2019 guideline update I use it second line.",
        "INR 2.0-3.0 was hard to maintain; TSH 0.4-4.0 mIU/L target.",
        "Phase 3 data (NCT01234567) showed similar results.",
        "Vitamin D 50,000 IU weekly for 8 weeks, then 2000 IU daily.",
    ],
)
def test_ordinary_clinical_notation_is_published(text):
    assert screen_comment(text).reasons == ()


def test_screening_needs_no_network(monkeypatch):
    # Nothing may be downloaded at run time (no spaCy model, no public suffix list).
    def refuse(*args, **kwargs):
        raise AssertionError("the screen tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    screening._recognizers.cache_clear()
    assert screen_comment("Write to jane.doe@example.org or www.example.org").held
    assert screen_comment("Call (617) 555-0199").held


def test_a_screened_comment_is_held_through_the_api(small_catalog, personas, api_as):
    response = api_as(personas.verified).put(
        f"/api/v1/drugs/{small_catalog.atorvastatin.pk}/ratings/mine",
        {
            "indication_id": small_catalog.hyperlipidemia.pk,
            "efficacy": 4,
            "comment": "JS, 64M, seen 11/02/2026 with a dry cough.",
        },
    )
    assert response.status_code in (200, 201), response.content
    assert response.json()["comment"]["status"] == "held"
