"""The database cache's table, whichever cache the settings choose today: a deployment may
switch from Redis to the database cache (or run a process without REDIS_URL) at any time."""

from django.conf import settings
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations


def create(apps, schema_editor):
    alias = schema_editor.connection.alias
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(alias, settings.CACHE_TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(settings.CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_h11_job_lease_from_analytics")]

    operations = [migrations.RunPython(create, drop)]
