"""The typed records every catalogue source is turned into before loading."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class DrugRecord:
    source_id: str
    generic_name: str
    moiety_key: str
    approval_status: str = ""
    product_type: str = ""
    classes: list[str] = field(default_factory=list)
    primary_class: str = ""
    class_source: str = ""
    brand_names: list[str] = field(default_factory=list)
    manufacturers: list[str] = field(default_factory=list)
    application_numbers: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    dosage_forms: list[str] = field(default_factory=list)
    dea_schedule: str = ""
    first_marketed: date | None = None
    is_listed: bool = True
    # Source ids of other rows merged into this one (other salts of the same moiety).
    aliases: list[str] = field(default_factory=list)
    n_products: int = 0


@dataclass(frozen=True)
class BrandRecord:
    brand_name: str
    moiety_key: str
    application_number: str
    application_holder: str
    routes: str
    first_marketed: date | None


@dataclass(frozen=True)
class IndicationRecord:
    name: str
    icd10_codes: tuple[str, ...]
    doid: str
    umls_cui: str
    drug_source_ids: tuple[str, ...]


# Salt, ester, hydrate and solvate words a substance name may carry after its active moiety
# (FDA SUBSTANCENAME style: "ATORVASTATIN CALCIUM TRIHYDRATE", "DAPAGLIFLOZIN PROPANEDIOL").
SALT_WORDS = frozenset(
    """hydrochloride hcl dihydrochloride sodium disodium trisodium monosodium potassium
    dipotassium calcium magnesium zinc acetate diacetate sulfate bisulfate phosphate mesylate
    dimesylate fumarate hemifumarate maleate bitartrate tartrate bromide hydrobromide methylbromide
    chloride besylate tromethamine citrate succinate nitrate mononitrate propionate dipropionate
    gluconate benzoate tosylate furoate malate valerate cilexetil medoxomil ethanolate aspartate
    saccharate oxalate xinafoate pamoate lactate decanoate cypionate esylate erbumine mofetil
    axetil pivoxil olamine meglumine palmitate glycinate iodide fluoride arginine hyclate anhydrous
    monohydrate dihydrate trihydrate sesquihydrate hemihydrate heptahydrate pentahydrate
    hemi-pentahydrate hydrate propanediol solvate glycol propylene pidolate etexilate""".split()
)
# Where the first word is an element or inorganic ion, the salt is the drug itself (potassium
# chloride and potassium citrate are different medicines), so nothing is stripped.
INORGANIC_FIRST_WORDS = frozenset(
    """sodium potassium calcium magnesium zinc aluminum ferrous ferric lithium cupric silver
    ammonium barium strontium bismuth selenious chromic manganese stannous gallium thallous
    cesium rubidium""".split()
)


def canonical_moiety(substance: str) -> str:
    """The active moiety of a substance name: salt, ester, hydrate and solvate words dropped."""
    words = substance.strip().lower().split()
    if not words or words[0] in INORGANIC_FIRST_WORDS:
        return " ".join(words)
    while len(words) > 1 and words[-1] in SALT_WORDS:
        words.pop()
    return " ".join(words)


def moiety_key(moieties: list[str]) -> str:
    """Canonical key of a set of active moieties: salts stripped, sorted, '; '-joined, so
    every salt, ester and hydrate of one ingredient is one drug."""
    return "; ".join(sorted({canonical_moiety(m) for m in moieties if m.strip()}))


def _union(*lists: list[str]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))


def merge_same_moiety(records: list[DrugRecord]) -> list[DrugRecord]:
    """One record per moiety key: rows that differ only by salt or hydrate become one drug.

    The row with the most NDC products (then the lowest id) keeps its id and name; the others'
    ids become aliases, and brands, makers, applications, routes and forms are united.
    """
    groups: dict[str, list[DrugRecord]] = {}
    for record in records:
        groups.setdefault(record.moiety_key, []).append(record)
    merged = []
    for group in groups.values():
        if len(group) == 1:
            merged.append(group[0])
            continue
        group.sort(key=lambda r: (-r.n_products, r.source_id))
        main = group[0]
        dates = [r.first_marketed for r in group if r.first_marketed]
        merged.append(
            DrugRecord(
                source_id=main.source_id,
                generic_name=main.generic_name,
                moiety_key=main.moiety_key,
                approval_status=main.approval_status,
                product_type=main.product_type,
                classes=_union(*(r.classes for r in group)),
                primary_class=main.primary_class
                or next((r.primary_class for r in group if r.primary_class), ""),
                class_source=main.class_source
                or next((r.class_source for r in group if r.class_source), ""),
                brand_names=_union(*(r.brand_names for r in group)),
                manufacturers=_union(*(r.manufacturers for r in group)),
                application_numbers=_union(*(r.application_numbers for r in group)),
                routes=_union(*(r.routes for r in group)),
                dosage_forms=_union(*(r.dosage_forms for r in group)),
                dea_schedule=main.dea_schedule or next((r.dea_schedule for r in group), ""),
                first_marketed=min(dates) if dates else None,
                is_listed=any(r.is_listed for r in group),
                aliases=_union(main.aliases, *([r.source_id, *r.aliases] for r in group[1:])),
                n_products=sum(r.n_products for r in group),
            )
        )
    return merged
