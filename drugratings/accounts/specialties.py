"""The specialties shown beside a physician's handle, and how NUCC taxonomy codes map to them.

NUCC's 238 physician codes are too fine to show or to model as rater groups, so they are
grouped into the specialties a reader recognises. The mapping reads NUCC's Specialization first
(Internal Medicine / Cardiovascular Disease -> Cardiology), then its Classification.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpecialtyDef:
    slug: str
    name: str
    nucc_terms: tuple[str, ...]


SPECIALTIES: tuple[SpecialtyDef, ...] = (
    SpecialtyDef(
        "allergy-immunology",
        "Allergy & Immunology",
        ("Allergy & Immunology", "Clinical & Laboratory Immunology"),
    ),
    SpecialtyDef("anesthesiology", "Anesthesiology", ("Anesthesiology",)),
    SpecialtyDef(
        "cardiology",
        "Cardiology",
        (
            "Cardiovascular Disease",
            "Interventional Cardiology",
            "Clinical Cardiac Electrophysiology",
            "Advanced Heart Failure and Transplant Cardiology",
            "Adult Congenital Heart Disease",
            "Hypertension Specialist",
        ),
    ),
    SpecialtyDef("dermatology", "Dermatology", ("Dermatology",)),
    SpecialtyDef("emergency-medicine", "Emergency Medicine", ("Emergency Medicine",)),
    SpecialtyDef(
        "endocrinology",
        "Endocrinology",
        ("Endocrinology, Diabetes & Metabolism", "Diabetology", "Obesity Medicine"),
    ),
    SpecialtyDef("family-medicine", "Family Medicine", ("Family Medicine", "General Practice")),
    SpecialtyDef(
        "gastroenterology",
        "Gastroenterology",
        ("Gastroenterology", "Hepatology", "Transplant Hepatology"),
    ),
    SpecialtyDef("geriatrics", "Geriatric Medicine", ("Geriatric Medicine",)),
    SpecialtyDef(
        "hematology-oncology",
        "Hematology & Oncology",
        (
            "Hematology",
            "Hematology & Oncology",
            "Medical Oncology",
            "Gynecologic Oncology",
            "Surgical Oncology",
        ),
    ),
    SpecialtyDef("infectious-disease", "Infectious Disease", ("Infectious Disease",)),
    SpecialtyDef("internal-medicine", "Internal Medicine", ("Internal Medicine", "Hospitalist")),
    SpecialtyDef("nephrology", "Nephrology", ("Nephrology",)),
    SpecialtyDef(
        "neurology",
        "Neurology",
        (
            "Neurology",
            "Neuromuscular Medicine",
            "Epilepsy",
            "Clinical Neurophysiology",
            "Vascular Neurology",
            "Headache Medicine",
        ),
    ),
    SpecialtyDef("obstetrics-gynecology", "Obstetrics & Gynecology", ("Obstetrics & Gynecology",)),
    SpecialtyDef("ophthalmology", "Ophthalmology", ("Ophthalmology",)),
    SpecialtyDef("otolaryngology", "Otolaryngology", ("Otolaryngology",)),
    SpecialtyDef("pain-medicine", "Pain Medicine", ("Pain Medicine",)),
    SpecialtyDef("pediatrics", "Pediatrics", ("Pediatrics",)),
    SpecialtyDef(
        "psychiatry",
        "Psychiatry",
        (
            "Psychiatry",
            "Addiction Medicine",
            "Child & Adolescent Psychiatry",
            "Geriatric Psychiatry",
        ),
    ),
    SpecialtyDef(
        "pulmonology",
        "Pulmonology",
        ("Pulmonary Disease", "Critical Care Medicine", "Sleep Medicine"),
    ),
    SpecialtyDef("rheumatology", "Rheumatology", ("Rheumatology",)),
    SpecialtyDef(
        "surgery",
        "Surgery",
        (
            "Surgery",
            "Orthopaedic Surgery",
            "Plastic Surgery",
            "Neurological Surgery",
            "Colon & Rectal Surgery",
            "Transplant Surgery",
            "Thoracic Surgery (Cardiothoracic Vascular Surgery)",
        ),
    ),
    SpecialtyDef("urology", "Urology", ("Urology",)),
    SpecialtyDef("other", "Other specialty", ()),
)

_BY_TERM = {term.lower(): spec.slug for spec in SPECIALTIES for term in spec.nucc_terms}


def specialty_slug_for_nucc(classification: str, specialization: str) -> str:
    """Pick the specialty of a NUCC physician code: its Specialization, else its Classification."""
    for term in (specialization, classification):
        slug = _BY_TERM.get(term.strip().lower())
        if slug:
            return slug
    if classification.startswith("Psychiatry"):
        return "neurology" if specialization == "Neurology" else "psychiatry"
    return "other"
