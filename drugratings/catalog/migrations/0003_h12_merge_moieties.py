"""One drug per active moiety: merge drugs that differ only by salt, ester or hydrate, moving
every rating (see catalog/merging.py for how duplicates of one physician are resolved)."""

from django.db import migrations


def merge(apps, schema_editor):
    from drugratings.catalog.merging import merge_all

    merge_all(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_h12_labels_moieties_reports"),
        ("ratings", "0002_drug_ratings_version"),
        ("analytics", "0003_job_lease"),
        ("portal", "0003_engagement"),
        ("trust", "0001_interests_payments_quarantine"),
        ("moderation", "0001_initial"),
    ]

    operations = [migrations.RunPython(merge, migrations.RunPython.noop)]
