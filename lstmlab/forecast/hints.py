"""What to tell a user whose data were refused: the option to pass, named as they write it (a keyword
in Python, a flag on the command line), and the conversion that reads what their file holds. frame.py's
checks refuse; these helpers word the way out.
"""
import shlex
from pathlib import Path

import numpy as np

# how messages name an option: as Python's keyword (freq='h'), or with command_line=True as the flag of
# `lstmlab forecast` (--freq h)
FLAGS = {"id_column": "--id-column", "time_column": "--time-column", "target_column": "--column", "freq": "--freq",
         "exogenous": "--exogenous"}


def option(keyword, value=None, command_line=False):
    """An option as the caller writes it: freq='h' in Python, --freq h on the command line."""
    if command_line:
        return FLAGS[keyword] if value is None else f"{FLAGS[keyword]} {shlex.quote(str(value))}"  # pastes into a shell
    return keyword if value is None else f"{keyword}={value!r}"


def id_hint(name, command_line):
    """How to say that column ``name`` is the series' id."""
    if command_line:
        return f"pass {option('id_column', name, command_line)}"
    return f"make it the unique_id column (read_csv: {option('id_column', name)})"


def not_utf8(path):
    """Where a file stops being UTF-8, in one line: the byte, its line, and what Windows-1252 reads there."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start:error.start + 1]
        line = data.count(b"\n", 0, error.start) + 1
        try:
            meant = f", {byte.decode('cp1252')!r} in Windows-1252"
        except UnicodeDecodeError:
            meant = ""
        return (f"{path} is not UTF-8: byte 0x{byte[0]:02x} at line {line}{meant}; save the file as UTF-8 "
                "(Excel: CSV UTF-8) and try again")
    return f"{path} is not a readable UTF-8 CSV file"


def looks_like_a_year(number):
    """1960 or 2020 — a whole number a table would mean as a year (1000 to 2099)."""
    return 1000 <= number <= 2099


def integer_dates(stamps, column="ds"):
    """For integer stamps that read as dates (YYYYMMDD, YYYYMM, Excel's day numbers): how to convert
    them (the column named as the user's file names it), in words; None otherwise."""
    import pandas as pd
    values = np.asarray(stamps, dtype=np.int64)
    text = pd.Series(values.astype(str))
    for low, high, written, form in ((10_000_101, 99_991_231, "YYYYMMDD", "%Y%m%d"),
                                     (100_001, 999_912, "YYYYMM", "%Y%m")):
        in_range = ((low <= values) & (values <= high)).all()
        if in_range and pd.to_datetime(text, format=form, errors="coerce").notna().all():
            return (f"if they are dates written {written}, convert them first, e.g. "
                    f"df[{column!r}] = pd.to_datetime(df[{column!r}].astype(str), format='{form}')")
    if ((20_000 <= values) & (values <= 80_000)).all():          # 1954 to 2119 as days since 1899-12-30
        first = pd.to_datetime(int(values[0]), unit="D", origin="1899-12-30")
        return (f"if they are Excel's day numbers ({values[0]} is {first:%Y-%m-%d}), convert them first, e.g. "
                f"df[{column!r}] = pd.to_datetime(df[{column!r}], unit='D', origin='1899-12-30')")
    return None


def month_year_text(stamps, column="ds"):
    """For text stamps such as 'Jan-20' (Excel's mmm-yy month format, which pandas does not read as a month
    unless told): how to convert them, in words; None otherwise."""
    import pandas as pd
    text = pd.Series(stamps).astype(str).str.strip()
    if not text.str.fullmatch(r"[A-Za-z]{3}-\d{2}").all():
        return None
    if pd.to_datetime(text, format="%b-%y", errors="coerce").isna().any():
        return None
    return (f"if they are months written mmm-yy ({text.iloc[0]}), convert them first, e.g. "
            f"df[{column!r}] = pd.to_datetime(df[{column!r}], format='%b-%y')")


def id_like_column(frame, rows, position, columns):
    """(name, before, after) of a column that holds one value up to ``position`` of a series' rows and
    another there: where the stamps start again, that column most likely names the series."""
    for name in columns:
        values = frame[name].iloc[rows[:position + 1]].to_numpy()
        if (values[:-1] == values[0]).all() and values[-1] != values[0]:
            return name, values[0], values[-1]
    return None
