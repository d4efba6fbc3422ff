# The job lease moved to core (same table, rows kept): analytics forgets the model only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0003_job_lease'),
        ('core', '0001_h11_job_lease_from_analytics'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='JobLease')],
            database_operations=[],
        ),
    ]
