"""Feed the manipulation detectors from the database and quarantine what they find.

Runs after each score refit and on demand (`manage.py detect_manipulation`). The detectors
themselves (`trust.detectors`) are pure numpy and know nothing of Django.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta

import numpy as np
from django.utils import timezone

from drugratings.core.events import ScoresRefitted
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.models import Rating, RatingRevision, RatingStatus, RevisionAction
from drugratings.ratings.queries import counting_ratings
from drugratings.trust import actions
from drugratings.trust.detectors import RatingTable, run_all, toggling
from drugratings.trust.models import QuarantineCase

log = logging.getLogger(__name__)


def network_of(address: str | None) -> str:
    """The sign-up network block: /24 for IPv4, /48 for IPv6 (one hospital or one provider)."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _codes(values: list[str]) -> np.ndarray:
    table: dict[str, int] = {}
    return np.array(
        [-1 if not v else table.setdefault(v, len(table)) for v in values], dtype=np.int64
    )


def rating_table():
    rows = list(
        counting_ratings()
        .values_list(
            "pk",
            "physician_id",
            "drug_id",
            "drug__manufacturer",
            "drug__drug_class_id",
            "created_at",
            "physician__user__date_joined",
            "physician__user__signup_ip",
            "physician__user__signup_device",
            *DIMENSION_NAMES,
        )
        .iterator(chunk_size=10000)
    )
    if not rows:
        raise ValueError("no active ratings to examine")
    columns = list(zip(*rows, strict=True))
    return RatingTable(
        rating_id=np.array(columns[0], dtype=np.int64),
        physician=np.array(columns[1], dtype=np.int64),
        drug=np.array(columns[2], dtype=np.int64),
        manufacturer=_codes(list(columns[3])),
        drug_class=np.array([-1 if c is None else c for c in columns[4]], dtype=np.int64),
        created=np.array([t.timestamp() for t in columns[5]], dtype=float),
        scores=np.array(columns[9:], dtype=float).T,
        physician_joined=np.array([t.timestamp() for t in columns[6]], dtype=float),
        physician_network=_codes([network_of(a) for a in columns[7]]),
        physician_device=_codes(list(columns[8])),
    )


def change_events(days: int = 90):
    """Every change of a rating in the last `days` (edits, withdrawals, re-creations), for the
    coordinated-toggling detector; a rating's first creation is not a change."""
    since = timezone.now() - timedelta(days=days)
    rows = list(
        RatingRevision.objects.filter(at__gte=since)
        .exclude(action__in=[RevisionAction.QUARANTINED, RevisionAction.RESTORED])
        .order_by("at")
        .values_list("physician_id", "drug_id", "indication_id", "action", "at")
        .iterator(chunk_size=10000)
    )
    cells: dict[tuple[int, int], int] = {}
    seen: set[tuple[int, int, int]] = set()
    physician, cell, at = [], [], []
    for p, d, i, action, when in rows:
        first = action == RevisionAction.CREATED and (p, d, i) not in seen
        seen.add((p, d, i))
        if first:
            continue
        physician.append(p)
        cell.append(cells.setdefault((d, i), len(cells)))
        at.append(when.timestamp())
    # Only physicians with a few changes can be in a toggling group.
    counts = np.bincount(np.array(physician, dtype=np.int64)) if physician else np.zeros(0)
    candidates = np.flatnonzero(counts >= toggling.ToggleParams().min_shared).tolist()
    rating_of = {
        (p, cells[(d, i)]): pk
        for pk, p, d, i in Rating.objects.filter(
            status=RatingStatus.ACTIVE, physician_id__in=candidates
        ).values_list("pk", "physician_id", "drug_id", "indication_id")
        if (d, i) in cells
    }
    return toggling.ChangeEvents(
        np.array(physician, dtype=np.int64),
        np.array(cell, dtype=np.int64),
        np.array(at, dtype=float),
        rating_of,
    )


def run_detection() -> list[QuarantineCase]:
    """Run every detector and quarantine each suspicion's ratings (one case per suspicion)."""
    try:
        suspicions = run_all(rating_table())
    except ValueError:
        suspicions = []
    suspicions += toggling.detect(change_events())
    cases = []
    for suspicion in suspicions:
        case = actions.open_case(
            suspicion.detector,
            float(suspicion.score),
            suspicion.reason,
            suspicion.rating_ids.tolist(),
            suspicion.physician_ids.tolist(),
        )
        if case is not None:
            cases.append(case)
    if cases:
        log.info("quarantined %s case(s)", len(cases))
    return cases


def detect_after_refit(event: ScoresRefitted) -> str:
    """Subscribed to scores-refitted: the detectors run after each refit; quarantines trigger
    the next refit."""
    cases = run_detection()
    return f"{len(cases)} new quarantine case(s)"
