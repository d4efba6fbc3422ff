"""Merge drugs that are one active moiety (salts, esters, hydrates) without losing a rating.

Used by migration 0003 with the historical model registry, and callable with the live one
(`django.apps.apps`). Keep it working on historical models: no model methods, no managers
beyond `objects`.

Rules: every rating moves to the kept drug. Where one physician rated both drugs for the same
indication, the more recent rating wins and the older one is folded into it: its revisions,
its comment (unless the winner has one; then the comment stays, detached) and any other link
to it are moved to the winner before it is deleted, so the edit history keeps both.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from drugratings.catalog.importers.records import moiety_key

HANDLED = {("ratings", "rating"), ("ratings", "ratingrevision"), ("ratings", "comment")}


def duplicate_groups(apps: Any) -> list[tuple[int, list[int]]]:
    """(kept drug, merged drugs) for every moiety held by more than one drug. The drug with
    the most ratings is kept (then the oldest), so most links stay where they are."""
    Drug = apps.get_model("catalog", "Drug")
    Rating = apps.get_model("ratings", "Rating")
    counts: dict[int, int] = defaultdict(int)
    for drug_id in Rating.objects.values_list("drug_id", flat=True):
        counts[drug_id] += 1
    groups: dict[str, list[int]] = defaultdict(list)
    for pk, key in Drug.objects.values_list("pk", "moiety_key").order_by("pk"):
        groups[moiety_key(key.split(";"))].append(pk)
    result = []
    for ids in groups.values():
        if len(ids) > 1:
            ids.sort(key=lambda pk: (-counts[pk], pk))
            result.append((ids[0], ids[1:]))
    return result


def _move_or_drop(rows: Any, field: str, target: Any) -> None:
    """Point each row's `field` at target; a row that would duplicate one already there is
    derived data (a view count, a cached score, a listed indication) and is dropped."""
    for row in rows:
        setattr(row, field, target)
        try:
            with transaction.atomic():
                row.save(update_fields=[field])
        except IntegrityError:
            row.delete()


def _repoint_rating_links(apps: Any, old: Any, new: Any) -> None:
    Rating = apps.get_model("ratings", "Rating")
    RatingRevision = apps.get_model("ratings", "RatingRevision")
    Comment = apps.get_model("ratings", "Comment")
    RatingRevision.objects.filter(rating_id=old.pk).update(rating_id=new.pk, drug_id=new.drug_id)
    comment = Comment.objects.filter(rating_id=old.pk).first()
    if comment is not None:
        has_one = Comment.objects.filter(rating_id=new.pk).exists()
        comment.rating_id = None if has_one else new.pk
        comment.save(update_fields=["rating"])
    for relation in Rating._meta.related_objects:
        model = relation.related_model
        if (model._meta.app_label, model._meta.model_name) in HANDLED:
            continue
        if relation.many_to_many:
            through = relation.through
            names = [f for f in through._meta.fields if f.related_model is Rating]
            for field in names:
                _move_or_drop(through.objects.filter(**{field.attname: old.pk}), field.name, new)
        else:
            _move_or_drop(
                model.objects.filter(**{relation.field.attname: old.pk}), relation.field.name, new
            )


def _merge_ratings(apps: Any, keep: Any, drop: Any) -> None:
    Rating = apps.get_model("ratings", "Rating")
    for rating in Rating.objects.filter(drug_id=drop.pk).order_by("pk"):
        clash = Rating.objects.filter(
            drug_id=keep.pk, physician_id=rating.physician_id, indication_id=rating.indication_id
        ).first()
        if clash is not None:
            newer, older = sorted((clash, rating), key=lambda r: (r.updated_at, r.pk), reverse=True)
            _repoint_rating_links(apps, older, newer)
            older.delete()
            if newer.pk != rating.pk:
                continue
        rating.drug_id = keep.pk
        rating.save(update_fields=["drug"])


def merge_drugs(apps: Any, keep_id: int, drop_ids: list[int]) -> None:
    Drug = apps.get_model("catalog", "Drug")
    RatingRevision = apps.get_model("ratings", "RatingRevision")
    Comment = apps.get_model("ratings", "Comment")
    keep = Drug.objects.get(pk=keep_id)
    for drop in Drug.objects.filter(pk__in=drop_ids).order_by("pk"):
        _merge_ratings(apps, keep, drop)
        RatingRevision.objects.filter(drug_id=drop.pk).update(drug_id=keep.pk)
        Comment.objects.filter(drug_id=drop.pk).update(drug_id=keep.pk)
        for relation in Drug._meta.related_objects:
            model = relation.related_model
            if (model._meta.app_label, model._meta.model_name) in HANDLED:
                continue
            if relation.many_to_many:
                through = relation.through
                fields = [f for f in through._meta.fields if f.related_model is Drug]
                for field in fields:
                    rows = through.objects.filter(**{field.attname: drop.pk})
                    _move_or_drop(rows, field.name, keep)
            elif relation.field.primary_key:
                continue  # one row per drug (e.g. a version counter): the kept drug has its own
            else:
                rows = model.objects.filter(**{relation.field.attname: drop.pk})
                _move_or_drop(rows, relation.field.name, keep)
        for drug_class in drop.other_classes.all():
            keep.other_classes.add(drug_class)
        keep.brand_names = list(dict.fromkeys([*keep.brand_names, *drop.brand_names]))
        keep.manufacturers = list(dict.fromkeys([*keep.manufacturers, *drop.manufacturers]))
        keep.application_numbers = list(
            dict.fromkeys([*keep.application_numbers, *drop.application_numbers])
        )
        keep.aliases = list(dict.fromkeys([*keep.aliases, drop.source_id, *drop.aliases]))
        keep.search_text = "|".join(
            dict.fromkeys([*keep.search_text.split("|"), *drop.search_text.split("|")])
        )
        drop.delete()
    keep.moiety_key = moiety_key(keep.moiety_key.split(";"))
    keep.save()
    # The kept drug's figures changed: cached figures of it must not be served.
    Version = apps.get_model("ratings", "DrugRatingsVersion")
    Version.objects.filter(drug_id=keep.pk).update(version=F("version") + 1)


def merge_all(apps: Any) -> int:
    """Merge every moiety held by several drugs; store canonical moiety keys everywhere."""
    groups = duplicate_groups(apps)
    for keep_id, drop_ids in groups:
        merge_drugs(apps, keep_id, drop_ids)
    Drug = apps.get_model("catalog", "Drug")
    for drug in Drug.objects.all():
        key = moiety_key(drug.moiety_key.split(";"))
        if key != drug.moiety_key:
            drug.moiety_key = key
            drug.save(update_fields=["moiety_key"])
    return sum(len(drops) for _, drops in groups)
