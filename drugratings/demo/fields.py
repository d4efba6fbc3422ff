"""Which specialties treat which conditions: ICD-10-CM chapters mapped to specialties."""

from __future__ import annotations

GENERALISTS = ("family-medicine", "internal-medicine", "geriatrics", "emergency-medicine")

# (first letter, lowest two-digit number, highest) -> specialty slug
_ICD_RANGES: tuple[tuple[str, int, int, str], ...] = (
    ("A", 0, 99, "infectious-disease"),
    ("B", 0, 99, "infectious-disease"),
    ("C", 0, 99, "hematology-oncology"),
    ("D", 0, 89, "hematology-oncology"),
    ("E", 0, 99, "endocrinology"),
    ("F", 0, 99, "psychiatry"),
    ("G", 0, 99, "neurology"),
    ("H", 0, 59, "ophthalmology"),
    ("H", 60, 95, "otolaryngology"),
    ("I", 0, 99, "cardiology"),
    ("J", 0, 29, "allergy-immunology"),
    ("J", 30, 99, "pulmonology"),
    ("K", 0, 14, "otolaryngology"),
    ("K", 20, 95, "gastroenterology"),
    ("L", 0, 99, "dermatology"),
    ("M", 0, 99, "rheumatology"),
    ("N", 0, 29, "nephrology"),
    ("N", 30, 53, "urology"),
    ("N", 60, 99, "obstetrics-gynecology"),
    ("O", 0, 99, "obstetrics-gynecology"),
    ("P", 0, 99, "pediatrics"),
    ("R", 0, 99, "family-medicine"),
    ("S", 0, 99, "surgery"),
    ("T", 0, 99, "emergency-medicine"),
    ("G", 89, 89, "pain-medicine"),
    ("Z", 0, 99, "family-medicine"),
)

_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("pain", "pain-medicine"),
    ("infection", "infectious-disease"),
    ("cancer", "hematology-oncology"),
    ("carcinoma", "hematology-oncology"),
    ("lymphoma", "hematology-oncology"),
    ("leukemia", "hematology-oncology"),
    ("hypertension", "cardiology"),
    ("heart", "cardiology"),
    ("angina", "cardiology"),
    ("diabetes", "endocrinology"),
    ("thyroid", "endocrinology"),
    ("asthma", "pulmonology"),
    ("pulmonary", "pulmonology"),
    ("depress", "psychiatry"),
    ("schizo", "psychiatry"),
    ("anxiety", "psychiatry"),
    ("epilep", "neurology"),
    ("seizure", "neurology"),
    ("migraine", "neurology"),
    ("arthritis", "rheumatology"),
    ("psoria", "dermatology"),
    ("dermatitis", "dermatology"),
    ("skin", "dermatology"),
    ("acne", "dermatology"),
    ("eye", "ophthalmology"),
    ("glaucoma", "ophthalmology"),
    ("kidney", "nephrology"),
    ("renal", "nephrology"),
    ("urinary", "urology"),
    ("prostat", "urology"),
    ("pregnan", "obstetrics-gynecology"),
    ("contracept", "obstetrics-gynecology"),
    ("anesthes", "anesthesiology"),
    ("allerg", "allergy-immunology"),
    ("rhinitis", "allergy-immunology"),
    ("gastr", "gastroenterology"),
    ("ulcer", "gastroenterology"),
    ("bowel", "gastroenterology"),
)


def specialty_for(indication_name: str, icd10_codes: list[str]) -> str:
    """The specialty most likely to treat an indication; generalists treat everything too."""
    for code in icd10_codes:
        letter, digits = code[:1], code[1:3]
        if not digits.isdigit():
            continue
        number = int(digits)
        for first, low, high, slug in _ICD_RANGES:
            if letter == first and low <= number <= high:
                return slug
    name = indication_name.lower()
    for keyword, slug in _KEYWORDS:
        if keyword in name:
            return slug
    return "internal-medicine"
