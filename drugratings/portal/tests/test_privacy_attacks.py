"""Attacks a pharma client could try, run against real releases: each must fail."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import pytest
from scipy.stats import binomtest, norm

from drugratings.portal.models import Breakdown, Level
from drugratings.portal.privacy.cells import CellKey
from drugratings.portal.privacy.policy import current_policy
from drugratings.portal.releases import build_release, versions_at
from drugratings.portal.tests.conftest import add_physicians, rate
from drugratings.ratings.models import Rating

BREAKDOWNS = ("none", "specialty", "region", "month")


def true_raters(key: CellKey) -> int:
    """Distinct physicians behind a cell, from the ratings themselves."""
    ratings = Rating.objects.filter(drug_id=key.drug_id).select_related("physician")
    if key.level == Level.DRUG_INDICATION:
        ratings = ratings.filter(indication_id=key.indication_id)
    physicians = set()
    for r in ratings:
        where = {
            "specialty": str(r.physician.specialty_id),
            "region": r.physician.region,
            "month": r.updated_at.strftime("%Y-%m"),
        }
        if key.breakdown == Breakdown.NONE or where[key.breakdown] == key.value:
            physicians.add(r.physician_id)
    return len(physicians)


def test_every_published_cell_of_every_report_has_at_least_k_physicians(world, api_as):
    build_release()
    client = api_as(world.analyst)
    k = current_policy().min_raters
    paths = [
        f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}",
        f"/api/v1/portal/reports/drug-classes/{world.catalog.statins.pk}",
        f"/api/v1/portal/reports/drugs/{world.catalog.atorvastatin.pk}",
    ]
    published = 0
    for path in paths:
        for breakdown in BREAKDOWNS:
            body = client.get(path, breakdown=breakdown).json()
            assert body["k"] == k
            for cell in body["cells"]:
                if cell["suppressed"]:
                    assert cell["score"] is None and cell["n_raters"] is None
                    continue
                published += 1
                level = Level.DRUG_INDICATION if cell["indication_id"] else Level.DRUG
                value = cell["breakdown_value"] or ""
                if breakdown == "specialty":
                    from drugratings.accounts.models import Specialty

                    value = str(Specialty.objects.get(name=value).pk)
                key = CellKey(level, cell["drug_id"], cell["indication_id"] or 0, breakdown, value)
                assert true_raters(key) >= k, (path, breakdown, cell)
    assert published > 50  # the test looked at real, published cells
    # And what is below k is hidden: sertraline has 8 raters in this world.
    assert not versions_at(build_release()).filter(drug=world.catalog.sertraline).exists()


def test_no_suppressed_cell_can_be_computed_from_published_ones(world):
    release = build_release()
    published = {
        CellKey(v.level, v.drug_id, v.indication_id or 0, v.breakdown, v.breakdown_value)
        for v in versions_at(release)
    }
    # Every cell that has at least one physician, published or not.
    existing = set()
    for r in Rating.objects.select_related("physician"):
        where = {
            "specialty": str(r.physician.specialty_id),
            "region": r.physician.region,
            "month": r.updated_at.strftime("%Y-%m"),
        }
        for level, indication in ((Level.DRUG_INDICATION, r.indication_id), (Level.DRUG, 0)):
            existing.add(CellKey(level, r.drug_id, indication, "none", ""))
            for breakdown, value in where.items():
                existing.add(CellKey(level, r.drug_id, indication, breakdown, value))
    partitions = defaultdict(list)
    for key in existing:
        if key.parent is not None:
            partitions[(key.parent, key.breakdown, key.level)].append(key)
    checked = 0
    for (parent, _, _), children in partitions.items():
        hidden = [c for c in children if c not in published]
        if parent in published:
            # parent - sum(published children) leaves one unknown only if exactly one is hidden.
            # The exception (issue 13): the running month, withheld until the month closes, as
            # the only month of its parent: it has the parent's very physicians (>= k).
            running_only_child = hidden == children and hidden[0].breakdown == "month"
            assert len(hidden) != 1 or running_only_child, (parent, hidden)
            checked += 1
        else:
            assert not [c for c in children if c in published], parent
    assert checked > 10


def _attack(world, trials: int, seed: int) -> tuple[int, int]:
    """Between two releases, one new physician rates atorvastatin all 1s or all 5s; the attacker
    compares the two releases' efficacy of that drug and indication and guesses. Returns how
    many guesses were right and in how many trials the published figure moved at all."""
    rng = random.Random(seed)
    catalog = world.catalog
    build_release()
    correct = moved = 0
    for trial in range(trials):
        user = add_physicians(1, start=1000 + trial)[0]
        secret = rng.choice((1, 5))

        def efficacy(release):
            versions = versions_at(release).filter(
                level=Level.DRUG_INDICATION,
                drug=catalog.atorvastatin,
                indication=catalog.hyperlipidemia,
                breakdown="none",
            )
            version = versions.get()
            return version.values["efficacy"]["score"]

        before = efficacy(build_release())
        rate(user, catalog.atorvastatin, catalog.hyperlipidemia, secret)
        after = efficacy(build_release())
        guess = 5 if after > before else 1 if after < before else rng.choice((1, 5))
        correct += guess == secret
        moved += after != before
    return correct, moved


def test_a_differencing_attack_on_a_lone_rating_is_at_chance(world):
    """Batching: a cell moves only once several physicians' changes accumulated, so one new
    rating between two releases changes nothing the attacker can see."""
    trials = 40
    correct, moved = _attack(world, trials, seed=1)
    # The mechanism itself: a cell moves at most once per batch of min_batch new raters, so at
    # least (min_batch - 1) / min_batch of the trials show the attacker nothing at all. A release
    # that moved with every rating fails here whatever the noise.
    assert moved <= math.ceil(trials / current_policy().min_batch), moved
    # And the guesses: a one-sided binomial test against chance. At 40 trials this rejects 70%
    # or more right (p < 0.01); the old two-sided 3-sigma band let an attacker reach 73%.
    assert binomtest(correct, trials, 0.5, alternative="greater").pvalue > 0.01, correct


@pytest.mark.slow
def test_without_batching_the_attack_stays_within_the_documented_budget(world, monkeypatch):
    """With batching off, each new rating moves its cells at once; the attacker's accuracy must
    not exceed what the per-release privacy loss allows: for the Gaussian mechanism with
    rho-zCDP, the best test between two neighbours has accuracy Phi(sqrt(rho / 2)). (The
    product never runs so: a step needs k physicians, which settings cannot lower.)"""
    from drugratings.portal.privacy.policy import PrivacyPolicy

    monkeypatch.setattr(PrivacyPolicy, "step_min_physicians", property(lambda self: 1))
    policy = current_policy()
    # The attacker looks at one cell's efficacy; one tree node per step, noise sum_noise on the
    # sum, and the rating moves that sum by 4 (1 -> 5 is -2 -> +2 after centring).
    rho_seen = (4.0 / policy.sum_noise) ** 2 / 2
    bound = norm.cdf(math.sqrt(rho_seen / 2))
    trials = 120
    correct, _ = _attack(world, trials, seed=2)
    accuracy = correct / trials
    assert accuracy <= bound + 3 * math.sqrt(bound * (1 - bound) / trials) + 1e-9, (accuracy, bound)
    assert accuracy >= 0.5 - 3 * math.sqrt(0.25 / trials)  # the attack did run


def test_pharma_cannot_reach_comments_physicians_or_other_areas(world, api_as, web_as):
    client = api_as(world.outsider)
    assert client.get(f"/api/v1/drugs/{world.catalog.atorvastatin.pk}/comments").status_code == 403
    assert (
        client.get(
            f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}"
        ).status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/portal/reports/drug-classes/{world.catalog.statins.pk}").status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/portal/reports/drugs/{world.catalog.atorvastatin.pk}").status_code
        == 403
    )
    subscriber = api_as(world.analyst)
    assert (
        subscriber.get(
            f"/api/v1/portal/reports/indications/{world.catalog.depression.pk}"
        ).status_code
        == 403
    )
    assert (
        subscriber.get(f"/api/v1/portal/reports/drugs/{world.catalog.sertraline.pk}").status_code
        == 403
    )
    for path in (
        "/admin/accounts/physicianprofile/",
        "/admin/verification/verificationcase/",
        "/moderation/",
    ):
        response = web_as(world.analyst).get(path)
        assert response.status_code in (302, 403, 404)
        assert b"Last1" not in response.content
