"""Feed the manipulation detectors from the database and quarantine what they find.

Runs after each score refit and on demand (`manage.py detect_manipulation`). The detectors
themselves (`trust.detectors`) are pure numpy and know nothing of Django.
"""

from __future__ import annotations

import ipaddress
import logging

import numpy as np

from drugratings.core.events import ScoresRefitted
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.queries import counting_ratings
from drugratings.trust import actions
from drugratings.trust.detectors import RatingTable, run_all
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


def run_detection() -> list[QuarantineCase]:
    """Run every detector and quarantine each suspicion's ratings (one case per suspicion)."""
    try:
        table = rating_table()
    except ValueError:
        return []
    cases = []
    for suspicion in run_all(table):
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
