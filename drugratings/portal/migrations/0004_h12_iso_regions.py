"""Ratings already included in pharma statistics carry their physician's region: give them the
same ISO code as the profile, so the next release does not see every physician move."""

from django.db import migrations


def to_iso(apps, schema_editor):
    PhysicianProfile = apps.get_model("accounts", "PhysicianProfile")
    IncludedRating = apps.get_model("portal", "IncludedRating")
    regions = dict(PhysicianProfile.objects.values_list("pk", "region"))
    for row in IncludedRating.objects.only("pk", "physician_id", "region").iterator():
        region = regions.get(row.physician_id)
        if region and region != row.region:
            IncludedRating.objects.filter(pk=row.pk).update(region=region)


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_engagement"), ("accounts", "0004_h12_iso_regions")]

    operations = [migrations.RunPython(to_iso, migrations.RunPython.noop)]
