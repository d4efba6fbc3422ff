"""Comment text for demo ratings, assembled from phrases that follow the rating's own scores."""

from __future__ import annotations

import numpy as np

EFFICACY = {
    1: ["Rarely achieved the response we needed.", "Disappointing efficacy in my patients."],
    2: ["Modest benefit at best.", "Works for some, but I often have to switch."],
    3: ["Reasonable efficacy, comparable to alternatives.", "Does the job in most cases."],
    4: ["Reliable response in the majority of patients.", "Consistently good results."],
    5: ["Excellent efficacy; my first choice.", "Outstanding response, even in difficult cases."],
}
TOLERABILITY = {
    1: ["Side effects drive most patients to stop.", "Poorly tolerated in my practice."],
    2: [
        "GI upset and fatigue are common complaints.",
        "Tolerability is a real issue for older patients.",
    ],
    3: [
        "Side effects are manageable with slow titration.",
        "Usual class side effects, nothing unexpected.",
    ],
    4: ["Well tolerated once the first weeks pass.", "Few complaints from patients."],
    5: ["Patients barely notice they are on it.", "Very well tolerated across age groups."],
}
ACCESS = {
    1: ["Prior authorisation is a constant battle.", "Cost puts it out of reach for many."],
    2: ["Coverage is patchy; expect paperwork.", "Often not on formulary."],
    3: ["Usually covered, with some exceptions.", "Supply has been steady."],
    4: ["Generic availability keeps costs down.", "Easy to obtain for most patients."],
    5: ["Cheap and universally covered.", "Never had an access problem."],
}
TIPS = [
    "Check renal function before starting.",
    "Counsel patients about the first two weeks.",
    "Once-daily dosing helps adherence.",
    "Watch for interactions with CYP3A4 inhibitors.",
    "Start low and go slow in the elderly.",
    "Monitor liver enzymes at baseline.",
    "Take with food to limit nausea.",
    "A good option when first-line therapy fails.",
    "I pair it with lifestyle advice and follow up at six weeks.",
    "Patient education on expected onset time matters.",
]


def comment_text(rng: np.random.Generator, scores: np.ndarray) -> str:
    """One comment for a rating whose five scores (0 = no opinion) are `scores`."""
    parts = []
    for value, phrases in ((scores[0], EFFICACY), (scores[2], TOLERABILITY), (scores[3], ACCESS)):
        if value and rng.random() < 0.8:
            options = phrases[int(value)]
            parts.append(options[int(rng.integers(len(options)))])
    if rng.random() < 0.6 or not parts:
        parts.append(TIPS[int(rng.integers(len(TIPS)))])
    return " ".join(parts)


# A few comments that the screening must hold: they contain patient identifiers or promotion.
HELD_EXAMPLES = [
    (
        "My patient John Smith, DOB 03/14/1962, responded well. Call me at 555-201-3344.",
        ["phone number", "date of birth with a name"],
    ),
    (
        "Email me at rep.sales@example.com for free samples and a discount code!",
        ["email address", "promotional"],
    ),
    ("MRN 00482913 had a rash on day 3; otherwise fine.", ["medical record number"]),
]
