# The job lease moved from analytics to core; its table (analytics_joblease) and rows stay.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('analytics', '0003_job_lease'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='JobLease',
                    fields=[
                        ('name', models.CharField(max_length=40, primary_key=True, serialize=False)),
                        ('held_until', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={'db_table': 'analytics_joblease'},
                ),
            ],
            database_operations=[],
        ),
    ]
