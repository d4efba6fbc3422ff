"""Screen comment text before publication.

Comments that probably contain patient identifiers (HIPAA's direct identifiers: names with dates
of birth, record numbers, phone numbers, emails, street addresses, SSNs) or promotion are held
for a moderator. The rules err on the side of holding: a held comment costs a moderator a
minute; a published identifier cannot be taken back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PHONE = re.compile(
    r"(?<!\d)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)"
    r"|(?<!\d)\+\d{1,3}[\s.-]?\d{2,4}[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?!\d)"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
_DATE = re.compile(
    r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2})(?!\d)"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? (?:19|20)\d{2}\b",
    re.IGNORECASE,
)
_DOB_WORDS = re.compile(r"\b(?:dob|d\.o\.b|date of birth|born(?: on)?|birthday)\b", re.IGNORECASE)
_MRN = re.compile(
    r"\b(?:mrn|medical record(?: number| no\.?)?|record (?:number|no\.?)|chart (?:number|no\.?)"
    r"|patient id|acct(?:ount)? (?:number|no\.?))\s*[:#]?\s*[A-Z0-9-]{4,}",
    re.IGNORECASE,
)
_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][a-z]+\s+){1,3}(?:street|st|avenue|ave|road|rd|boulevard|blvd"
    r"|lane|ln|drive|dr|court|ct|way|place|pl|terrace|parkway|pkwy)\b\.?",
    re.IGNORECASE,
)
# A capitalised name after a patient word or a title: "patient John Smith", "Mrs. Lee".
_NAMED_PATIENT = re.compile(
    r"\b(?i:patient|pt|my patient|mrs|mr|ms|miss)\.?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_PROMO = re.compile(
    r"\b(?:discount|coupon|promo(?:tion|tional)? code|free samples?|buy now|order now|"
    r"call now|limited offer|special offer|sales rep|best price|cheap|\d+\s?% off)\b",
    re.IGNORECASE,
)


class HoldReason:
    PHONE = "phone number"
    EMAIL = "email address"
    SSN = "social security number"
    DATE_OF_BIRTH = "date of birth with a name"
    DATE_OF_BIRTH_WORD = "date of birth"
    RECORD_NUMBER = "medical record number"
    ADDRESS = "street address"
    PATIENT_NAME = "patient name"
    LINK = "link"
    PROMOTIONAL = "promotional"
    SHOUTING = "off-topic: shouting"
    REPETITION = "off-topic: repetition"


@dataclass(frozen=True)
class Screening:
    reasons: tuple[str, ...]

    @property
    def held(self) -> bool:
        return bool(self.reasons)


def screen_comment(text: str) -> Screening:
    reasons: list[str] = []

    def hold(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    if _PHONE.search(text):
        hold(HoldReason.PHONE)
    if _EMAIL.search(text):
        hold(HoldReason.EMAIL)
    if _SSN.search(text):
        hold(HoldReason.SSN)
    has_name = bool(_NAMED_PATIENT.search(text))
    if _DATE.search(text) and (has_name or _DOB_WORDS.search(text)):
        hold(HoldReason.DATE_OF_BIRTH)
    elif _DOB_WORDS.search(text) and re.search(r"\d", text):
        hold(HoldReason.DATE_OF_BIRTH_WORD)
    if _MRN.search(text):
        hold(HoldReason.RECORD_NUMBER)
    if _ADDRESS.search(text):
        hold(HoldReason.ADDRESS)
    if has_name:
        hold(HoldReason.PATIENT_NAME)
    if _URL.search(text):
        hold(HoldReason.LINK)
    if _PROMO.search(text):
        hold(HoldReason.PROMOTIONAL)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        hold(HoldReason.SHOUTING)
    words = text.lower().split()
    if len(words) >= 12 and len(set(words)) / len(words) < 0.3:
        hold(HoldReason.REPETITION)
    return Screening(tuple(reasons))
