"""The demo is shaped like reality: market leaders carry the most ratings, recent drugs are
rated, the home page's common indications are clinical, no ingredient appears twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from drugratings.accounts.models import Specialty
from drugratings.catalog.models import Drug, Indication, is_clinical
from drugratings.demo.generate import generate
from drugratings.demo.load import catalog_view
from drugratings.demo.realism import popularity, quality_shift, read_signals


@pytest.mark.django_db
def test_launch_scale_demo_ratings_follow_real_use():
    call_command("import_catalog", "--no-progress", stdout=StringIO(), stderr=StringIO())
    view = catalog_view(np.random.default_rng(2017), list(Specialty.objects.order_by("slug")))
    data = generate(
        view,
        seed=2017,
        n_physicians=12000,
        n_ratings=252000,
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    per_drug = Counter(view.pair_drug[data.rating_pair].tolist())
    keys = dict(Drug.objects.values_list("pk", "moiety_key"))
    by_key = {keys[d]: n for d, n in per_drug.items()}
    ranked = [keys[d] for d, _ in per_drug.most_common()]
    top = ranked[:20]
    for leader in ("metformin", "atorvastatin", "lisinopril", "amlodipine"):
        assert leader in top, (leader, ranked.index(leader), top)
    assert 200 <= by_key["semaglutide"] < 2000
    assert by_key["tirzepatide"] >= 50 and by_key["apixaban"] >= 500
    assert by_key.get("cefixime", 0) < 300  # was the most-rated drug
    # No ingredient twice: one drug per moiety key.
    assert len(set(keys.values())) == len(keys)
    # Metformin leads type 2 diabetes; the most-rated indications are clinical ones.
    t2d = Indication.objects.get(name="Type 2 Diabetes Mellitus").pk
    rated = view.pair_indication[data.rating_pair]
    t2d_drugs = Counter(view.pair_drug[data.rating_pair][rated == t2d].tolist())
    assert keys[t2d_drugs.most_common(1)[0][0]] == "metformin"
    names = dict(Indication.objects.values_list("pk", "name"))
    common = [names[i] for i, _ in Counter(rated.tolist()).most_common(12)]
    assert {"Hypertension", "Type 2 Diabetes Mellitus"} <= set(common[:5])
    assert all(is_clinical(n) for n in common[:5])


def test_first_line_drugs_score_sensibly_and_review_data_move_quality():
    signals = read_signals()
    assert popularity(signals.get("metformin"), True) > popularity(signals.get("cefixime"), False)
    assert popularity(signals.get("semaglutide"), True) >= 200
    metformin = quality_shift(signals.get("metformin"), True)
    assert metformin[0] > 0  # efficacy lifted for a first-line drug with good reviews
    # A drug patients rated badly for side effects loses tolerability.
    worst = min(
        (s for s in signals.values() if s.side_effects is not None and s.reviews >= 10),
        key=lambda s: s.side_effects,
    )
    assert quality_shift(worst, False)[2] < 0
    assert not is_clinical("Administration of Local Anesthesia") and is_clinical("Hypertension")
