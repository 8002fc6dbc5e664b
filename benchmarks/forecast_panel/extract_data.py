"""How benchmarks/forecast_panel/data/*.csv were made (run once by hand; the CSVs are committed).

    pip download --no-deps pmdarima==2.1.1 statsmodels==0.15.0 -d wheels
    unzip wheels/pmdarima-*.whl 'pmdarima/datasets/*' -d src
    unzip wheels/statsmodels-*.whl 'statsmodels/datasets/*' -d src
    python benchmarks/forecast_panel/extract_data.py src

pmdarima keeps its series as `rslt = np.array([...])` literals in pmdarima/datasets/<name>.py: they
are read with `ast` (nothing imported); statsmodels keeps CSVs. Every series is written in the long
format (unique_id, ds, y) with the dates its documentation gives. See SOURCES.md for licences.
"""
import ast
import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("data")


def pmdarima_values(src, name):
    tree = ast.parse((src / "pmdarima" / "datasets" / f"{name}.py").read_text())
    for node in ast.walk(tree):                     # the first np.array([...]) call with a list literal
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "array" \
                and node.args and isinstance(node.args[0], ast.List):
            return np.array(ast.literal_eval(node.args[0]), dtype=np.float64)
    raise ValueError(f"no rslt literal in {name}.py")


def write(name, dates, values):
    frame = pd.DataFrame({"unique_id": name, "ds": dates, "y": values})
    frame.to_csv(OUT / f"{name}.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    print(f"{name}: {len(frame)} rows, {frame.ds.iloc[0]} .. {frame.ds.iloc[-1]}")


def main(src):
    src = Path(src)
    OUT.mkdir(exist_ok=True)
    monthly = lambda start, n: pd.date_range(start, periods=n, freq="MS").strftime("%Y-%m-%d")
    quarterly = lambda start, n: pd.date_range(start, periods=n, freq="QS").strftime("%Y-%m-%d")
    yearly = lambda start, n: pd.date_range(start, periods=n, freq="YS").strftime("%Y-%m-%d")

    air = pmdarima_values(src, "airpassengers")
    write("airpassengers", monthly("1949-01-01", len(air)), air)
    wine = pmdarima_values(src, "wineind")
    write("wineind", monthly("1980-01-01", len(wine)), wine)
    wool = pmdarima_values(src, "woolyrnq")
    write("woolyrnq", quarterly("1965-01-01", len(wool)), wool)
    beer = pmdarima_values(src, "ausbeer")
    beer = beer[np.isfinite(beer)]
    write("ausbeer", quarterly("1956-01-01", len(beer)), beer)
    austres = pmdarima_values(src, "austres")
    write("austres", quarterly("1971-04-01", len(austres)), austres)      # R: ts(start = c(1971, 2))
    lynx = pmdarima_values(src, "lynx")
    write("lynx", yearly("1821-01-01", len(lynx)), lynx)
    taylor = pmdarima_values(src, "taylor")                                # Monday 5 June 2000, 00:00
    write("taylor", pd.date_range("2000-06-05", periods=len(taylor), freq="30min").strftime("%Y-%m-%d %H:%M"),
          taylor)

    datasets = src / "statsmodels" / "datasets"
    elec = pd.read_csv(datasets / "elec_equip" / "elec_equip.csv")
    write("elec_equip", pd.to_datetime(elec["DATE"], format="%b-%d-%Y").dt.strftime("%Y-%m-%d"), elec.iloc[:, 1])
    nile = pd.read_csv(datasets / "nile" / "nile.csv")
    write("nile", pd.to_datetime(nile["year"].astype(str), format="%Y").dt.strftime("%Y-%m-%d"), nile["volume"])
    co2 = pd.read_csv(datasets / "co2" / "co2.csv")
    weekly = pd.Series(co2["co2"].values, index=pd.to_datetime(co2["date"].astype(str), format="%Y%m%d"))
    weekly = weekly["1990-01-01":].interpolate()                          # the last 12 years; gaps filled linearly
    write("co2_weekly", weekly.index.strftime("%Y-%m-%d"), weekly.values.round(2))
    macro = pd.read_csv(datasets / "macrodata" / "macrodata.csv")
    write("us_unemployment", quarterly("1959-01-01", len(macro)), macro["unemp"])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "src")
