"""Build a release: include rating changes within each physician's privacy budget, update the
affected cells' private trees, suppress, and publish the changed cell versions.

Incremental: only drugs with included changes are recomputed; every other cell version carries
over to the new release unchanged.

Batching: a published cell takes a new tree step only once at least `min_batch` physicians'
changes have accumulated in it since its last step. Between two releases a lone new rating
therefore changes nothing, and when a cell does move, the change blends several physicians'.

Privacy costs (zCDP rho, see `privacy.policy`) are charged when a change is included: for every
cell it touches, the cost of entering that cell's tree for the tree's whole life. A tree that
(re)starts (a cell's first publication, or after `max_steps` steps) releases everyone's data in
its first node, so all its contributors are charged once more then.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from drugratings.analytics.fitting import METHODOLOGY_VERSION
from drugratings.portal.models import (
    Breakdown,
    CellState,
    CellVersion,
    IncludedRating,
    LedgerEntry,
    Level,
    Release,
)
from drugratings.portal.privacy import tree
from drugratings.portal.privacy.adjustment import adjusted_values, leniency
from drugratings.portal.privacy.aggregate import RatingRows, cell_totals
from drugratings.portal.privacy.cells import (
    CellKey,
    breakdown_values,
    drug_cells,
    drug_indication_cells,
)
from drugratings.portal.privacy.engagement import update_engagement
from drugratings.portal.privacy.noise import noisy_nodes
from drugratings.portal.privacy.policy import PrivacyPolicy, current_policy, epsilon_for
from drugratings.portal.privacy.publication import published_values
from drugratings.portal.privacy.suppression import suppressed_cells
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.queries import scored_ratings

log = logging.getLogger(__name__)
# Rows per write transaction: well under half a second each on SQLite, so requests that write
# (sign-ins, ratings, audit rows) wait at most that long for the lock while a release is built.
WRITE_BATCH = 1000
RatingKey = tuple[int, int, int]  # physician, drug, indication
CELLS_PER_RATING = 8  # none, specialty, region and month, at each of the two levels


@dataclass(frozen=True)
class Placed:
    raw: tuple
    specialty_id: int
    region: str
    month: str


@dataclass
class BuildStats:
    events: int = 0
    deferred: int = 0
    cells_changed: int = 0
    charges: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    # Cells a change left (withdrawn, or moved to another specialty, region or month).
    departures: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def versions_at(release: Release):
    """The cell versions that make up a release."""
    return CellVersion.objects.filter(first_release__lte=release.pk).filter(
        Q(last_release__isnull=True) | Q(last_release__gte=release.pk)
    )


def _live() -> dict[RatingKey, Placed]:
    rows = scored_ratings().values_list(
        "physician_id",
        "drug_id",
        "indication_id",
        "physician__specialty_id",
        "physician__region",
        "physician__country",
        "updated_at",
        *DIMENSION_NAMES,
    )
    return {
        (p, d, i): Placed(
            tuple(scores), specialty, (region or country)[:40], updated.strftime("%Y-%m")
        )
        for p, d, i, specialty, region, country, updated, *scores in rows.iterator(chunk_size=5000)
    }


def _included() -> dict[RatingKey, tuple[int, Placed]]:
    rows = IncludedRating.objects.values_list(
        "pk", "physician_id", "drug_id", "indication_id", "raw", "specialty_id", "region", "month"
    )
    return {
        (p, d, i): (pk, Placed(tuple(raw), s, region, month))
        for pk, p, d, i, raw, s, region, month in rows.iterator(chunk_size=5000)
    }


def _public_means(previous: Release | None) -> dict[tuple[int, int], list[float]]:
    if previous is None:
        return {}
    means = {}
    rows = versions_at(previous).filter(level=Level.DRUG_INDICATION, breakdown=Breakdown.NONE)
    for drug_id, indication_id, values in rows.values_list("drug_id", "indication_id", "values"):
        means[(drug_id, indication_id)] = [
            values[d]["score"] if d in values else np.nan for d in DIMENSION_NAMES
        ]
    return means


def _spent(now: datetime) -> dict[int, float]:
    since = now - timedelta(days=365)
    return dict(
        LedgerEntry.objects.filter(at__gte=since)
        .values_list("physician_id")
        .annotate(total=Sum("rho"))
        .values_list("physician_id", "total")
    )


def _raw(values: tuple) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _leniencies(physicians: set[int], live, public, policy) -> dict[int, np.ndarray]:
    """Each physician's leniency from their own live ratings and public (released) means."""
    if not public:
        return {}
    own: dict[int, list[tuple[np.ndarray, list[float]]]] = defaultdict(list)
    for (p, d, i), placed in live.items():
        if p in physicians and (d, i) in public:
            own[p].append((_raw(placed.raw), public[(d, i)]))
    return {
        p: np.nan_to_num(
            leniency(
                np.vstack([r for r, _ in pairs]),
                np.array([m for _, m in pairs], dtype=float),
                policy.leniency_shrinkage,
            )
        )
        for p, pairs in own.items()
    }


