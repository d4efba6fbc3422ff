"""Regions as ISO codes: US states become ISO 3166-2 (CA -> US-CA), other countries keep their
ISO 3166-1 code (a free-text region outside the US becomes the country)."""

from django.db import migrations, models


def to_iso(apps, schema_editor):
    from drugratings.accounts.regions import iso_region

    PhysicianProfile = apps.get_model("accounts", "PhysicianProfile")
    for profile in PhysicianProfile.objects.only("pk", "country", "region").iterator():
        region = iso_region(profile.country, profile.region)
        if region != profile.region:
            PhysicianProfile.objects.filter(pk=profile.pk).update(region=region)


def from_iso(apps, schema_editor):
    PhysicianProfile = apps.get_model("accounts", "PhysicianProfile")
    for profile in PhysicianProfile.objects.filter(region__startswith="US-").only("pk", "region"):
        PhysicianProfile.objects.filter(pk=profile.pk).update(region=profile.region[3:])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_h10c_login_alert_sent_at")]

    operations = [
        migrations.AlterField(
            model_name="physicianprofile",
            name="region",
            field=models.CharField(
                blank=True,
                help_text="ISO code: US-CA for a US state, else the country (GB)",
                max_length=40,
            ),
        ),
        migrations.RunPython(to_iso, from_iso),
    ]
