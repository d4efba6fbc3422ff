"""The catalogue importer: real data, idempotence, bad rows, and refresh from an NDC product.txt."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from drugratings.catalog.management.commands.import_catalog import DATA_DIR
from drugratings.catalog.models import BrandProduct, CatalogImport, Drug, DrugClass, Indication

FIXTURES = Path(__file__).parent / "fixtures"


def run_import(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_catalog", "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in (
        "fda_ndc_rx_drug_catalog.csv",
        "fda_ndc_rx_brand_products.csv",
        "drug_indications_icd10.csv",
        "curated_drugs.csv",
        "labeledin_indications.tsv",
        "pharmacotherapydb_indications.tsv",
        "disease_ontology_icd10cm_xrefs.tsv",
        "curated_label_indications.csv",
    ):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


@pytest.mark.django_db
def test_it_imports_the_real_catalogue_with_classes_brands_and_indications():
    run_import()
    assert Drug.objects.count() >= 2250
    atorvastatin = Drug.objects.get(generic_name="atorvastatin calcium")
    assert atorvastatin.drug_class.name == "HMG-CoA Reductase Inhibitor"
    assert "LIPITOR" in atorvastatin.brand_names
    assert atorvastatin.indications.filter(name="Hypercholesterolemia").exists()
    assert BrandProduct.objects.filter(drug=atorvastatin, brand_name="LIPITOR").exists()
    assert Drug.objects.filter(drug_class__isnull=False).count() >= 2000
    assert Indication.objects.get(name="Hypertension").icd10_codes == ["I10"]


@pytest.mark.django_db
def test_a_second_run_changes_nothing():
    run_import()
    counts = (
        Drug.objects.count(),
        DrugClass.objects.count(),
        Indication.objects.count(),
        BrandProduct.objects.count(),
    )
    out, _ = run_import()
    assert "0 created, 0 updated" in out
    assert counts == (
        Drug.objects.count(),
        DrugClass.objects.count(),
        Indication.objects.count(),
        BrandProduct.objects.count(),
    )


@pytest.mark.django_db
def test_it_reports_malformed_rows_with_file_and_line_and_loads_the_rest(data_copy: Path):
    catalog = data_copy / "fda_ndc_rx_drug_catalog.csv"
    lines = catalog.read_text().splitlines(keepends=True)
    header_columns = lines[0].count(",") + 1
    lines.insert(2, "NDC2019-99999,only,three\n")  # line 3: too few columns
    lines.insert(3, lines[1].replace("NDC2019-00001", "", 1))  # line 4: empty id
    catalog.write_text("".join(lines))
    _, err = run_import("--data-dir", str(data_copy))
    assert f"fda_ndc_rx_drug_catalog.csv:3: expected {header_columns} columns, found 3" in err
    assert "fda_ndc_rx_drug_catalog.csv:4: drug_id is empty" in err
    assert Drug.objects.count() == 2409  # 2,416 rows, 8 salt forms merged, 1 curated drug
    assert CatalogImport.objects.get().skipped == 2


@pytest.mark.django_db
def test_a_bad_icd10_code_skips_only_that_row(data_copy: Path):
    path = data_copy / "drug_indications_icd10.csv"
    text = path.read_text().replace(
        ",K59.0,Constipation,K59.0,", ",NOT-A-CODE,Constipation,K59.0,", 1
    )
    path.write_text(text)
    _, err = run_import("--data-dir", str(data_copy))
    assert "drug_indications_icd10.csv:3: icd10cm_codes has 'NOT-A-CODE'" in err
    assert Indication.objects.count() > 2000


@pytest.mark.django_db
def test_a_missing_header_column_is_reported_on_line_1(data_copy: Path):
    path = data_copy / "fda_ndc_rx_brand_products.csv"
    text = path.read_text()
    path.write_text(text.replace("application_number", "app_no", 1))
    _, err = run_import("--data-dir", str(data_copy))
    assert (
        "fda_ndc_rx_brand_products.csv:1: header lacks required column(s): application_number"
        in err
    )
    assert Drug.objects.count() == 2409  # 2,416 rows, 8 salt forms merged, 1 curated drug


@pytest.mark.django_db
def test_a_missing_file_is_a_command_error(tmp_path: Path):
    with pytest.raises(CommandError, match="no such file"):
        run_import("--data-dir", str(tmp_path))
    assert not Drug.objects.exists()


@pytest.mark.django_db
def test_a_newer_ndc_product_file_refreshes_drugs_and_adds_new_ones():
    run_import()
    before = Drug.objects.count()
    atorvastatin = Drug.objects.get(generic_name="atorvastatin calcium")
    out, err = run_import("--ndc-product", str(FIXTURES / "ndc_product_sample.txt"))
    # The malformed date and the truncated row are reported with their lines; OTC is ignored.
    assert "ndc_product_sample.txt:5: STARTMARKETINGDATE '2025-13-45'" in err
    assert "ndc_product_sample.txt:7: expected 20 columns, found 3" in err
    zeno = Drug.objects.get(generic_name="zenotrexin sodium")
    assert zeno.brand_names == ["ZENOTREX"]
    assert zeno.drug_class.name == "Novel Kinase Inhibitor"
    assert not Drug.objects.filter(generic_name="dextromethorphan").exists()
    atorvastatin.refresh_from_db()
    assert atorvastatin.pk == Drug.objects.get(moiety_key="atorvastatin").pk
    assert "ATORVANOVA" in atorvastatin.brand_names
    assert Drug.objects.count() == before + 1
    # Refreshing again is idempotent.
    out, _ = run_import("--ndc-product", str(FIXTURES / "ndc_product_sample.txt"))
    assert "0 created, 0 updated" in out