def _include_events(
    live, included, public, policy, now, stats
) -> tuple[set[int], set[RatingKey], Callable[[], None]]:
    """Apply changes that fit each physician's remaining budget; returns the touched drugs, the
    included rating keys that changed, and the function that writes them (the caller charges
    the ledger first). Costs here are the upper bound (every cell the change touches); the
    ledger later records only cells actually published."""
    spent = _spent(now)
    events: dict[int, list[RatingKey]] = defaultdict(list)
    for key, placed in live.items():
        old = included.get(key)
        if old is None or old[1] != placed:
            events[key[0]].append(key)
    for key in included.keys() - live.keys():
        events[key[0]].append(key)
    lenience = _leniencies(set(events), live, public, policy)
    touched_drugs: set[int] = set()
    changed: set[RatingKey] = set()
    creates, updates, deletes = [], [], []
    for physician, keys in events.items():
        left = policy.rho_budget - spent.get(physician, 0.0)
        b = lenience.get(physician, np.zeros(5))
        for key in sorted(keys):
            placed, old = live.get(key), included.get(key)
            new_cells = set(_cell_keys(key, placed)) if placed else set()
            old_cells = set(_cell_keys(key, old[1])) if old else set()
            cost = len(new_cells | old_cells) * policy.rho_per_cell_event
            if cost > left:
                stats.deferred += 1
                continue
            left -= cost
            stats.charges[physician] += cost
            stats.events += 1
            touched_drugs.add(key[1])
            changed.add(key)
            for cell in old_cells - new_cells:
                stats.departures[cell] += 1
            if placed is None:
                deletes.append(old[0])
                continue
            fields = {
                "raw": list(placed.raw),
                "specialty_id": placed.specialty_id,
                "region": placed.region,
                "month": placed.month,
                "included_at": now,
                "adjusted": [
                    None if np.isnan(v) else round(float(v), 6)
                    for v in adjusted_values(_raw(placed.raw), b)
                ],
            }
            if old is None:
                creates.append(
                    IncludedRating(
                        physician_id=key[0], drug_id=key[1], indication_id=key[2], **fields
                    )
                )
            else:
                updates.append(
                    IncludedRating(
                        pk=old[0],
                        physician_id=key[0],
                        drug_id=key[1],
                        indication_id=key[2],
                        **fields,
                    )
                )

    def write() -> None:
        _batched(deletes, lambda pks: IncludedRating.objects.filter(pk__in=pks).delete())
        _batched(creates, IncludedRating.objects.bulk_create)
        _batched(
            updates,
            lambda rows: IncludedRating.objects.bulk_update(
                rows, ["raw", "adjusted", "specialty_id", "region", "month", "included_at"]
            ),
        )

    return touched_drugs, changed, write


def _batched(rows: list, write: Callable[[list], object], size: int | None = None) -> None:
    """Write in short transactions. On SQLite a writer holds the only write lock until it
    commits: one transaction for a whole release kept sign-ins, ratings and pharma requests
    waiting past the busy timeout. Each batch here commits within a fraction of a second."""
    size = size or WRITE_BATCH
    for start in range(0, len(rows), size):
        with transaction.atomic():
            write(rows[start : start + size])


