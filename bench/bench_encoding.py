"""Reading files honestly: what deciding a CSV file's encoding over the whole file costs.

    .venv/bin/python bench/bench_encoding.py [--rows 12000000] [--runs 3] [--dir DIR]

Writes two CSV files of ``--rows`` accounts (about 1 GB at the default): one all ASCII, one
where every 7th account's name has accents (so every chunk of the file holds non-ASCII
bytes, the slower case), and one Mac Roman copy of a tenth of the second. For each, times
(median of ``--runs``, wall and CPU) :func:`icpkit.io.sources.sniff_csv` (encoding over the
whole file, delimiter, header) against the floor: DuckDB reading every column of the same
file (what ``icp score`` does anyway), and prints their ratio. A clean UTF-8 file must cost
a small fraction of the floor; a Mac Roman file also pays its conversion to UTF-8.
Other work on the machine shows in wall times: the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from icpkit.io.sources import sniff_csv, utf8_chunks


def write_files(folder: Path, rows: int) -> dict[str, Path]:
    con = duckdb.connect()
    body = ("SELECT 'd' || i || '.example.com' AS domain, {name} AS name, "
            "CASE i % 4 WHEN 0 THEN 'computer software' WHEN 1 THEN 'internet' WHEN 2 THEN 'retail' "
            "ELSE 'marketing and advertising' END AS industry, (i % 5000)::VARCHAR AS employees, "
            "'Salesforce;HubSpot' AS technologies, ['US', 'GB', 'DE'][i % 3 + 1] AS country, "
            "(i % 400)::VARCHAR AS days_since_funding FROM range({rows}) t(i)")
    files = {"ascii": folder / "ascii.csv", "utf8": folder / "utf8.csv"}
    names = {"ascii": "'Company number ' || i",
             "utf8": "CASE WHEN i % 7 = 0 THEN 'Société Générale Müller ' || i ELSE 'Company number ' || i END"}
    for kind, path in files.items():
        if not path.exists():
            con.execute(f"COPY ({body.format(name=names[kind], rows=rows)}) TO '{path}' (HEADER, DELIMITER ',')")
    mac = folder / "macroman.csv"
    if not mac.exists():
        con.execute(f"COPY ({body.format(name=names['utf8'], rows=rows // 10)}) TO '{folder / 'small.csv'}' "
                    "(HEADER, DELIMITER ',')")
        mac.write_bytes((folder / "small.csv").read_text().replace("\n", "\r").encode("mac_roman"))
    files["macroman"] = mac
    return files


def timed(fn, runs: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=12_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="icp-bench-encoding-"))
    folder.mkdir(parents=True, exist_ok=True)
    files = write_files(folder, args.rows)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for kind, path in files.items():
        d = sniff_csv(path)
        detect = timed(lambda path=path: sniff_csv(path), args.runs)
        source = path
        convert = (0.0, 0.0)
        if not d.native:  # what the engines pay on top: the file as UTF-8
            source = folder / "converted.csv"

            def copy(path: Path = path, encoding: str = d.encoding) -> None:
                with open(folder / "converted.csv", "wb") as out:
                    for chunk in utf8_chunks(path, encoding):
                        out.write(chunk)
            convert = timed(copy, args.runs)
        cols = "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in d.header) + "}"
        floor_sql = (f"SELECT count(*), max(length(name)) FROM read_csv('{source}', columns={cols}, header=true, "
                     f"auto_detect=false, delim=',', quote='\"', escape='\"', encoding='utf-8')")
        floor = timed(lambda: con.execute(floor_sql).fetchall(), args.runs)
        gb = path.stat().st_size / 1e9
        print(f"{kind:9s} {gb:5.2f} GB  encoding {d.encoding:9s} detection {detect[0]:5.2f} s wall "
              f"({detect[1]:5.2f} s CPU)  conversion {convert[0]:5.2f} s  DuckDB read (floor) {floor[0]:5.2f} s  "
              f"ratio {(detect[0] + convert[0]) / floor[0]:5.1%}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
