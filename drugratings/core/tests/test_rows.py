"""`one_row`: the ORM's own rows, types and routing, with each lookup's SQL compiled once."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connections
from django.db.models.sql.compiler import SQLCompiler

from drugratings.accounts.access import physician_of, signed_in_user
from drugratings.accounts.actions import issue_token
from drugratings.accounts.models import ApiToken, TokenKind, User
from drugratings.analytics.models import FitRun
from drugratings.core import rows
from drugratings.core.rows import one_row
from drugratings.testing.catalog import make_small_catalog
from drugratings.testing.personas import make_pharma, make_physician
from drugratings.web.models import SavedDrug

pytestmark = pytest.mark.django_db


def _concrete(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_rows_match_the_orms_field_for_field_with_their_types():
    user = make_physician("rows@doc.test")
    token, _ = issue_token(user, TokenKind.API_KEY, scopes=["reports:read"], name="ci")
    for model, instance, where in (
        (User, User.objects.get(pk=user.pk), {"pk": user.pk}),
        (User, User.objects.get(pk=user.pk), {"email": "rows@doc.test"}),
        (ApiToken, ApiToken.objects.get(pk=token.pk), {"digest": token.digest}),
    ):
        found = one_row(model, **where)
        assert _concrete(found) == _concrete(instance)
        assert {k: type(v) for k, v in _concrete(found).items()} == {
            k: type(v) for k, v in _concrete(instance).items()
        }
        assert found._state.db == instance._state.db and not found._state.adding
    assert one_row(ApiToken, digest=token.digest).scopes == ["reports:read"]  # JSON, decoded


def test_missing_rows_are_none_and_only_the_named_fields_are_read():
    assert one_row(User, pk=10**9) is None
    user = make_physician("few@doc.test")
    few = one_row(User, pk=user.pk, fields=("id", "email"))
    assert few.email == "few@doc.test"
    assert "role" in few.get_deferred_fields() and "email" not in few.get_deferred_fields()


def test_boolean_and_several_lookups_pick_the_right_row():
    FitRun.objects.create(methodology_version="a", is_current=False)
    current = FitRun.objects.create(methodology_version="b", is_current=True)
    assert one_row(FitRun, is_current=True, fields=("id",)).pk == current.pk
    assert one_row(FitRun, is_current=False).methodology_version == "a"
    catalog = make_small_catalog()
    first, second = make_physician("s1@doc.test"), make_physician("s2@doc.test")
    SavedDrug.objects.create(user=first, drug=catalog.atorvastatin)
    SavedDrug.objects.create(user=second, drug=catalog.sertraline)
    assert one_row(SavedDrug, user=first, drug=catalog.atorvastatin) is not None
    assert one_row(SavedDrug, drug=catalog.sertraline, user=first) is None
    assert one_row(SavedDrug, user=second.pk, drug=catalog.sertraline.pk).user_id == second.pk


def test_each_lookup_is_compiled_once_per_process_whatever_the_connection(monkeypatch):
    user = make_physician("once@doc.test")
    rows._compiled_by_alias.clear()
    compiled: list[str] = []
    real = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append("x") or real(self, *a, **k)
    )
    for _ in range(3):
        assert one_row(User, pk=user.pk).email == "once@doc.test"
    # Another thread has another connection object (under ASGI, every request does).
    elsewhere = threading.Thread(target=_read_in_another_thread, args=(user.pk,))
    elsewhere.start()
    elsewhere.join()
    assert len(compiled) == 1
    one_row(User, email="once@doc.test")
    assert len(compiled) == 2  # another lookup, another statement


def _read_in_another_thread(user_id: int) -> None:
    try:
        one_row(User, pk=user_id)  # the row is invisible there (the test's transaction)
    except DatabaseError:
        pass  # SQLite's in-memory test database has no tables on another connection
    finally:
        connections.close_all()


def test_a_signed_in_physician_comes_with_their_profile_and_others_without_a_read(
    django_assert_num_queries,
):
    physician = make_physician("profile@doc.test")
    pharma = make_pharma("rows@pharma.test")
    loaded = signed_in_user(physician.pk)
    with django_assert_num_queries(0):
        assert physician_of(loaded).pk == physician.physician.pk
        assert loaded.physician.user is loaded
    other = signed_in_user(pharma.pk)
    with django_assert_num_queries(0):
        assert physician_of(other) is None
    assert signed_in_user(10**9) is None