def _cell_keys(key: RatingKey, placed: Placed) -> list[str]:
    where = breakdown_values(placed.specialty_id, placed.region, placed.month)
    return [
        c.encode() for c in drug_indication_cells(key[1], key[2], where) + drug_cells(key[1], where)
    ]


def _rows_for(drugs: set[int]) -> RatingRows:
    rows = list(
        IncludedRating.objects.filter(drug_id__in=drugs)
        .values_list(
            "physician_id",
            "drug_id",
            "indication_id",
            "specialty_id",
            "region",
            "month",
            "adjusted",
            "included_at",
        )
        .iterator(chunk_size=5000)
    )
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return RatingRows(
            empty,
            empty,
            empty,
            empty,
            np.zeros(0, dtype=str),
            np.zeros(0, dtype=str),
            np.zeros((0, 5)),
            np.zeros(0),
        )
    p, d, i, s, region, month, adjusted, included_at = zip(*rows, strict=True)
    return RatingRows(
        physician=np.array(p, dtype=np.int64),
        drug=np.array(d, dtype=np.int64),
        indication=np.array(i, dtype=np.int64),
        specialty=np.array(s, dtype=np.int64),
        region=np.array(region, dtype=str),
        month=np.array(month, dtype=str),
        adjusted=np.array([[np.nan if v is None else v for v in a] for a in adjusted], dtype=float),
        included_at=np.array([t.timestamp() for t in included_at]),
    )


def build_release(now: datetime | None = None, policy: PrivacyPolicy | None = None) -> Release:
    """Build and publish a release. Computation runs outside any transaction and the writes go
    in short batches (see `_batched`); the release stays hidden (`complete=False`) until the
    last, small transaction publishes it. Ledger charges are written before the changes they
    pay for, so a build that stops midway over-charges rather than under-charges; the next
    build resumes it (same hidden release) and publishes it."""
    started = time.monotonic()
    now = now or timezone.now()
    policy = policy or current_policy()
    resumed = _unfinished_release()
    previous = Release.objects.order_by("-pk").first()
    stats = BuildStats()
    live, included = _live(), _included()
    drugs, _, write_included = _include_events(
        live, included, _public_means(previous), policy, now, stats
    )
    if resumed is not None:
        # The stopped build may have included changes without stepping their cells: look at
        # every cell (those it already stepped are up to date and do not step again).
        drugs |= {key[1] for key in included} | set(
            CellState.objects.values_list("drug_id", flat=True).distinct()
        )
    release = resumed or Release.all_objects.create(
        published_at=now, methodology_version=METHODOLOGY_VERSION, complete=False
    )
    charged = _charge(release, stats.charges, {}, now)
    write_included()
    hidden = _update_cells(drugs, release, previous, policy, stats, now)
    with transaction.atomic():
        _publish(release, previous, policy, stats, charged, hidden, started, now)
    log.info(
        "release #%s: %s events (%s deferred), %s cells changed in %.1f s",
        release.pk,
        stats.events,
        stats.deferred,
        stats.cells_changed,
        release.build_seconds,
    )
    return release


def _charge(
    release: Release, charges: dict[int, float], charged: dict[int, float], now: datetime
) -> dict[int, float]:
    """Write the charges not yet in the ledger; returns everything charged so far."""
    rows = [
        LedgerEntry(physician_id=p, release=release, rho=rho - charged.get(p, 0.0), at=now)
        for p, rho in charges.items()
        if rho - charged.get(p, 0.0) > 0
    ]
    _batched(rows, LedgerEntry.objects.bulk_create)
    return {**charged, **{p: rho for p, rho in charges.items() if rho > 0}}


def _publish(
    release: Release,
    previous: Release | None,
    policy: PrivacyPolicy,
    stats: BuildStats,
    charged: dict[int, float],
    hidden: int,
    started: float,
    now: datetime,
) -> None:
    update_engagement(release, previous, policy, now, stats.charges)
    _charge(release, stats.charges, charged, now)
    max_spent = max(_spent(now).values(), default=0.0)
    release.n_events, release.n_deferred = stats.events, stats.deferred
    release.n_cells_changed = stats.cells_changed
    release.n_cells_published = versions_at(release).count()
    release.n_cells_suppressed = hidden
    release.privacy = {
        **policy.as_dict(),
        "max_physician_rho_365d": round(max_spent, 3),
        "max_physician_epsilon_365d_at_delta_1e-6": round(epsilon_for(max_spent), 1)
        if max_spent
        else 0.0,
    }
    release.build_seconds = round(time.monotonic() - started, 3)
    release.published_at = now
    release.complete = True
    release.save()


