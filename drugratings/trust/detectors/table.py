"""The detectors' input (:class:`RatingTable`) and output (:class:`Suspicion`).

Both are plain frozen dataclasses of numpy arrays so that the detectors can be run, tested and
audited without Django; the Django side converts querysets into a ``RatingTable`` and stores the
``Suspicion`` objects for moderators.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["N_DIMENSIONS", "RatingTable", "Suspicion"]

#: efficacy, safety, tolerability, accessibility, adherence (``ratings.dimensions`` order).
N_DIMENSIONS = 5

_INT_FIELDS = (
    "rating_id",
    "physician",
    "drug",
    "manufacturer",
    "drug_class",
    "physician_network",
    "physician_device",
)
_FLOAT_FIELDS = ("created", "physician_joined")


def _frozen(a: np.ndarray) -> np.ndarray:
    # The dataclass is frozen; freezing the buffers too stops a detector from silently editing
    # the table another detector reads next.
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class RatingTable:
    """One entry per rating, as aligned numpy arrays.

    Attributes
    ----------
    rating_id, physician, drug : ndarray of int64
        Database keys.  ``rating_id`` must be unique.
    manufacturer, drug_class : ndarray of int64
        Codes of the drug's manufacturer and class; ``-1`` when unknown.
    created : ndarray of float64
        When the rating was made, epoch seconds.
    scores : ndarray of float64, shape (n, 5)
        Scores 1-5 per dimension; NaN for "no opinion".
    physician_joined : ndarray of float64
        When the rater's account was created, epoch seconds (repeated on each of its rows).
    physician_network, physician_device : ndarray of int64
        Codes of the sign-up network (IP block) and device fingerprint; ``-1`` when unknown.

    Raises
    ------
    ValueError
        When a field has the wrong shape or length (the message names the field), when
        ``rating_id`` has duplicates, or when times or scores are out of range.
    """

    rating_id: np.ndarray
    physician: np.ndarray
    drug: np.ndarray
    manufacturer: np.ndarray
    drug_class: np.ndarray
    created: np.ndarray
    scores: np.ndarray
    physician_joined: np.ndarray
    physician_network: np.ndarray
    physician_device: np.ndarray

    def __post_init__(self) -> None:
        n = int(np.shape(self.rating_id)[0]) if np.ndim(self.rating_id) == 1 else -1
        if n < 0:
            raise ValueError("RatingTable.rating_id must be one-dimensional")
        for name in _INT_FIELDS + _FLOAT_FIELDS:
            value = getattr(self, name)
            dtype = np.float64 if name in _FLOAT_FIELDS else np.int64
            try:
                arr = np.asarray(value, dtype=dtype)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"RatingTable.{name} cannot be read as {dtype.__name__}") from exc
            if arr.ndim != 1:
                raise ValueError(f"RatingTable.{name} must be one-dimensional, got {arr.shape}")
            if arr.shape[0] != n:
                raise ValueError(
                    f"RatingTable.{name} has length {arr.shape[0]} but rating_id has {n}"
                )
            if dtype is np.float64 and not np.isfinite(arr).all():
                raise ValueError(f"RatingTable.{name} contains non-finite times")
            object.__setattr__(self, name, _frozen(arr))
        scores = np.asarray(self.scores, dtype=np.float64)
        if scores.ndim != 2 or scores.shape[1] != N_DIMENSIONS:
            raise ValueError(f"RatingTable.scores must have shape (n, 5), got {scores.shape}")
        if scores.shape[0] != n:
            raise ValueError(
                f"RatingTable.scores has length {scores.shape[0]} but rating_id has {n}"
            )
        answered = ~np.isnan(scores)
        if ((scores[answered] < 1) | (scores[answered] > 5)).any():
            raise ValueError("RatingTable.scores must lie in [1, 5] (NaN for no opinion)")
        object.__setattr__(self, "scores", _frozen(scores))
        if np.unique(self.rating_id).size != n:
            raise ValueError("RatingTable.rating_id contains duplicates")

    def __len__(self) -> int:
        return int(self.rating_id.shape[0])

    def subset(self, mask: np.ndarray) -> RatingTable:
        """The table restricted to rows where ``mask`` is true (or to the given row indices)."""
        return RatingTable(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    @staticmethod
    def concat(tables: list[RatingTable]) -> RatingTable:
        """Stack tables row-wise (rating ids must stay unique)."""
        names = [f.name for f in fields(tables[0])]
        return RatingTable(**{k: np.concatenate([getattr(t, k) for t in tables]) for k in names})


@dataclass(frozen=True)
class Suspicion:
    """One finding for moderators.

    Attributes
    ----------
    detector : str
        Key of the detector in ``DETECTORS``.
    rating_ids : ndarray of int64
        Ratings the finding proposes to quarantine (sorted, unique).
    physician_ids : ndarray of int64
        Accounts involved (sorted, unique).
    score : float
        Strength of the evidence; higher is more suspicious.  Comparable within one detector
        only.
    reason : str
        Plain-language explanation for moderators; never shown to the raters.
    """

    detector: str
    rating_ids: np.ndarray
    physician_ids: np.ndarray
    score: float
    reason: str

    def __post_init__(self) -> None:
        for name in ("rating_ids", "physician_ids"):
            arr = np.unique(np.asarray(getattr(self, name), dtype=np.int64))
            object.__setattr__(self, name, _frozen(arr))
        object.__setattr__(self, "score", float(self.score))
