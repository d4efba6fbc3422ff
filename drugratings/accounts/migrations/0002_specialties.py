from django.db import migrations

# Frozen copy of the specialty list at the time of this migration.
SPECIALTIES = [
    ("allergy-immunology", "Allergy & Immunology"), ("anesthesiology", "Anesthesiology"),
    ("cardiology", "Cardiology"), ("dermatology", "Dermatology"),
    ("emergency-medicine", "Emergency Medicine"), ("endocrinology", "Endocrinology"),
    ("family-medicine", "Family Medicine"), ("gastroenterology", "Gastroenterology"),
    ("geriatrics", "Geriatric Medicine"), ("hematology-oncology", "Hematology & Oncology"),
    ("infectious-disease", "Infectious Disease"), ("internal-medicine", "Internal Medicine"),
    ("nephrology", "Nephrology"), ("neurology", "Neurology"),
    ("obstetrics-gynecology", "Obstetrics & Gynecology"), ("ophthalmology", "Ophthalmology"),
    ("otolaryngology", "Otolaryngology"), ("pain-medicine", "Pain Medicine"),
    ("pediatrics", "Pediatrics"), ("psychiatry", "Psychiatry"), ("pulmonology", "Pulmonology"),
    ("rheumatology", "Rheumatology"), ("surgery", "Surgery"), ("urology", "Urology"),
    ("other", "Other specialty"),
]


def create(apps, schema_editor):
    Specialty = apps.get_model("accounts", "Specialty")
    for slug, name in SPECIALTIES:
        Specialty.objects.update_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
