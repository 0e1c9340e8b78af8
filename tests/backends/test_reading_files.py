"""Reading files honestly, on every engine: the encoding is found over the whole file (Mac
Roman with bare-CR line endings, Windows code pages, UTF-8 with a few bad bytes), a file is
never silently re-read in another encoding, repeated column names are an error, and a
JSON-lines file that does not parse names its line."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from icpkit.errors import DataError
from icpkit.io.notes import read_warnings
from icpkit.io.sources import detect_encoding, sniff_csv
from tests.engines import engine  # noqa: F401  (fixture)

ROW = "_row"
CRUNCHBASE = Path(__file__).resolve().parents[3] / "shared" / "data" / "crunchbase_2013"


def rows_of(backend: Any, table: Any) -> list[dict[str, Any]]:
    return backend.to_arrow(table.order_by(ROW)).to_pylist()


def test_mac_roman_with_bare_cr_line_ends_reads_on_every_engine(engine: Any, tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    text = 'permalink,name,city\r/company/a,Condé Nast,"New York, NY"\r/company/b,MiaSolé™,Bogotá\r'
    path.write_bytes(text.encode("mac_roman"))
    before = set(Path(tempfile.gettempdir()).glob("icp-utf8-*"))
    got = rows_of(engine, engine.read(path, "icp_raw"))
    assert [(r["name"], r["city"]) for r in got] == [("Condé Nast", "New York, NY"), ("MiaSolé™", "Bogotá")]
    assert engine.read_dialect("icp_raw").encoding == "mac_roman"
    assert set(Path(tempfile.gettempdir()).glob("icp-utf8-*")) <= before  # the UTF-8 copy is gone


def test_windows_1252_is_not_read_as_latin_1(engine: Any, tmp_path: Path) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes("domain,name\nloreal.fr,L’Oréal – « Paris »\nacme.com,5 €\n".encode("cp1252"))
    got = rows_of(engine, engine.read(path, "icp_raw"))
    assert [r["name"] for r in got] == ["L’Oréal – « Paris »", "5 €"]


def test_utf8_with_a_bad_byte_stays_utf8_and_the_cell_is_reported(engine: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("domain,name\nsg.fr,Société Générale\nx.com,Bad \xff byte\nc.fr,Crédit\n"
                     .encode("utf-8").replace("\xff".encode(), b"\xff"))
    raw = engine.read(path, "icp_raw")
    got = rows_of(engine, raw)
    assert [r["name"] for r in got] == ["Société Générale", "Bad \ufffd byte", "Crédit"]  # never SociÃ©tÃ©
    notes = read_warnings(engine, raw, str(path), keyed=True, name="icp_raw")
    assert len(notes) == 1 and "row 2, column 'name'" in notes[0] and "not valid UTF-8" in notes[0]


def test_bad_json_line_is_named_on_every_engine(engine: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    lines = ["", json.dumps({"domain": "a.com", "n": 1}), "", json.dumps({"domain": "b.com", "n": 2}),
             '{"domain": "c.com", "n": oops}', json.dumps({"domain": "d.com", "n": 4})]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        engine.to_arrow(engine.read(path, "icp_raw"))
    assert info.value.where == f"{path}, line 5", str(info.value)


# -- the detection itself (no engine) ---------------------------------------------------------

def test_a_bad_byte_far_past_the_first_megabyte_is_found(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = "".join(f"d{i}.com,Café {i}\n" for i in range(120_000))  # ~2.3 MB of valid UTF-8
    path.write_bytes(b"domain,name\n" + rows.encode() + b"z.com,Caf\xe9\n")
    d = sniff_csv(path)
    assert (d.encoding, d.replaced) == ("utf-8", 1)


@pytest.mark.parametrize("rows", [120_000, 600_000])  # ~2 MB (checked by Python) and ~11 MB (by Arrow)
def test_utf8_cut_at_every_chunk_is_valid_and_one_bad_byte_at_the_end_is_found(tmp_path: Path, rows: int) -> None:
    path = tmp_path / "big.csv"
    text = "domain,name\n" + "".join(f"d{i}.com,Zoë 中国 {i}\n" for i in range(rows))  # 1-3 byte characters
    path.write_bytes(text.encode())
    assert (sniff_csv(path).encoding, sniff_csv(path).replaced) == ("utf-8", 0)
    path.write_bytes(text.encode() + b"z.com,Caf\xe9\n")
    assert (sniff_csv(path).encoding, sniff_csv(path).replaced) == ("utf-8", 1)
    path.write_bytes(text.encode() + "z.com,Zo\u00eb".encode()[:-1])  # cut inside the last character
    assert sniff_csv(path).replaced == 1


def test_a_legacy_byte_far_past_the_first_megabyte_is_found(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = "".join(f"d{i}.com,Acme {i}\n" for i in range(120_000))
    path.write_bytes(b"domain,name\n" + rows.encode() + "z.com,Müller – Straße\n".encode("cp1252"))
    assert sniff_csv(path).encoding == "cp1252"


@pytest.mark.parametrize("text,codec,expected", [
    ("name\nООО Ромашка,Москва\nПАО Газпром,Новосибирск\n", "cp1251", "cp1251"),
    ("name\nΕθνική Τράπεζα,Αθήνα,Θεσσαλονίκη\n", "cp1253", "cp1253"),
    ("name\n株式会社トヨタ,東京都\nソニーグループ,大阪府\n", "cp932", "cp932"),
    ("name\nSociété Générale,Île-de-France\nMüller GmbH,München\n", "latin-1", "cp1252"),
])
def test_legacy_encodings_are_told_apart(tmp_path: Path, text: str, codec: str, expected: str) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(text.encode(codec))
    assert detect_encoding(path).name == expected


def test_clean_utf8_and_boms(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("domain\nmünchen.de\n".encode())
    assert detect_encoding(path).native
    path.write_bytes(b"\xef\xbb\xbfdomain\nm\xc3\xbcnchen.de\n")
    assert detect_encoding(path).name == "utf-8"
    path.write_bytes("domain\nmünchen.de\n".encode("utf-16"))
    assert detect_encoding(path).name == "utf-16"


def test_repeated_column_names_are_an_error_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("domain,Industry,employees,industry\na.com,software,10,retail\n")
    with pytest.raises(DataError) as info:
        sniff_csv(path)
    assert "column 2 'Industry' and column 4 'industry'" in str(info.value)
    assert info.value.where == f"{path}, line 1"


@pytest.mark.skipif(not CRUNCHBASE.exists(), reason="the shared real datasets are not present")
def test_the_crunchbase_2013_export_is_mac_roman(engine: Any) -> None:
    path = CRUNCHBASE / "crunchbase-companies.csv"
    raw = engine.read(path, "icp_raw")
    names = engine.to_arrow(raw.filter(raw.permalink.isin(["/company/miasole", "/company/furnsh"])).select(
        "name").order_by("name"))["name"].to_pylist()
    assert names == ["Furnésh", "MiaSolé"]
    assert engine.scalar(raw.count()) == 17_727
