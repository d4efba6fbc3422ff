"""The portal's region breakdown uses ISO codes and shows them with their names."""

from __future__ import annotations

from drugratings.portal.models import IncludedRating
from drugratings.portal.releases import build_release
from drugratings.portal.tests.conftest import add_physicians, rate


def test_region_columns_are_iso_codes_shown_with_names(world, web_as):
    # The world has 12 raters per region, near k: the noisy count floor hides a region cell
    # now and then. 24 more raters of atorvastatin (8 per region) keep every region shown.
    for user in add_physicians(24, start=len(world.physicians)):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 4)
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