def _unfinished_release() -> Release | None:
    """The hidden release of a build that stopped midway (the worker was killed), to resume."""
    last = Release.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    release = Release.all_objects.filter(complete=False, pk__gt=last).order_by("-pk").first()
    if release is not None:
        log.warning("release #%s stopped midway: resuming it", release.pk)
    return release


def _update_cells(
    drugs: set[int],
    release: Release,
    previous: Release | None,
    policy: PrivacyPolicy,
    stats: BuildStats,
    now: datetime,
) -> int:
    if not drugs:
        return 0
    totals = cell_totals(_rows_for(drugs))
    states = {
        s.key: s for s in CellState.objects.filter(drug_id__in=drugs).iterator(chunk_size=5000)
    }
    index = {key: n for n, key in enumerate(totals.keys)}
    # Published cells that lost every contributor have no row now: they must close too.
    for text in states:
        key = CellKey.decode(text)
        if key not in index:
            index[key] = len(totals.keys)
            totals.keys.append(key)
    n_cells = len(totals.keys)
    vectors = np.vstack([totals.vectors, np.zeros((n_cells - len(totals.vectors), 10))])
    raters = np.concatenate([totals.raters, np.zeros(n_cells - len(totals.raters), dtype=np.int64)])
    hidden = suppressed_cells(
        dict(zip(totals.keys, raters.tolist(), strict=True)), policy.min_raters
    )
    pending = _pending_changes(totals, states, stats, n_cells)
    planned, restarted = [], np.zeros(n_cells, dtype=bool)
    for n, key in enumerate(totals.keys):
        if key in hidden:
            continue
        text = key.encode()
        state = states.get(text)
        nodes = state.state.get("nodes") if state else None
        if not nodes or int(state.state["step"]) >= policy.max_steps:
            state = state or CellState(key=text, drug_id=key.drug_id)
            new_state, merged = tree.plan_step(tree.empty_state(), vectors[n])
            restarted[n] = True
        elif pending[n] < policy.min_batch:
            continue  # too few changes to blend: keep the published version
        else:
            true_tree = tree.totals(state.state)[1]
            if np.allclose(vectors[n], true_tree):
                continue
            new_state, merged = tree.plan_step(state.state, vectors[n] - true_tree)
        new_state["stepped_at"] = now.timestamp()
        new_state["departed"] = 0
        planned.append((n, key, state, new_state, merged))
    _charge_restarts(totals, restarted, policy, stats, now)
    departed = _departed_states(states, stats, {key.encode() for _, key, *_ in planned})
    noise = noisy_nodes(np.array([m for *_, m in planned]).reshape(-1, 10), policy)
    current = {}
    if previous is not None:
        for version in (
            versions_at(previous)
            .filter(drug_id__in=drugs)
            .only("pk", "level", "drug_id", "indication_id", "breakdown", "breakdown_value")
        ):
            current[
                CellKey(
                    version.level,
                    version.drug_id,
                    version.indication_id or 0,
                    version.breakdown,
                    version.breakdown_value,
                )
            ] = version.pk
    # A resumed build: versions it already wrote (never published) are deleted where this run
    # replaces or suppresses them; the previous release's versions they replace are closed.
    own: dict[CellKey, int] = {}
    for version in CellVersion.objects.filter(first_release=release, drug_id__in=drugs).only(
        "pk", "level", "drug_id", "indication_id", "breakdown", "breakdown_value"
    ):
        own[
            CellKey(
                version.level,
                version.drug_id,
                version.indication_id or 0,
                version.breakdown,
                version.breakdown_value,
            )
        ] = version.pk
    steps: list[tuple[CellState, int | None, int | None, CellVersion]] = []
    for (_, key, state, new_state, _), node_noise in zip(planned, noise, strict=True):
        state.state = tree.attach_noise(new_state, node_noise)
        state.step = state.state["step"]
        noisy_total, _ = tree.totals(state.state)
        version = CellVersion(
            first_release=release,
            level=key.level,
            drug_id=key.drug_id,
            indication_id=key.indication_id or None,
            breakdown=key.breakdown,
            breakdown_value=key.value,
            suppressed=False,
            values=published_values(noisy_total, len(state.state["nodes"]), policy),
        )
        steps.append((state, current.get(key), own.get(key), version))
    close = [current[key] for key in hidden if key in current]
    unwritten = [own[key] for key in hidden if key in own]
    # A cell's new tree state, its new version and the closing of the version it replaces commit
    # together, so a build that stops midway can be resumed (see `build_release`). Versions
    # belong to the hidden release, and closing sets `last_release` to the previous release:
    # readers see none of it until the release is published.
    cells_per_batch = max(1, WRITE_BATCH // 4)
    _batched(steps, lambda chunk: _write_steps(chunk, previous), size=cells_per_batch)
    _batched(
        close, lambda pks: CellVersion.objects.filter(pk__in=pks).update(last_release=previous)
    )
    _batched(unwritten, lambda pks: CellVersion.objects.filter(pk__in=pks).delete())
    _batched(
        [s for s in departed if s.pk is not None],
        lambda rows: CellState.objects.bulk_update(rows, ["state", "step"]),
        size=cells_per_batch,
    )
    stats.cells_changed = len(steps) + sum(1 for _, old, _, _ in steps if old) + len(close)
    return len(hidden)


def _write_steps(
    chunk: list[tuple[CellState, int | None, int | None, CellVersion]], previous: Release | None
) -> None:
    new = [state for state, _, _, _ in chunk if state.pk is None]
    existing = [state for state, _, _, _ in chunk if state.pk is not None]
    CellState.objects.bulk_create(new)
    CellState.objects.bulk_update(existing, ["state", "step"])
    replaced = [old for _, old, _, _ in chunk if old is not None]
    CellVersion.objects.filter(pk__in=replaced).update(last_release=previous)
    CellVersion.objects.filter(pk__in=[own for _, _, own, _ in chunk if own is not None]).delete()
    CellVersion.objects.bulk_create([version for _, _, _, version in chunk])


def _pending_changes(
    totals, states: dict[str, CellState], stats: BuildStats, n_cells: int
) -> np.ndarray:
    """Per cell: physicians whose change arrived since the cell's last step, plus departures."""
    stepped_at = np.array(
        [
            float(states[k.encode()].state.get("stepped_at", 0.0)) if k.encode() in states else 0.0
            for k in totals.keys
        ]
    )
    pending = np.zeros(n_cells, dtype=np.int64)
    if len(totals.member_cell):
        fresh = totals.member_included_at > stepped_at[totals.member_cell]
        np.add.at(pending, totals.member_cell[fresh], 1)
    for n, key in enumerate(totals.keys):
        text = key.encode()
        pending[n] += stats.departures.get(text, 0)
        if text in states:
            pending[n] += int(states[text].state.get("departed", 0))
    return pending


def _departed_states(
    states: dict[str, CellState], stats: BuildStats, stepped: set[str]
) -> list[CellState]:
    """Remember departures from cells that did not step, so they count towards the next batch."""
    out = []
    for text, count in stats.departures.items():
        state = states.get(text)
        if state is not None and text not in stepped:
            state.state["departed"] = int(state.state.get("departed", 0)) + count
            out.append(state)
    return out


def _charge_restarts(
    totals, restarted: np.ndarray, policy: PrivacyPolicy, stats: BuildStats, now: datetime
) -> None:
    """A (re)started tree releases every contributor's data in its first node: charge them,
    except those whose change was included (and charged for this cell) in this very release."""
    if not len(totals.member_cell) or not restarted.any():
        return
    pays = restarted[totals.member_cell] & (totals.member_included_at < now.timestamp())
    physicians, counts = np.unique(totals.member_physician[pays], return_counts=True)
    for physician, count in zip(physicians.tolist(), counts.tolist(), strict=True):
        stats.charges[physician] += count * policy.rho_per_cell_event
