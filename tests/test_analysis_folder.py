"""Loading an analysis folder: a valid one gives its tables; each mistake is one line naming the file,
the key and the problem; the content hash changes with any file of the folder."""

import pytest
from analysis_folders import GOOD, write

from cohort.analysis.folder import AnalysisError, folder_hash, load_analysis


def test_a_valid_folder_loads_its_tables(tmp_path):
    analysis = load_analysis(write(tmp_path / "mine", GOOD))
    assert analysis.project.project == "labour_reserve"
    assert [t.name for t in analysis.tables] == ["reserve_by_province", "age_mean"]
    assert analysis.tables[0].statistic == "count"
    assert analysis.tables[1].columns == ("province", "age")
    assert analysis.tables[0].sql == "select 1"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            GOOD.replace("labour_reserve", "nobody"),
            "analysis.yaml: project: 'nobody' has no analysable tables",
        ),
        (
            GOOD.replace("reserve.sql", "../reserve.sql"),
            "analysis.yaml: tables[0].sql: '../reserve.sql' must be",
        ),
        (
            GOOD.replace("reserve.sql", "missing.sql"),
            "analysis.yaml: tables[0].sql: missing.sql does not exist",
        ),
        (
            GOOD.replace("statistic: mean", "statistic: median"),
            "analysis.yaml: tables[1].statistic: 'median'",
        ),
        (GOOD.replace("    value: age\n", ""), "analysis.yaml: tables[1].value: a mean table needs"),
        (GOOD.replace("[province]", "[province, n]"), "analysis.yaml: tables[1].dimensions: table age_mean"),
        (GOOD.replace("[province]", "[Province!]"), "analysis.yaml: tables[1].dimensions[0]: 'Province!'"),
        (GOOD.replace("title:", "titel:"), "analysis.yaml: titel: unknown key"),
        (
            GOOD.replace("name: age_mean", "name: reserve_by_province"),
            "analysis.yaml: tables: output reserve_by_province is declared twice",
        ),
        ("tables: [", "analysis.yaml: (file): not valid YAML"),
        ("project: labour_reserve\n", "analysis.yaml: tables: expected a non-empty list"),
    ],
)
def test_each_mistake_names_file_key_and_problem(tmp_path, spec, message):
    with pytest.raises(AnalysisError) as caught:
        load_analysis(write(tmp_path / "mine", spec))
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_empty_query_and_a_missing_yaml_are_named(tmp_path):
    with pytest.raises(AnalysisError, match=r"^reserve.sql: \(file\): the query is empty"):
        load_analysis(write(tmp_path / "a", GOOD, {"reserve.sql": " \n", "age.sql": "select 2"}))
    (tmp_path / "b").mkdir()
    with pytest.raises(AnalysisError, match=r"^analysis.yaml: \(file\): missing in"):
        load_analysis(tmp_path / "b")


def test_the_hash_follows_every_file_of_the_folder(tmp_path):
    folder = write(tmp_path / "mine", GOOD)
    first = folder_hash(folder)
    assert folder_hash(folder) == first
    (folder / "age.sql").write_text("select 3")
    assert folder_hash(folder) != first
    (folder / "age.sql").write_text("select 2")
    assert folder_hash(folder) == first
    (folder / "notes.txt").write_text("a new file")
    assert folder_hash(folder) != first
