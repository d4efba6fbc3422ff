"""The home page's common indications are the most-rated real clinical indications."""

from __future__ import annotations

import pytest
from django.test import Client

from drugratings.catalog.models import Indication
from drugratings.ratings.models import Rating


@pytest.mark.django_db
def test_procedures_do_not_lead_the_common_indications(small_catalog, personas):
    anesthesia = Indication.objects.create(
        name="Administration of Local Anesthesia", slug="local-anesthesia"
    )
    physicians = [personas.verified.physician, personas.other_verified.physician]
    for physician in physicians:
        for drug in (small_catalog.atorvastatin, small_catalog.rosuvastatin):
            Rating.objects.create(physician=physician, drug=drug, indication=anesthesia, efficacy=4)
    Rating.objects.create(
        physician=physicians[0],
        drug=small_catalog.atorvastatin,
        indication=small_catalog.hyperlipidemia,
        efficacy=4,
    )
    html = Client().get("/").content.decode()
    assert small_catalog.hyperlipidemia.name in html
    assert "Administration of Local Anesthesia" not in html
