"""Change marks (portal.change_marks): the table, and PostgreSQL triggers that fill it."""

from django.db import migrations, models

RATING_COLUMNS = (
    "physician_id, drug_id, indication_id, efficacy, safety, tolerability, accessibility, "
    "adherence, status, conflict_of_interest, updated_at"
)
PHYSICIAN_COLUMNS = "specialty_id, region, country, verification_status"


def _differ(columns: str) -> str:
    old = ", ".join(f"o.{c.strip()}" for c in columns.split(","))
    new = ", ".join(f"n.{c.strip()}" for c in columns.split(","))
    return f"({old}) IS DISTINCT FROM ({new})"


# Statement-level triggers with transition tables: one insert per statement (the loader's COPY of
# 2.5 M ratings writes its 120,000 distinct physicians once), in the writing transaction.
TRIGGERS = f"""
CREATE FUNCTION portal_mark_inserted_ratings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO portal_changemark (physician_id) SELECT DISTINCT physician_id FROM new_rows;
  RETURN NULL;
END $$;
CREATE FUNCTION portal_mark_deleted_ratings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO portal_changemark (physician_id) SELECT DISTINCT physician_id FROM old_rows;
  RETURN NULL;
END $$;
CREATE FUNCTION portal_mark_updated_ratings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO portal_changemark (physician_id)
  SELECT DISTINCT unnest(ARRAY[o.physician_id, n.physician_id])
    FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_differ(RATING_COLUMNS)};
  RETURN NULL;
END $$;
CREATE FUNCTION portal_mark_updated_physicians() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO portal_changemark (physician_id)
  SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_differ(PHYSICIAN_COLUMNS)};
  RETURN NULL;
END $$;
CREATE FUNCTION portal_mark_everyone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO portal_changemark (physician_id) VALUES (-1);
  RETURN NULL;
END $$;
CREATE TRIGGER portal_mark_inserted AFTER INSERT ON ratings_rating
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_mark_inserted_ratings();
CREATE TRIGGER portal_mark_deleted AFTER DELETE ON ratings_rating
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_mark_deleted_ratings();
CREATE TRIGGER portal_mark_updated AFTER UPDATE ON ratings_rating
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION portal_mark_updated_ratings();
CREATE TRIGGER portal_mark_truncated AFTER TRUNCATE ON ratings_rating
  FOR EACH STATEMENT EXECUTE FUNCTION portal_mark_everyone();
CREATE TRIGGER portal_mark_physicians AFTER UPDATE ON accounts_physicianprofile
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION portal_mark_updated_physicians();
-- Changes made before the triggers existed: the next release compares every physician.
INSERT INTO portal_changemark (physician_id) VALUES (-1);
"""

DROP = """
DROP TRIGGER IF EXISTS portal_mark_inserted ON ratings_rating;
DROP TRIGGER IF EXISTS portal_mark_deleted ON ratings_rating;
DROP TRIGGER IF EXISTS portal_mark_updated ON ratings_rating;
DROP TRIGGER IF EXISTS portal_mark_truncated ON ratings_rating;
DROP TRIGGER IF EXISTS portal_mark_physicians ON accounts_physicianprofile;
DROP FUNCTION IF EXISTS portal_mark_inserted_ratings(), portal_mark_deleted_ratings(),
  portal_mark_updated_ratings(), portal_mark_updated_physicians(), portal_mark_everyone();
"""


def create_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":  # elsewhere releases compare every row
        schema_editor.execute(TRIGGERS)


def drop_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0009_included_rating_drug_index"),
        ("ratings", "0004_h17_comments_version"),
        ("accounts", "0004_h12_iso_regions"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeMark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("physician_id", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
