"""``icp dedupe`` on real DuckDB and real Splink: duplicates found and merged by each
survivorship rule, look-alike companies kept apart, bad rules and missing columns refused
with errors that name them, outputs written atomically, the same input giving the same
clusters."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from icpkit.backends import connect
from icpkit.dedupe_run import run_dedupe
from icpkit.enrich.dedupe import dedupe, split_bridges
from icpkit.enrich.survivorship import DedupeRules, parse_rules
from icpkit.errors import DataError, IcpError, MissingColumnError

pytest.importorskip("splink")

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "companies_pdl_top21k"

HEADER = ["name", "domain", "country", "city", "employees", "owner", "source", "updated_at"]
ROWS = [
    # one company, three records
    ["Acme Inc.", "acme.com", "US", "Boston", "120", "", "hubspot", "2024-01-05"],
    ["ACME", "https://www.acme.com/about", "United States", "", "", "dana", "salesforce", "2025-02-01"],
    ["Acme Incorporated", "acme.com", "USA", "boston", "95", "eli", "apollo", "2023-06-30"],
    # look-alikes of Acme that are other companies
    ["Acme Capital", "acme.com", "US", "Boston", "12", "", "hubspot", "2024-01-05"],  # a subsidiary, same website
    ["Acme Bank", "acmebank.com", "US", "Boston", "4000", "", "hubspot", "2024-01-05"],
    # one company, the duplicate without a website
    ["Globex GmbH", "globex.de", "Germany", "Berlin", "300", "", "hubspot", "2024-03-01"],
    ["Globex", "", "DE", "Berlin", "", "kim", "salesforce", "2024-04-01"],
    # same name, another country: another company
    ["Globex", "", "Brazil", "Sao Paulo", "40", "", "hubspot", "2024-01-01"],
    ["Initech", "initech.com", "US", "Austin", "50", "", "hubspot", "2024-01-01"],
    ["Umbrella plc", "umbrella.co.uk", "UK", "London", "800", "", "hubspot", "2024-01-01"],
]


def table(rows: list[list[Any]] = ROWS, header: list[str] = HEADER) -> pa.Table:
    return pa.table({"_row": list(range(1, len(rows) + 1)),
                     **{h: [r[i] or None for r in rows] for i, h in enumerate(header)}})


def write_csv(path: Path, rows: list[list[Any]] = ROWS, header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def backend() -> Iterator[Any]:
    b = connect()
    try:
        yield b
    finally:
        b.close()


def groups(result: Any) -> list[list[int]]:
    """The clusters of a result as sorted lists of rows."""
    members: dict[int, list[int]] = {}
    for row, c in zip(result.clusters.column("row").to_pylist(), result.clusters.column("cluster_id").to_pylist()):
        members.setdefault(c, []).append(row)
    return sorted(sorted(m) for m in members.values())


# ------------------------------------------------------------------------------ matching

def test_duplicates_are_clustered_and_look_alikes_kept_apart(backend: Any) -> None:
    result = dedupe(backend.splink_api, table())
    assert groups(result) == [[1, 2, 3], [4], [5], [6, 7], [8], [9], [10]]
    assert result.columns == {"name": "name", "domain": "domain", "country": "country", "city": "city"}
    assert result.rows == 10 and result.merged.num_rows == 7 and result.duplicate_rows == 3
    assert result.training == "fixed"  # a small input keeps the prior parameters
    assert result.pairs.in_clusters == 4 and result.pairs.matched >= 3
    ids = dict(zip(result.clusters.column("row").to_pylist(), result.clusters.column("cluster_id").to_pylist()))
    assert ids[3] == 1 and ids[7] == 6  # a cluster's id is its first row


def test_the_duplicate_without_a_website_is_merged_with_its_company(backend: Any) -> None:
    rows = [["Initech LLC", "", "US", "Austin", "", "", "", ""], *ROWS]
    result = dedupe(backend.splink_api, table(rows))
    assert [1, 10] in groups(result)


def test_a_higher_threshold_merges_less(backend: Any) -> None:
    low = dedupe(backend.splink_api, table(), threshold=0.5)
    high = dedupe(backend.splink_api, table(), threshold=0.999999)
    assert high.merged.num_rows >= low.merged.num_rows
    assert high.threshold == 0.999999


def test_the_same_input_gives_the_same_clusters(backend: Any) -> None:
    first = dedupe(backend.splink_api, table())
    again = dedupe(backend.splink_api, table())
    assert first.clusters.equals(again.clusters) and first.merged.equals(again.merged)


def synthetic(n: int, seed: int) -> list[list[Any]]:
    """``n`` accounts of distinct made-up companies, a third of them written twice."""
    rng = random.Random(seed)
    syllables = ["ac", "me", "glo", "bex", "ini", "tech", "um", "brel", "la", "so", "ly", "ent", "vo", "ra", "qui", "zen"]
    seen: set[str] = set()
    rows = []
    while len(rows) < n:
        name = "".join(rng.choice(syllables) for _ in range(3)).title() + rng.choice(["", " Labs", " Systems"])
        if name in seen:
            continue
        seen.add(name)
        domain = name.lower().replace(" ", "") + rng.choice([".com", ".io", ".de"])
        country = rng.choice(["US", "DE", "FR", "GB"])
        rows.append([name, domain, country, "", str(rng.randint(5, 500)), "", "", ""])
        if rng.random() < 0.33:
            rows.append([name.upper() + " Inc.", rng.choice(["", "www." + domain]), country, "", "", "", "", ""])
    return rows[:n]


def test_a_large_input_is_trained_and_gives_the_same_clusters_twice(backend: Any) -> None:
    rows = synthetic(1_200, seed=7)
    first = dedupe(backend.splink_api, table(rows))
    again = dedupe(backend.splink_api, table(rows))
    assert first.training == "estimated"
    assert first.clusters.equals(again.clusters)
    assert 200 < first.duplicate_rows < 400


def test_splink_leaves_nothing_behind_in_the_database(backend: Any) -> None:
    dedupe(backend.splink_api, table())
    left = backend.con.execute("SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, '__splink__')"
                               ).fetchall()[0][0]
    views = backend.con.execute("SELECT count(*) FROM duckdb_views() WHERE starts_with(view_name, '__splink__')"
                                ).fetchall()[0][0]
    assert (left, views) == (0, 0)


def test_a_sparse_record_does_not_bridge_two_companies() -> None:
    # rows 1 and 2: two companies (two LinkedIn pages) never matched to each other; row 3,
    # a name alone, matched to both: it joins the one it matches best
    keys = pa.table({"unique_id": [1, 2, 3, 4], "linkedin": ["company/henkel", "company/henkel-2", None, None],
                     "domain_stem": [None, None, None, None]})
    edges = pa.table({"unique_id_l": [1, 2, 3], "unique_id_r": [3, 3, 4], "match_probability": [0.95, 0.97, 0.99]})
    assert split_bridges({1: 1, 2: 1, 3: 1, 4: 1}, edges, keys) == {1: 1, 2: 2, 3: 2, 4: 2}
    # matched to each other, they stay together
    edges = pa.table({"unique_id_l": [1, 1], "unique_id_r": [2, 3], "match_probability": [0.95, 0.96]})
    assert split_bridges({1: 1, 2: 1, 3: 1}, edges, keys.slice(0, 3)) == {1: 1, 2: 1, 3: 1}


# ---------------------------------------------------------------------------- survivorship

def merged_acme(backend: Any, text: str) -> dict[str, Any]:
    result = dedupe(backend.splink_api, table(), parse_rules(text))
    first = result.merged.slice(0, 1).to_pylist()[0]
    assert first["merged_rows"] == "1;2;3" and first["cluster_size"] == 3 and first["cluster_id"] == 1
    return first


def test_the_default_rule_takes_the_most_complete_records_values(backend: Any) -> None:
    acme = merged_acme(backend, "")
    # row 3 has the most filled columns; a column it lacks comes from the next most complete
    assert acme["name"] == "Acme Incorporated" and acme["employees"] == "95" and acme["owner"] == "eli"


@pytest.mark.parametrize(("rule", "column", "expected"), [
    ("most_complete", "owner", "eli"),
    ("most_frequent", "city", "boston"),  # "Boston" = "boston", as the most complete record writes it
    ("longest", "name", "Acme Incorporated"),
    ("max", "employees", "120"),  # as numbers: "95" < "120"
    ("min", "employees", "95"),
    ("max", "updated_at", "2025-02-01"),
    ("{rule: most_recent, by: updated_at}", "owner", "dana"),
    ("{rule: most_recent, by: updated_at}", "employees", "120"),  # the latest record with a value
    ("{rule: source_priority, by: source, order: [apollo, hubspot]}", "owner", "eli"),
    ("{rule: source_priority, by: source, order: [Salesforce]}", "name", "ACME"),
    ("{rule: source_priority, by: source, order: [salesforce]}", "employees", "95"),  # not listed: most complete
])
def test_each_survivorship_rule(backend: Any, rule: str, column: str, expected: str) -> None:
    acme = merged_acme(backend, f"survivorship:\n  columns:\n    {column}: {rule}\n")
    assert acme[column] == expected


def test_a_typed_input_keeps_its_types_and_singletons_their_values(backend: Any, tmp_path: Path) -> None:
    t = table().set_column(5, "employees", pa.array([int(r[4]) if r[4] else None for r in ROWS], pa.int64()))
    pq.write_table(t.drop_columns(["_row"]), tmp_path / "accounts.parquet")
    run_dedupe(tmp_path / "accounts.parquet", tmp_path / "merged.parquet",
               rules=parse_rules("survivorship: {columns: {employees: max}}"), backend=backend)
    merged = pq.read_table(tmp_path / "merged.parquet")
    assert merged.schema.field("employees").type == pa.int64()
    assert merged.column("employees").to_pylist()[:3] == [120, 12, 4000]
    assert merged.column_names[:3] == ["cluster_id", "cluster_size", "merged_rows"]


# -------------------------------------------------------------------------------- errors

@pytest.mark.parametrize(("text", "key", "message"), [
    ("survivorship:\n  colums: {name: longest}\n", "survivorship.colums", "did you mean 'columns'"),
    ("treshold: 0.8\n", "treshold", "did you mean 'threshold'"),
    ("survivorship:\n  columns:\n    name: {rule: longest, bye: x}\n", "survivorship.columns.name.bye", "mean 'by'"),
    ("survivorship:\n  columns:\n    name: {rule: longest, zzz: x}\n", "survivorship.columns.name.zzz", "allowed keys"),
    ("survivorship:\n  columns:\n    name: longst\n", "survivorship.columns.name.rule", "'longest'"),
    ("survivorship:\n  columns:\n    name: most_recent\n", "survivorship.columns.name", "needs `by`"),
    ("threshold: 1.5\n", "threshold", "less than 1"),
    ("columns: {nme: Company}\n", "columns.nme", "did you mean 'name'"),
])
def test_bad_rules_name_the_key_and_its_line(text: str, key: str, message: str) -> None:
    with pytest.raises(IcpError) as caught:
        parse_rules(text, source="dedupe.yaml")
    err = caught.value
    assert f"key '{key}'" in err.errors[0].where and "dedupe.yaml, line " in err.errors[0].where
    assert message in str(err)


def test_every_bad_key_is_reported_at_once() -> None:
    with pytest.raises(IcpError) as caught:
        parse_rules("treshold: 0.8\nsurvivorship:\n  defualt: max\n")
    assert len(caught.value.errors) == 2


def test_input_without_name_or_domain_is_refused_naming_them(backend: Any) -> None:
    t = pa.table({"_row": [1, 2], "company_id": ["a", "b"], "country": ["US", "US"]})
    with pytest.raises(MissingColumnError) as caught:
        dedupe(backend.splink_api, t, where="accounts.csv")
    assert "'name'" in caught.value.message and "'domain'" in caught.value.message
    assert caught.value.where == "accounts.csv"


def test_a_column_the_rules_name_must_exist(backend: Any) -> None:
    with pytest.raises(MissingColumnError, match="'Account Name'"):
        dedupe(backend.splink_api, table(), DedupeRules.model_validate({"columns": {"name": "Account Name"}}))
    with pytest.raises(MissingColumnError, match="'revenue'"):
        dedupe(backend.splink_api, table(), parse_rules("survivorship: {columns: {revenue: max}}"))
    with pytest.raises(MissingColumnError, match="'modified'"):
        dedupe(backend.splink_api, table(), parse_rules("survivorship: {default: {rule: most_recent, by: modified}}"))


def test_a_header_the_crm_mapping_knows_is_compared(backend: Any) -> None:
    header = ["Company Name", "Website", "Billing Country", "Phone Number", "LinkedIn URL"]
    rows = [["Acme", "acme.com", "US", "+1 (617) 555-0100", "https://www.linkedin.com/company/acme/"],
            ["ACME Corp", "", "USA", "617.555.0100", "linkedin.com/company/acme"],
            ["Initech", "initech.com", "US", "", ""]]
    result = dedupe(backend.splink_api, table(rows, header))
    assert result.columns == {"name": "Company Name", "domain": "Website", "country": "Billing Country",
                              "phone": "Phone Number", "linkedin": "LinkedIn URL"}
    assert groups(result) == [[1, 2], [3]]


# ------------------------------------------------------------------------------- outputs

def test_outputs_are_written_whole_and_in_order(backend: Any, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "accounts.csv")
    summary = run_dedupe(src, tmp_path / "merged.csv", clusters_out=tmp_path / "clusters.csv", backend=backend)
    merged, clusters = read_csv(tmp_path / "merged.csv"), read_csv(tmp_path / "clusters.csv")
    assert [r["cluster_id"] for r in merged] == ["1", "4", "5", "6", "8", "9", "10"]
    assert [r["row"] for r in clusters] == [str(i) for i in range(1, 11)]
    assert summary.accounts == 7 and summary.duplicate_rows == 3 and summary.examples[0]["rows"] == "1;2;3"
    assert summary.to_dict()["pairs"]["in_clusters"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.csv", "clusters.csv", "merged.csv"]


def test_a_failed_run_leaves_the_earlier_output_as_it_was(backend: Any, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "accounts.csv")
    out = tmp_path / "merged.csv"
    out.write_text("earlier\n", encoding="utf-8")
    with pytest.raises(MissingColumnError):
        run_dedupe(src, out, rules=parse_rules("survivorship: {columns: {revenue: max}}"), backend=backend)
    with pytest.raises(DataError, match="directory"):
        run_dedupe(src, out, clusters_out=tmp_path, backend=backend)
    with pytest.raises(IcpError, match="same file"):
        run_dedupe(src, out, clusters_out=tmp_path / "merged.csv", backend=backend)
    assert out.read_text(encoding="utf-8") == "earlier\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.csv", "merged.csv"]


def test_a_rules_file_is_read_and_a_missing_one_named(backend: Any, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "accounts.csv")
    rules = tmp_path / "dedupe.yaml"
    rules.write_text("threshold: 0.95\nsurvivorship:\n  columns:\n    employees: max\n", encoding="utf-8")
    summary = run_dedupe(src, tmp_path / "merged.csv", rules=rules, backend=backend)
    assert summary.threshold == 0.95
    assert read_csv(tmp_path / "merged.csv")[0]["employees"] == "120"
    with pytest.raises(IcpError, match="not found"):
        run_dedupe(src, tmp_path / "merged.csv", rules=tmp_path / "nope.yaml", backend=backend)


def test_a_previous_runs_columns_are_replaced_and_noted(backend: Any, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "accounts.csv")
    run_dedupe(src, tmp_path / "merged.csv", backend=backend)
    again = run_dedupe(tmp_path / "merged.csv", tmp_path / "merged2.csv", backend=backend)
    assert again.accounts == 7 and any("cluster_id" in n for n in again.notes)
    assert read_csv(tmp_path / "merged2.csv")[0]["merged_rows"] == "1"


# ----------------------------------------------------------------------------- real names

@pytest.mark.skipif(not SHARED.exists(), reason="the shared real datasets are not present")
def test_real_company_names_with_typos_and_suffixes(backend: Any) -> None:
    with open(SHARED / "companies_sorted_top21000.csv", newline="", encoding="utf-8") as f:
        real = [r for _, r in zip(range(1_500), csv.DictReader(f))]
    rows = [[r["name"], r["domain"], r["country"], "", "", "", "", ""] for r in real]
    rng = random.Random(3)
    picked = rng.sample(range(len(real)), 300)
    for i in picked:  # the same company: a legal form added, capitals, no website
        rows.append([real[i]["name"].upper() + " Inc.", "", real[i]["country"], "", "", "", "", ""])
    result = dedupe(backend.splink_api, table(rows))
    cluster = dict(zip(result.clusters.column("row").to_pylist(), result.clusters.column("cluster_id").to_pylist()))
    found = sum(cluster[i + 1] == cluster[1_500 + k + 1] for k, i in enumerate(picked))
    assert found >= 0.9 * len(picked)
    assert result.merged.num_rows >= 1_500 - 30  # distinct real companies are rarely merged


# ---------------------------------------------------------------------------- the command

def test_the_command_writes_the_merged_accounts_and_its_figures(tmp_path: Path) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from icpkit.cli_dedupe import dedupe as command

    app = typer.Typer()
    app.command()(command)
    app.command("other")(lambda: None)  # two commands: `dedupe` is named on the command line
    src = write_csv(tmp_path / "accounts.csv")
    result = CliRunner().invoke(app, ["dedupe", "--accounts", str(src), "--out", str(tmp_path / "merged.csv"),
                                      "--clusters", str(tmp_path / "clusters.csv"), "--threshold", "0.95",
                                      "--json", str(tmp_path / "dedupe.json")])
    assert result.exit_code == 0, result.output
    assert "3 duplicate rows" in result.output and "7 accounts" in result.output
    figures = json.loads((tmp_path / "dedupe.json").read_text(encoding="utf-8"))
    assert figures["ok"] and figures["accounts"] == 7 and figures["threshold"] == 0.95
    assert len(read_csv(tmp_path / "merged.csv")) == 7 and len(read_csv(tmp_path / "clusters.csv")) == 10
