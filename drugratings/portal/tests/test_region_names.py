"""The portal's region breakdown uses ISO codes and shows them with their names."""

from __future__ import annotations

from drugratings.portal.models import IncludedRating
from drugratings.portal.releases import build_release


def test_region_columns_are_iso_codes_shown_with_names(world, web_as):
    build_release()
    assert set(IncludedRating.objects.values_list("region", flat=True)) == {
        "US-MA",
        "US-NY",
        "US-CA",
    }
    page = web_as(world.analyst).get(
        f"/portal/indications/{world.catalog.hyperlipidemia.pk}/", {"breakdown": "region"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Massachusetts (US-MA)" in html and "California (US-CA)" in html
