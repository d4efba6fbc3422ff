"""Screen comment text before publication.

Comments that probably contain a patient identifier (the HIPAA Safe Harbor kinds that can occur
in free text: names, dates more specific than a year tied to a person, ages over 89, phone and
fax numbers, emails, street addresses and small geographic units, record, account, card,
licence, health-plan and social security numbers, URLs and IP addresses) or promotion are held
for a moderator. The rules err on the side of holding: a held comment costs a moderator a
minute; a published identifier cannot be taken back.

Two layers find identifiers:
- Microsoft Presidio's pattern recognizers (phone numbers in any national or international
  format through Google's libphonenumber, URLs, IP addresses, SSNs, ITINs, Medicare numbers,
  card numbers with their checksum, IBANs, DEA numbers, numeric dates). They are used without
  Presidio's NLP engine: its named-entity recognition needs a spaCy model that is not a package
  on a registry we can install from, and nothing may be downloaded at run time. The recognizers
  are built once per process.
- Our own rules for what patterns alone miss: names in a patient context (a title, "patient",
  a common first name next to a surname or a patient verb), initials with age and sex ("JS,
  64M"), dates written in words, ages over 89, street addresses, numbers introduced by a record,
  account, licence or plan word, and obfuscated emails.

`drugratings/moderation/data/phi_labelled.tsv` is the labelled set that measures both layers
(`manage.py eval_screening`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


class HoldReason:
    PHONE = "phone number"
    EMAIL = "email address"
    SSN = "social security number"
    DATE_OF_BIRTH = "date of birth with a name"
    DATE_OF_BIRTH_WORD = "date of birth"
    DATE = "date tied to a person"
    AGE_OVER_89 = "age over 89"
    RECORD_NUMBER = "medical record number"
    ACCOUNT_NUMBER = "account, card, licence or plan number"
    ADDRESS = "street address"
    PATIENT_NAME = "patient name"
    LINK = "link"
    IP_ADDRESS = "IP address"
    PROMOTIONAL = "promotional"
    SHOUTING = "off-topic: shouting"
    REPETITION = "off-topic: repetition"


@dataclass(frozen=True)
class Screening:
    reasons: tuple[str, ...]

    @property
    def held(self) -> bool:
        return bool(self.reasons)


# --- Presidio -----------------------------------------------------------------------------

# Regions whose national formats (no "+") are recognised; a number written with "+" or "00"
# and a country code is recognised whatever its country.
PHONE_REGIONS = ("US", "CA", "GB", "IE", "AU", "NZ", "IN", "DE", "FR", "ES", "IT", "NL", "ZA")

# Presidio entity -> (our reason, lowest Presidio score that holds). Presidio's "very weak"
# patterns (any 9 digits for an SSN, 0.05) would hold ordinary numbers; our own rules cover
# those numbers when a word such as "SSN" or "account" introduces them.
_PRESIDIO_REASONS: dict[str, tuple[str, float]] = {
    "PHONE_NUMBER": (HoldReason.PHONE, 0.0),
    # 0.5 is Presidio's "non-schema URL", which also matches a missing space after a full stop
    # ("6 months.the"); bare domains are left to our own rule with a list of endings.
    "URL": (HoldReason.LINK, 0.6),
    "IP_ADDRESS": (HoldReason.IP_ADDRESS, 0.5),
    "US_SSN": (HoldReason.SSN, 0.5),
    "US_ITIN": (HoldReason.SSN, 0.5),
    "US_MBI": (HoldReason.ACCOUNT_NUMBER, 0.5),
    "CREDIT_CARD": (HoldReason.ACCOUNT_NUMBER, 0.0),
    "IBAN_CODE": (HoldReason.ACCOUNT_NUMBER, 0.0),
    "MEDICAL_LICENSE": (HoldReason.ACCOUNT_NUMBER, 0.0),
    "DATE_TIME": (HoldReason.DATE, 0.5),
}

_lock = threading.Lock()


@cache
def _recognizers() -> tuple[Any, ...]:
    # Imported here: Presidio imports spaCy (seconds); only processes that screen pay for it.
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        DateRecognizer,
        IbanRecognizer,
        IpRecognizer,
        MedicalLicenseRecognizer,
        PhoneRecognizer,
        UrlRecognizer,
        UsItinRecognizer,
        UsMbiRecognizer,
        UsSsnRecognizer,
    )

    return (
        PhoneRecognizer(supported_regions=PHONE_REGIONS, leniency=1),
        UrlRecognizer(),
        IpRecognizer(),
        UsSsnRecognizer(),
        UsItinRecognizer(),
        UsMbiRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        MedicalLicenseRecognizer(),
        DateRecognizer(),
    )


def load() -> None:
    """Build the recognizers now (the first screening would otherwise pay for it)."""
    with _lock:
        _recognizers()


# Clinical notation that libphonenumber or the date patterns can mistake for an identifier:
# blood pressure and dose ratios ("140/90", "5/10"), ranges ("0.4-4.0"), decimals.
_NOT_A_PHONE = re.compile(r"^[\d\s]*\d+\s*/\s*\d+[\d\s/]*$|^\d{1,3}(?:\.\d+){1,3}$")


def _presidio_reasons(text: str) -> set[str]:
    reasons: set[str] = set()
    digits = sum(c.isdigit() for c in text)
    emails = _spans(_EMAIL, text)
    for recognizer in _recognizers():
        if digits < 7 and "PHONE_NUMBER" in recognizer.supported_entities:
            continue  # no phone number has fewer digits; libphonenumber is the slow part
        for result in recognizer.analyze(text, recognizer.supported_entities, None):
            reason, floor = _PRESIDIO_REASONS[result.entity_type]
            if result.score < floor:
                continue
            found = text[result.start : result.end]
            if result.entity_type == "PHONE_NUMBER" and (
                _NOT_A_PHONE.match(found)
                or _IP.fullmatch(found)
                or _NUMERIC_DATE.fullmatch(found)
                or sum(c.isdigit() for c in found) < 7
            ):
                continue
            if result.entity_type == "DATE_TIME" and not _is_specific_date(found):
                continue
            if result.entity_type == "URL" and any(a <= result.start < b for a, b in emails):
                continue  # the domain of an email address: held as an email
            reasons.add(reason)
    return reasons


# --- Our rules ------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_NUMERIC_DATE = re.compile(
    r"(?<![\d/.-])(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}|(?:19|20)\d{2}[/.-]\d{1,2}[/.-]\d{1,2})"
    r"(?![\d/.-]*\d)"
)
# A day with a month in words, with or without a year: "14 March 1962", "March 3rd",
# "the 3rd of October", "12-Jan-2026", "Feb 14, 2026".
_WORD_DATE = re.compile(
    rf"\b{_DAY}(?:\s+of)?[\s-]+{_MONTH}\b\.?|\b{_MONTH}\.?[\s-]+{_DAY}\b(?!\s*(?:mg|mcg|g|ml|%))",
    re.IGNORECASE,
)
_ON_THE_DAY = re.compile(  # "on the 19th", not "on the 3rd day"
    r"\bon the \d{1,2}(?:st|nd|rd|th)\b(?!\s+(?:day|week|month|year|dose|time|visit|cycle|night"
    r"|morning|evening|attempt|trial|try|round|tablet|pill|injection)s?\b)",
    re.IGNORECASE,
)
# Month and year ("March 2020") is an identifier only when it is a person's date.
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\.?\s+(?:of\s+)?(?:19|20)\d{{2}}\b", re.IGNORECASE)
_PERSON_CUE = re.compile(
    r"\b(?:he|she|him|her|his|hers|patient|pt|mr|mrs|ms|born|admitted|discharged|died"
    r"|seen|visit(?:ed)?|presented|collapsed|hospitali[sz]ed)\b",
    re.IGNORECASE,
)
_DOB_WORDS = re.compile(r"\b(?:dob|d\.o\.b|date of birth|born(?: on)?|birthday)\b", re.IGNORECASE)
_AGE_OVER_89 = re.compile(
    r"\b(?:9\d|1[01]\d)\s*-?\s*(?:years?[\s-]*old|y(?:ea)?rs?\b|y/?o\b|yo\b|[mf]\b)"
    r"|\b(?:aged?|age of)\s+(?:9\d|1[01]\d)\b"
    r"|\bin (?:his|her|their) (?:late )?(?:90s|nineties|hundreds)\b"
    r"|\b(?:nonagenarian|centenarian)\b",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<!\d)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?!\d)"
    r"|(?<![\w.])\d{10}(?![\w.])"
    r"|(?<!\d)(?:\+|00)\d{1,3}[\s.-]?\d{2,4}[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?!\d)"
)
_EMAIL = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+"
    r"|\b[\w.+-]+\s*[\[(]?\s*at\s*[\])]?\s*[\w-]+\s*[\[(]?\s*dot\s*[\])]?\s*(?:com|org|net|edu|gov)\b",
    re.IGNORECASE,
)
_SSN = re.compile(
    r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"
    r"|\b(?:ssn|social security(?: number| no\.?| #)?)\s*[:#]?\s*\d{3}[\s-]?\d{2}[\s-]?\d{4}\b",
    re.IGNORECASE,
)
_RECORD = re.compile(
    r"\b(?:mrn|medical record(?: number| no\.?| #)?|record (?:number|no\.?|#)|chart(?: number"
    r"| no\.?)?\s*#|patient id|case (?:number|no\.?))\s*[:#]?\s*[A-Z0-9][A-Z0-9-]{3,}",
    re.IGNORECASE,
)
_ACCOUNT = re.compile(
    r"\b(?:acct|account|card|licen[cs]e|dl|plate|serial|certificate|member(?: id)?|policy"
    r"|subscriber(?: id)?|beneficiary(?: id)?|passport|claim|insurance id|id)"
    r"(?:\s+(?:number|no\.?|#|id))?\s*[:#]?\s*(?=[A-Z0-9-]*\d[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,}",
    re.IGNORECASE,
)
# A long bare number (8+ digits, not glued to letters like a trial id "NCT01234567") is
# probably an identifier of some kind: hold it as doubtful.
_LONG_NUMBER = re.compile(r"(?<![\w.,])\d{8,}(?![\w.,])")
# Bare domains with a common ending, in lower case: "drugs.com", "nhs.uk"; not a missing space
# after a full stop ("20 mg.In the morning"), and not short endings such as .in or .me.
_URL = re.compile(
    r"\b(?i:https?://|www\.)\S+"
    r"|\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|edu|gov|info|io|health|uk)\b(?:/\S*)?"
)
_IP = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl"
    r"|terrace|parkway|pkwy|highway|hwy|circle|cir|square|sq)"
)
_ADDRESS = re.compile(
    r"\b(?:p\.?\s?o\.?\s+box|apartment|apt\.?|suite)\s*#?\s*\d+"
    r"|\b(?:zip(?: code)?|postcode|postal code)\s*[:#]?\s*[A-Z0-9]{3,}"
    r"|\b(?:lives|living|resides|residing|reside|home address|address)\s+(?:is\s+)?(?:in|at|on)"
    r"\s+(?:\d+\s+)?[A-Z][a-z]+",
    re.IGNORECASE,
)
# Case matters here: "42 Elm Street" and "Boise, ID 83702", not "2 of my patients the same way".
_ADDRESS_CASED = re.compile(
    rf"\b\d{{1,6}}[A-Z]?\s+(?:[A-Z][a-z]+\s+){{1,3}}(?i:{_STREET})\b"
    r"|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
)
_TITLE_NAME = re.compile(
    r"\b(?:(?i:my patient|patient|pt)[,:]?|(?:Mrs|Mr|Ms|Miss|Mx)\.?)\s+[A-Z][a-z'-]+"
    r"(?:\s+[A-Z][a-z'-]+)?"
)
_INITIALS_AGE_SEX = re.compile(  # initials are capitals: "JS, 64M", not "my 78 year old"
    r"\b(?:[A-Z]\.?\s?){2,3},?\s+\d{1,3}\s*(?:[MF]\b|(?i:y/?o\b|yo\b|years?[\s-]old|-year-old))"
    r"|\b(?i:pt|patient)\s+(?:[A-Z]\.){2,3}"
)
_CAPITALISED = re.compile(r"\b([A-Z][a-z'-]+)(?:,?\s+([A-Z][a-z'-]+))?")
_PATIENT_VERB = re.compile(
    r"\s*(?:,\s*(?:a|an|my|our|the)\b|\s(?:developed|presented|had|has|was|is|stopped|started"
    r"|complained|reported|tolerated|responded|died|came|took|could(?:n't| not)?|felt|needed"
    r"|experienced|said|told|swears|did|does)\b)"
)
_PROMO = re.compile(
    r"\b(?:discount|coupon|promo(?:tion|tional)? code|free samples?|buy now|order now|"
    r"call now|limited offer|special offer|sales rep|best price|cheap|\d+\s?% off)\b",
    re.IGNORECASE,
)


@cache
def _first_names() -> frozenset[str]:
    lines = (DATA / "first_names.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def _is_specific_date(found: str) -> bool:
    """A date with a day in it (a month and year alone is judged with its context)."""
    return bool(_NUMERIC_DATE.search(found) or _WORD_DATE.search(found))


def _has_person_name(text: str) -> bool:
    if _TITLE_NAME.search(text) or _INITIALS_AGE_SEX.search(text):
        return True
    names = _first_names()
    for match in _CAPITALISED.finditer(text):
        first, surname = match.group(1), match.group(2)
        if first.lower() not in names:
            continue
        # "Linda Williams", "Jane Doe": a first name and a capitalised word after it; or "Sarah,
        # a teacher" / "Tom developed": a first name with a patient verb after it.
        if surname and surname.lower() not in names | {"the"}:
            return True
        if surname and surname.lower() in names:
            return True
        if _PATIENT_VERB.match(text, match.end(1)):
            return True
    return False


def _has_person_date(text: str) -> bool:
    if _NUMERIC_DATE.search(text) or _WORD_DATE.search(text) or _ON_THE_DAY.search(text):
        return True
    return bool(_MONTH_YEAR.search(text) and _PERSON_CUE.search(text))


def screen_comment(text: str) -> Screening:
    reasons: list[str] = []

    def hold(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    found = _presidio_reasons(text)
    if HoldReason.PHONE in found or _PHONE.search(text):
        hold(HoldReason.PHONE)
    if _EMAIL.search(text):
        hold(HoldReason.EMAIL)
    if HoldReason.SSN in found or _SSN.search(text):
        hold(HoldReason.SSN)
    has_name = _has_person_name(text)
    dated = HoldReason.DATE in found or _has_person_date(text)
    if dated and (has_name or _DOB_WORDS.search(text)):
        hold(HoldReason.DATE_OF_BIRTH)
    elif _DOB_WORDS.search(text) and re.search(r"\d", text):
        hold(HoldReason.DATE_OF_BIRTH_WORD)
    elif dated:
        hold(HoldReason.DATE)
    if _AGE_OVER_89.search(text):
        hold(HoldReason.AGE_OVER_89)
    record = bool(_RECORD.search(text))
    if record:
        hold(HoldReason.RECORD_NUMBER)
    bare_number = bool(_LONG_NUMBER.search(text)) and not record and HoldReason.PHONE not in reasons
    if HoldReason.ACCOUNT_NUMBER in found or _ACCOUNT.search(text) or bare_number:
        hold(HoldReason.ACCOUNT_NUMBER)
    if _ADDRESS_CASED.search(text) or _ADDRESS.search(text):
        hold(HoldReason.ADDRESS)
    if has_name:
        hold(HoldReason.PATIENT_NAME)
    if HoldReason.LINK in found or any(
        not any(a <= m.start() < b for a, b in _spans(_EMAIL, text)) for m in _URL.finditer(text)
    ):
        hold(HoldReason.LINK)
    if HoldReason.IP_ADDRESS in found or _IP.search(text):
        hold(HoldReason.IP_ADDRESS)
    if _PROMO.search(text):
        hold(HoldReason.PROMOTIONAL)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        hold(HoldReason.SHOUTING)
    words = text.lower().split()
    if len(words) >= 12 and len(set(words)) / len(words) < 0.3:
        hold(HoldReason.REPETITION)
    return Screening(tuple(reasons))
