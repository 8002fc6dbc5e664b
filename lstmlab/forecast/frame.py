"""Series in the forecasters' long format: one row per (series, time stamp).

    unique_id   which series the row belongs to (any hashable; one global model learns from all of them)
    ds          the time stamp (dates, or integers 0, 1, 2, … for a file without dates)
    y           the value to forecast
    other       exogenous columns, known in advance (a scenario gives their future values)

This is the convention of statsforecast and neuralforecast, so a frame moves between them and lstmlab
unchanged. Everything here refuses bad input with one line that names the series and the row.
"""
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .hints import id_hint, id_like_column, integer_dates, looks_like_a_year, month_year_text, not_utf8, option
from .seasonality import (frequency_name, frequency_of, month_steps, monthly_on_one_day, offset_of,
                          season_lengths_for)

REQUIRED = ("unique_id", "ds", "y")


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError("lstmlab.forecast's data API needs pandas: pip install 'lstmlab[forecast]'") from None
    return pandas


@dataclass
class PanelSeries:
    """One series of a panel, as arrays: y (N,), stamps (N,), exogenous name -> (N,)."""
    unique_id: object
    y: np.ndarray
    ds: object                                   # pandas DatetimeIndex, or an integer array
    exogenous: Dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self):
        return len(self.y)

    def exogenous_matrix(self, names):
        """The named exogenous columns side by side, (N, E); None without any."""
        return np.stack([self.exogenous[name] for name in names], axis=1) if names else None


def read_table(path, text_columns=()):
    """A CSV file as pandas reads it, with what pandas would hide refused: a UTF-8 byte-order mark (Excel) is
    dropped, a header with semicolons or tabs and no comma sets the separator, and a column name repeated
    in the header is refused (pandas would rename the second y to y.1 and carry on). A semicolon file is
    read with decimal commas (2710,349), as European spreadsheets write it; numbers with a decimal point
    still read. ``text_columns`` are kept as written (ids such as 007 stay 007)."""
    pd = _pandas()
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a CSV file")
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    header, separator, header_line = _header(path)
    options = {"decimal": ","} if separator == ";" else {}
    options["skiprows"] = header_line - 1                 # notes above the header
    dtype = {header.index(name): str for name in text_columns if name in header}      # by position: pandas keeps
    # the header's spaces in its column names ("id "), which are stripped below
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", skip_blank_lines=True, sep=separator, dtype=dtype or None,
                            **options)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty") from None
    except UnicodeDecodeError:
        raise ValueError(not_utf8(path)) from None
    except pd.errors.ParserError as error:
        raise ValueError(f"{path} is not a readable UTF-8 CSV file: {str(error).splitlines()[0]}") from None
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValueError(f"column {repeated[0]!r} appears {header.count(repeated[0])} times in the header of {path}; "
                         "give every column its own name")
    frame.columns = [str(name).strip() for name in frame.columns]
    while len(frame) and frame.iloc[-1].isna().all():
        frame = frame.iloc[:-1]                   # rows of bare separators (,,) at the end, as spreadsheets save them
    if separator == ";":
        numbers = [name for name in frame.columns if name not in text_columns]     # ids are kept as written
        for name in numbers:
            if frame[name].dtype == object:
                # one word in a column (a typo, "n/a") leaves all of it text, decimal commas unread: read them
                # here, so the message names that word, not the first 1,5
                comma = frame[name].str.fullmatch(r"\s*[-+]?\d*,\d+\s*", na=False)
                frame[name] = frame[name].where(~comma, frame[name].str.replace(",", ".", regex=False))
        text = pd.read_csv(path, encoding="utf-8-sig", sep=";", dtype=str, keep_default_na=False, skiprows=header_line - 1)
        text.columns = [str(name).strip() for name in text.columns]
        _refuse_thousands_dots(text[numbers], path)
    return frame


# 1.011 in a semicolon file: one thousand and eleven, written the European way, or 1.011 with a decimal point?
THOUSANDS_DOT = re.compile(r"[-+]?[1-9]\d{0,2}(\.\d{3})+")


def _refuse_thousands_dots(text, path):
    """A semicolon file's column whose numbers with a point all look like thousands (1.011, 12.480.000) beside
    numbers without one (974) is refused: read with decimal commas, pandas takes 1.011 for one point
    something, and the series would jump from ~1000 to ~1 without a word."""
    for name in text.columns:
        values = text[name].str.strip()
        dotted = values[values.str.contains(".", regex=False)]
        if len(dotted) and dotted.str.fullmatch(THOUSANDS_DOT).all() and values.str.fullmatch(r"[-+]?\d+").any():
            plain = values[values.str.fullmatch(r"[-+]?\d+")].iloc[0]
            raise ValueError(f"column {name!r} of {path} holds {dotted.iloc[0]!r} beside {plain!r}: in a "
                             f"semicolon-separated file {dotted.iloc[0]!r} may be a number with a thousands point "
                             f"({dotted.iloc[0].replace('.', '')}) or with a decimal point; write the numbers without "
                             "thousands points (decimals after a comma: 1011,5)")


def id_column_of(columns, id_column=None):
    """The column naming the series: the one given, else unique_id when the file has it (the forecasters' long
    format, statsforecast's and neuralforecast's), else None (the file holds one series)."""
    return id_column if id_column is not None else ("unique_id" if "unique_id" in columns else None)


def read_csv(path, id_column=None, time_column="ds", target_column="y", freq=None, exogenous=None,
             command_line=False):
    """A long-format frame from a CSV file: a UTF-8 byte-order mark (Excel) and quoted fields are
    read as such; ``time_column`` is parsed as dates unless ``freq`` says the steps are plain integers.
    A file with no ds column but a year column and a quarter or month column (statsmodels' macrodata) gets
    its dates from them: the first day of each quarter or month.

    Without ``id_column`` the file holds one series, named after the file. ``exogenous``: the columns to
    use as exogenous inputs (None: every other column; []: none). ``command_line``: messages name the
    options as flags (--freq), not keywords (freq=).
    """
    path = Path(path)
    frame = read_table(path, text_columns=[id_column or "unique_id"])
    id_column = id_column_of(frame.columns, id_column)
    roles = {"id_column": id_column, "time_column": time_column, "target_column": target_column}
    named = [(option(keyword, command_line=command_line), name) for keyword, name in roles.items() if name]
    for k, (role, name) in enumerate(named):
        for other, same in named[k + 1:]:
            if same == name:
                raise ValueError(f"{role} and {other} both name column {name!r}; each must name its own column")
    parts = date_parts(frame.columns, (id_column, target_column)) \
        if time_column == "ds" and "ds" not in frame.columns else None
    if parts:                                      # the dates in two columns (year, quarter): made one, parts dropped
        frame.attrs["lines"] = data_lines(path, len(frame))
        frame.insert(0, "ds", dates_from_parts(frame, *parts, source=str(path)))
        frame = frame.drop(columns=list(parts[:2]))
    wanted = [name for name in (id_column, time_column, target_column) if name]
    for name in wanted:
        if name not in frame.columns:
            raise ValueError(f"column {name!r} not in {path}; columns: {', '.join(frame.columns)}")
    chosen = {"unique_id": id_column, "ds": time_column, "y": target_column}
    for name, column in chosen.items():
        if name in frame.columns and name not in wanted:
            # a column named as one of the roles that another column was picked for (--column price beside a
            # y column): inside, y is the target, so it can only be left out
            if exogenous is not None and name not in exogenous:
                frame = frame.drop(columns=name)
                continue
            keyword, role = {"unique_id": ("id_column", "series id"), "ds": ("time_column", "time column"),
                             "y": ("target_column", "target")}[name]
            leave_out = ("--no-exogenous or --exogenous NAME …" if command_line else "exogenous=[] or a list of names")
            raise ValueError(f"{path} has a column {name!r} that is not the {role} ({option(keyword, column, command_line)}): "
                             f"inside lstmlab the {role} is called {name!r}, so that column cannot be an exogenous "
                             f"input under its name; rename it to use it, or leave it out ({leave_out})")
    if id_column is None:
        frame.insert(0, "unique_id", path.stem)
    else:
        frame = frame.rename(columns={id_column: "unique_id"})
    frame = frame.rename(columns={time_column: "ds", target_column: "y"})
    frame.attrs["column_names"] = {"ds": f"{parts[0]} and {parts[1]}" if parts else time_column,
                                   "y": target_column}                          # for messages
    frame.attrs["source"] = str(path)
    frame.attrs["lines"] = data_lines(path, len(frame))
    return prepare(select_exogenous(frame, exogenous, str(path), command_line), freq=freq, source=str(path),
                   command_line=command_line)


# columns that hold a date in parts (statsmodels' macrodata: year, quarter): name -> what they are
YEAR_NAMES = ("year", "yr")
PART_NAMES = {"quarter": "quarter", "qtr": "quarter", "month": "month"}


FINER_NAMES = ("day", "week", "hour", "minute", "date", "time", "datetime", "timestamp")


def date_parts(columns, named=()):
    """(year column, part column, "quarter" | "month") when the columns hold a date in two parts — a year and a
    quarter or month (matched without case) — else None. Not when a column holds a finer part or a whole date
    (day, week, date …: the two parts are not the whole stamp), nor when ``named`` (the columns the user named
    as the target or the id) takes one of them."""
    lower = {str(name).strip().lower(): name for name in columns}
    year = next((lower[name] for name in YEAR_NAMES if name in lower), None)
    part = next(((lower[name], kind) for name, kind in PART_NAMES.items() if name in lower), None)
    if year is None or part is None or any(name in lower for name in FINER_NAMES):
        return None
    return None if {year, part[0]} & set(named) else (year, *part)


def dates_from_parts(frame, year, part, kind, source=None):
    """The first day of each row's quarter or month, from a year column and a quarter (1-4, or Q1-Q4) or month
    (1-12) column; a value that is neither is refused, naming its line."""
    pd = _pandas()
    top = 4 if kind == "quarter" else 12
    text = frame[part].astype(str).str.strip().str.upper()
    if kind == "quarter":
        text = text.str.replace(r"^Q", "", regex=True)
    numbers = pd.to_numeric(text, errors="coerce")
    years = pd.to_numeric(frame[year], errors="coerce")
    for values, name, low, high in ((years, year, 1, 9999), (numbers, part, 1, top)):
        broken = values.isna() | (values != values.round()) | (values < low) | (values > high)
        if broken.any():
            k = int(np.argmax(broken.to_numpy()))
            expected = "a year" if name == year else f"a {kind} number, 1 to {top}" + (" (or Q1 to Q4)" if top == 4 else "")
            raise ValueError(f"the dates are read from columns {year!r} and {part!r}: {name} is "
                             f"{shown(frame[name].iloc[k])} at {_describe_row(frame, k, source)}; expected {expected}")
    months = (numbers - 1) * 3 + 1 if kind == "quarter" else numbers
    return pd.to_datetime(pd.DataFrame({"year": years.astype(int), "month": months.astype(int), "day": 1}))


def data_lines(path, rows):
    """The line number in the file of each of ``rows`` data rows: pandas skips blank lines, so row k is
    the k-th non-blank line after the header. (A quoted field across lines would shift this count: then
    the rows are numbered as if every line after the header held one.)"""
    header_line = _header(path)[2]
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        lines = [(k, line) for k, line in enumerate(handle, start=1) if line.strip() and k > header_line]
    while len(lines) > rows and re.fullmatch(r"[\s,;\t]*", lines[-1][1]):
        lines.pop()                               # rows of bare separators at the end, which read_table drops
    numbers = np.array([k for k, _ in lines])
    return numbers if len(numbers) == rows else np.arange(rows) + header_line + 1


def _header(path):
    """The column names as the header spells them (pandas renames a repeated name to name.1), the
    separator (a comma, or a semicolon or tab when the header has no comma), and the header's line number:
    blank lines and lines starting with # above it (a source note) are passed over."""
    import csv
    number, line, separator = 0, "", None
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            told = re.fullmatch(r'"?sep=(.)"?', line.strip("\r\n"))
            if told and separator is None:       # Excel's first line, sep=; : the separator, not the header
                separator = told.group(1)
                continue
            if line.strip() and not line.lstrip().startswith("#"):
                break
    if separator is None:
        separator = "," if "," in line else next((mark for mark in (";", "\t") if mark in line), ",")
    return [name.strip() for name in next(csv.reader([line], delimiter=separator), [])], separator, number


def shown(value):
    """A value as a message shows it: text quoted, numbers plain ('a', 7, nan — not np.int64(7))."""
    return repr(value) if isinstance(value, str) else str(value)


def exogenous_columns(frame):
    """The columns of a long-format frame besides unique_id, ds and y."""
    return [name for name in frame.columns if name not in REQUIRED]


def stamp_text(value):
    """A time stamp as messages and reports write it: 2019-03-01, not 2019-03-01 00:00:00 (a time of day
    only when there is one)."""
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") else text


def column_names(frame):
    """(time, target): the names of the ds and y columns as the file has them (--time-column year, --column tfr),
    for messages; "ds" and "y" for a frame built in Python."""
    names = frame.attrs.get("column_names") or {}
    return names.get("ds", "ds"), names.get("y", "y")


def _describe_row(frame, position, source):
    lines = frame.attrs.get("lines")
    where = f"{source}, line {lines[position]}" if lines is not None and source else f"row {position}"
    return where


def prepare(frame, freq=None, source=None, command_line=False):
    """Check a long-format frame and return a clean copy (ds parsed, y float, rows in file order).

    Refused, naming the series and the row: missing columns, y that is not a number or NaN, stamps that
    go back in time, repeat, or are irregularly spaced, and a frequency that cannot be told. Messages name
    options as Python's keywords (freq=), or with ``command_line`` as flags (--freq).
    """
    pd = _pandas()
    source = source or frame.attrs.get("source")
    missing = [name for name in REQUIRED if name not in frame.columns]
    if missing:
        raise ValueError(f"a long-format frame needs columns {', '.join(REQUIRED)}; missing {', '.join(missing)} "
                         f"(columns: {', '.join(map(str, frame.columns))})")
    lines, names = frame.attrs.get("lines"), frame.attrs.get("column_names")
    frame = frame.reset_index(drop=True).copy()
    frame.attrs["lines"], frame.attrs["column_names"] = lines, names
    time_name, target_name = column_names(frame)
    if isinstance(frame["unique_id"].dtype, pd.CategoricalDtype):
        # their values: groupby on categories warns (pandas 2) and would list the unused ones
        frame["unique_id"] = frame["unique_id"].astype(frame["unique_id"].cat.categories.dtype)
    if len(frame) == 0:
        raise ValueError(f"{source or 'the frame'} has no data rows")
    if frame["y"].dtype == bool:
        raise ValueError(f"{target_name} in {source or 'the frame'} holds True/False, not numbers; convert it first if "
                         "that is meant")
    if frame["y"].dtype.kind in "mM":             # pandas would turn them into nanoseconds
        raise ValueError(f"{target_name} in {source or 'the frame'} holds {'durations' if frame['y'].dtype.kind == 'm' else 'dates'} "
                         f"({frame['y'].iloc[0]}, ...), not numbers; convert them to the number to forecast first")
    unnamed = [name for name in frame.columns if str(name).startswith("Unnamed: ")]
    # a comma at the end of every line makes a column with no name and no values: nothing to read there
    empty = [name for name in unnamed if frame[name].isna().all()]
    if empty:
        frame = frame.drop(columns=empty)
        frame.attrs["lines"], frame.attrs["column_names"] = lines, names
        unnamed = [name for name in unnamed if name not in empty]
    if unnamed:                                   # an empty header cell: pandas' saved index, most often
        raise ValueError(f"column {unnamed[0]!r} of {source or 'the frame'} has no name in the header (a saved "
                         "pandas index?); every column besides unique_id, ds and y is an exogenous input, so name "
                         "it or drop it" + (" (--exogenous NAME chooses them, --no-exogenous uses none)"
                                            if command_line else ""))
    no_id = frame["unique_id"].isna().to_numpy()
    if no_id.any():                               # groupby would drop these rows without a word
        k = int(np.argmax(no_id))
        raise ValueError(f"the series id (unique_id) is missing at {_describe_row(frame, k, source)} "
                         f"({time_name} {frame['ds'].iloc[k]}); every row needs the id of its series")
    values = pd.to_numeric(frame["y"], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        k = int(np.argmax(bad.to_numpy()))
        raw = frame["y"].iloc[k]
        what = "missing (empty or NaN)" if pd.isna(raw) else f"{str(raw)!r}, not a finite number"
        advice = ("fill or drop missing values before forecasting" if pd.isna(raw) else
                  f"fix that value: {target_name} must be a number on every row")
        series_rows = (frame["unique_id"] == frame["unique_id"].iloc[k]).to_numpy()
        if pd.isna(raw) and exogenous_columns(frame) and frame["y"][series_rows].iloc[
                int(np.argmax(frame.index[series_rows] == k)):].isna().all():
            # the series' last rows have no y but do have the other columns: a scenario, written below the data
            advice = ("this and every later row of the series have no y: if they hold the exogenous columns' "
                      "future, " + ("put them in a file of their own and pass it with --future (and --out)"
                                    if command_line else "pass them as X_df to predict()")
                      + "; the data to learn from must have y")
        if isinstance(raw, str) and re.fullmatch(r"\s*[-+]?[\d.,\s']*\d[\d.,\s']*", raw) and re.search(r"[,\s']", raw.strip()):
            advice = ("a thousands separator or a decimal comma? write numbers as 1234.5 (a semicolon-separated "
                      "file is read with decimal commas: 1234,5)")
        elif isinstance(raw, str) and re.fullmatch(r"\s*\D{0,3}\s*[-+]?\d[\d.,]*\s*\D{0,3}\s*", raw):
            advice = "write plain numbers (117.1), without a unit or sign such as % or $ around them"
        raise ValueError(f"series {shown(frame['unique_id'].iloc[k])}: {target_name} is {what} at "
                         f"{_describe_row(frame, k, source)} ({time_name} {frame['ds'].iloc[k]}); {advice}")
    frame["y"] = values.astype(np.float64)
    if frame["ds"].dtype.kind == "f":             # integer steps, after a NaN went through pandas: 0.0, 1.0, …
        stamps = frame["ds"].to_numpy()
        broken = ~np.isfinite(stamps) | (stamps != np.round(stamps))
        if broken.any():
            k = int(np.argmax(broken))
            raise ValueError(f"{time_name} is {shown(frame['ds'].iloc[k])} at {_describe_row(frame, k, source)}: expected "
                             "dates, or whole numbers counting the steps (0, 1, 2, …)")
        frame["ds"] = stamps.astype(np.int64)
    if isinstance(frame["ds"].dtype, pd.PeriodDtype) or isinstance(frame["ds"].iloc[0], pd.Period):
        # not read as dates below: say how to make them dates
        raise ValueError(f"{time_name} in {source or 'the frame'} holds pandas Periods ({frame['ds'].iloc[0]}, ...), not time "
                         "stamps: convert them first, e.g. df['ds'] = df['ds'].dt.to_timestamp()")
    if freq is None or frame["ds"].dtype.kind not in "iu":
        if frame["ds"].dtype.kind in "iu" and freq is None:
            first = int(frame["ds"].iloc[0])
            dates = integer_dates(frame["ds"], time_name)
            if dates:
                raise ValueError(f"column {time_name} holds integers such as {first}, not dates: {dates}; if they count "
                                 f"steps, pass {option('freq', command_line=command_line)}")
            if frame["ds"].map(looks_like_a_year).all():   # 1960, 1961, …: years, most likely
                raise ValueError(f"column {time_name} holds integers such as {first}, not dates: if they are years, pass "
                                 f"{option('freq', 'YS', command_line)} (one year a step); if they count steps, pass "
                                 f"{option('freq', command_line=command_line)} (e.g. {option('freq', '1', command_line)}: "
                                 "no season)")
            raise ValueError(f"column {time_name} holds integers such as {first}, not dates: pass "
                             f"{option('freq', command_line=command_line)} to say what one "
                             f"step is (e.g. {option('freq', '12', command_line)} or {option('freq', 'MS', command_line)} "
                             f"for months, {option('freq', '1', command_line)} for no season)")
        if frame["ds"].dtype.kind == "M" and frame["ds"].isna().any():
            # a missing stamp (NaT) in a datetime column: it was read as "goes back in time" or "not evenly spaced"
            k = int(np.argmax(frame["ds"].isna().to_numpy()))
            raise ValueError(f"series {shown(frame['unique_id'].iloc[k])}: {time_name} is missing (NaT) at "
                             f"{_describe_row(frame, k, source)}; every row needs its time stamp")
        if frame["ds"].dtype.kind != "M":
            parsed = _parse_stamps(frame["ds"])
            if parsed.isna().any():
                k = int(np.argmax(parsed.isna().to_numpy()))
                hint = month_year_text(frame["ds"], time_name)
                raise ValueError(f"series {shown(frame['unique_id'].iloc[k])}: {time_name} {frame['ds'].iloc[k]!r} at "
                                 f"{_describe_row(frame, k, source)} is not a date" + (f"; {hint}" if hint else ""))
            if parsed.dtype.kind != "M":              # pandas keeps stamps with several UTC offsets as objects
                wall = pd.to_datetime(parsed.map(lambda stamp: stamp.replace(tzinfo=None)))   # the local clock
                if wall.dt.time.nunique() == 1:
                    # days, weeks or months at one local time (midnight +01:00 in winter, +02:00 in summer):
                    # a day is a day on the calendar, so the local date is the stamp, with no offset
                    frame["ds"] = wall
                elif freq is None:                    # no frequency can be read from them
                    offsets = sorted({stamp.strftime("%z") for stamp in parsed if stamp.tzinfo is not None})
                    raise ValueError(f"{time_name} in {source or 'the frame'} mixes UTC offsets ({', '.join(offsets)}, e.g. "
                                     f"across a daylight-saving change): pass {option('freq', 'h', command_line)}, or "
                                     "convert the stamps to UTC first")
                else:
                    frame["ds"] = parsed
            else:
                frame["ds"] = _day_or_month_first(frame, parsed, source)
    exogenous = exogenous_columns(frame)
    for name in exogenous:
        numeric = pd.to_numeric(frame[name], errors="coerce")
        numeric = numeric.where(np.isfinite(numeric.to_numpy(dtype=np.float64, na_value=np.nan)))   # inf: refused too
        if numeric.isna().any():
            k = int(np.argmax(numeric.isna().to_numpy()))
            hint = ""
            if numeric.isna().all():                  # a column of names: the series' id, most likely
                hint = (f"; if {name!r} names the series, {id_hint(name, command_line)}; otherwise leave it out"
                        + (" (--exogenous, --no-exogenous)" if command_line else ""))
            raise ValueError(f"series {shown(frame['unique_id'].iloc[k])}: exogenous column {name!r} is "
                             f"{shown(frame[name].iloc[k])} at {_describe_row(frame, k, source)}, not a "
                             f"{'finite ' if isinstance(frame[name].iloc[k], float) else ''}number{hint}")
        frame[name] = numeric.astype(np.float64)
    inferred = None
    if freq is not None and frame["ds"].dtype.kind == "M":
        try:
            offset_of(freq)                       # (without pandas' FutureWarning for M, H: ours follows)
        except ValueError:
            raise ValueError(f"freq {freq!r} is not a pandas frequency alias (MS, QS, W, D, h, 30min, ...); "
                             "a file with dates needs one (a plain number is for files without dates)") from None
    groups = frame.groupby("unique_id", sort=False).indices.items()
    # the frequency is read from the longest series: two stamps of a new one tell 31 days apart, not MS
    for uid, rows in sorted(groups, key=lambda group: -len(group[1])):
        inferred = _check_stamps(frame, rows, uid, source, freq, inferred, command_line)
    frame.attrs["freq"] = freq if freq is not None else inferred
    frame.attrs["lines"] = lines
    frame.attrs["prepared"] = True
    return frame


def _parse_stamps(ds):
    """pandas' reading of each stamp (NaT where it is not a date). Stamps with several UTC offsets (across
    a daylight-saving change) stay tz-aware objects, which prepare handles; pandas 2 warns about them on
    every call (and pandas 3 raises), so they are read one by one."""
    pd = _pandas()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*mixed time zones", category=FutureWarning)
        try:
            return pd.to_datetime(ds, errors="coerce", format="mixed")
        except ValueError:
            return ds.map(lambda stamp: pd.to_datetime(stamp, errors="coerce"))


def _day_or_month_first(frame, month_first, source):
    """Dates such as 01/02/2020 read month first (2 January) or day first (1 February). When the two
    readings differ, the one whose stamps are evenly spaced in every series is taken; when both are, the
    file is refused rather than guessed."""
    pd = _pandas()
    try:
        day_first = pd.to_datetime(frame["ds"], errors="coerce", format="mixed", dayfirst=True)
    except (TypeError, ValueError):
        return month_first
    if day_first.isna().any() or day_first.equals(month_first):
        return month_first
    groups = frame.groupby("unique_id", sort=False).indices.values()

    def regular(stamps):
        # evenly spaced as _check_stamps takes them, one day of every month included (the 5th: 05.01.2000,
        # 05.02.2000 read day first were refused as "not evenly spaced" under the month-first reading)
        return all(len(rows) > 1 and np.all(np.diff(_instants(stamps.iloc[rows]).astype(np.int64)) > 0)
                   and _grid_of(stamps.iloc[rows].reset_index(drop=True)) is not None for rows in groups)
    month_ok, day_ok = regular(month_first), regular(day_first)
    if month_ok and day_ok:
        k = int(np.argmax((day_first != month_first).to_numpy()))
        raise ValueError(f"{column_names(frame)[0]} {frame['ds'].iloc[k]!r} at {_describe_row(frame, k, source)} reads as "
                         f"{month_first.iloc[k]:%Y-%m-%d} (month first) or {day_first.iloc[k]:%Y-%m-%d} (day first), "
                         "and both readings give evenly spaced dates; write the dates as YYYY-MM-DD")
    return day_first if day_ok else month_first


def _instants(stamps):
    """Stamps as UTC instants, datetime64[ns] (numpy's datetime64 has no time zones: converting tz-aware
    stamps directly warns, and stamps with several UTC offsets are plain objects to pandas)."""
    pd = _pandas()
    return pd.DatetimeIndex(pd.to_datetime(stamps, utc=True)).tz_convert(None).to_numpy().astype("datetime64[ns]")


def _grid_of(stamps):
    """The step of evenly spaced stamps — one day of every month first (pandas takes Jul 15, Aug 15, Sep 15
    for steps of 31 days), else a pandas frequency — or None."""
    return monthly_on_one_day(stamps) or frequency_of(stamps)


def _first_off_grid(stamps, freq):
    """(position, expected stamp) of the first stamp off the grid of ``freq`` steps from the first one, or None."""
    pd = _pandas()
    grid = pd.date_range(stamps.iloc[0], periods=len(stamps), freq=offset_of(freq))   # Y, A, M, H: no warning
    off = _instants(grid) != _instants(stamps)
    return (int(np.argmax(off)), grid[int(np.argmax(off))]) if off.any() else None


def _weekdays_with_days_left_out(index):
    """True for daily stamps at midnight, Monday to Friday only over at least two weeks, with weekdays
    missing: business days less holidays, which no pandas frequency describes."""
    if index is None or len(index) < 10 or not (index == index.normalize()).all() or (index.dayofweek >= 5).any():
        return False
    days = index.tz_localize(None) if index.tz is not None else index
    business_steps = np.busday_count(days[:-1].values.astype("datetime64[D]"), days[1:].values.astype("datetime64[D]"))
    # most steps one business day (Mon, Wed, Fri every week is a schedule of its own, not days left out)
    # (and some step longer than one business day: a holiday, or pandas would have read them as "B")
    return ((index[-1] - index[0]).days >= 14 and np.median(business_steps) == 1
            and 1 < business_steps.max() <= 5)


def _check_stamps(frame, rows, uid, source, freq, inferred, command_line=False):
    """Stamps of one series must increase by one constant step; returns the frequency seen."""
    pd = _pandas()
    time_name = column_names(frame)[0]
    stamps = frame["ds"].iloc[rows]
    if len(rows) < 2:
        raise ValueError(f"series {shown(uid)} has only {len(rows)} point at {_describe_row(frame, rows[0], source)}; "
                         "at least two are needed to tell its frequency, and many more to forecast it")
    if stamps.dtype.kind in "iu":
        steps = np.diff(stamps.to_numpy())
        bad = steps != 1
        if bad.any():
            previous, k = rows[int(np.argmax(bad)):][:2]              # the series' rows: another's may lie between
            dates = integer_dates(stamps, time_name)
            raise ValueError(f"series {shown(uid)}: {time_name} goes {frame['ds'].iloc[previous]} -> {frame['ds'].iloc[k]} at "
                             f"{_describe_row(frame, k, source)}; integer stamps must increase by 1"
                             + (f"; {dates}" if dates else ""))
        return inferred
    order = np.diff(_instants(stamps).astype(np.int64))
    if (order < 0).all():                         # a file written newest first, as price downloads often are
        raise ValueError(f"series {shown(uid)}: the rows run newest first ({time_name} {frame['ds'].iloc[rows[0]]}, "
                         f"then {frame['ds'].iloc[rows[1]]} at {_describe_row(frame, rows[1], source)}); sort them "
                         + ("oldest first" if command_line else f"oldest first (df.sort_values({str(time_name)!r}))"))
    for test, what in ((order == 0, "repeats"), (order < 0, "goes back in time")):
        if test.any():
            position = int(np.argmax(test)) + 1
            previous, k = rows[position - 1], rows[position]
            clock = _clock_change_hint(frame, previous, k, order)
            advice = (f"{clock}; otherwise " if clock else "") + "sort the rows and drop duplicates first"
            id_like = id_like_column(frame, rows, position, exogenous_columns(frame))
            if id_like:                           # several series one after the other, numbered: no id given
                name, before, after = id_like
                advice = (f"column {name!r} changes from {before:g} to {after:g} there: if it names the series, "
                          f"{id_hint(name, command_line)}; otherwise {advice}")
            raise ValueError(f"series {shown(uid)}: {time_name} {what} at {_describe_row(frame, k, source)} "
                             f"({stamp_text(frame['ds'].iloc[previous])} -> {stamp_text(frame['ds'].iloc[k])}); {advice}")
    if np.median(order) == 7 * 86_400 * 10**9:
        _refuse_weekday_change(frame, rows, uid, source, command_line)
    seen = _grid_of(stamps) if freq is None else freq
    if freq is None and inferred is not None and len(rows) < 3:
        seen = inferred                           # two stamps cannot tell MS from 31 days: the panel's grid is checked
    index = pd.DatetimeIndex(stamps) if seen is None else None     # (not for several UTC offsets: freq is given)
    if seen is None and len(rows) > 2 and (month_steps(index) == 1).all():
        # one a month, on days that move (the 30th, then Feb 29): no grid of equal steps holds them. Named: the
        # first stamp off what most are on — month ends (Feb 29 is one), or their most common day
        if index.is_month_end.mean() > 0.5:
            odd, most = ~np.asarray(index.is_month_end), "the last day of their month"
        else:
            day = int(np.bincount(index.day).argmax())
            odd, most = np.asarray(index.day != day), f"day {day} of their month"
        if not odd.any():                         # one day of the month, but the time of day moves
            times = index - index.normalize()
            common = pd.Series(times).mode().iloc[0]
            odd, most = np.asarray(times != common), f"{most} at {str(common).split()[-1]}"    # of '0 days 12:00:00'
        k = rows[int(np.argmax(odd))]
        raise ValueError(f"series {shown(uid)}: the stamps are one a month but not on one day of the month: most "
                         f"are on {most}, {time_name} {frame['ds'].iloc[k]} at {_describe_row(frame, k, source)} is "
                         "not; put them on the 1st (MS), the last day (ME) or one day from the 2nd to the 28th, at one "
                         "time of day")
    if seen is None and _weekdays_with_days_left_out(index):
        # trading days: every stamp Monday to Friday, some weekdays (holidays) absent
        k, missing = _first_off_grid(stamps, "B")
        raise ValueError(f"series {shown(uid)}: the stamps are business days (Monday to Friday) with some left out: "
                         f"{missing:%Y-%m-%d} is missing before {time_name} {frame['ds'].iloc[rows[k]]} at "
                         f"{_describe_row(frame, rows[k], source)} (a holiday?); the steps must be evenly spaced: "
                         "fill the missing days (e.g. with the day before's value), or number the rows 0, 1, 2, … "
                         f"instead of dates and pass {option('freq', '5', command_line)} (a 5-day week)")
    start = None
    if seen is None and len(rows) > 3:
        start = _grid_of(stamps.iloc[:3])
    if start is not None:
        # months and years have unequal lengths: the first stamp off the grid the first steps set is the gap
        off = _first_off_grid(stamps, start)
        if off is None:
            seen = start                          # evenly spaced after all (pandas would not say so)
        else:
            k = rows[off[0]]
            raise ValueError(f"series {shown(uid)}: the stamps are not evenly spaced: {time_name} {frame['ds'].iloc[k]} at "
                             f"{_describe_row(frame, k, source)}, where steps of {frequency_name(start)} from the "
                             f"first stamps lead to {off[1]}; fill the gaps"
                             + _joined(_clock_change_hint(frame, rows[max(off[0] - 1, 0)], k, order)))
    if seen is None:
        gaps = order
        typical = np.median(gaps)
        previous, k = rows[int(np.argmax(gaps != typical)):][:2]
        raise ValueError(f"series {shown(uid)}: the stamps are not evenly spaced ({stamp_text(frame['ds'].iloc[previous])} -> "
                         f"{stamp_text(frame['ds'].iloc[k])} at {_describe_row(frame, k, source)}, while most steps are "
                         f"{pd.Timedelta(int(typical), 'ns')}); fill the gaps: every step needs its row"
                         + _joined(_clock_change_hint(frame, previous, k, order)))
    off = _first_off_grid(stamps, seen)
    if off is not None:
        k = rows[off[0]]
        monthly = monthly_on_one_day(stamps) if freq is not None else None
        own = frequency_of(stamps) if freq is not None and monthly is None else None
        if monthly is not None:
            hint = (f"; they are {frequency_name(monthly)} apart, on day {stamps.iloc[0].day} of the month: leave out "
                    "freq to read them so")
        elif own is not None:                     # freq='Y' (year ends) for stamps on January 1st (YS), say
            named = f" ({frequency_name(own)})" if frequency_name(own) != own else ""
            hint = (f"; the stamps are evenly spaced on another grid, {own!r}{named}: pass "
                    f"{option('freq', own, command_line)}, or leave {option('freq', command_line=command_line)} "
                    "out to read it from them")
        else:
            hint = "; the stamps must be evenly spaced"
        raise ValueError(f"series {shown(uid)}: {time_name} {frame['ds'].iloc[k]} at {_describe_row(frame, k, source)} is off "
                         f"the regular {frequency_name(seen)} grid (expected {off[1]}){hint}")
    if inferred is not None and seen != inferred:
        raise ValueError(f"series {shown(uid)} has frequency {frequency_name(seen)}, another series has "
                         f"{frequency_name(inferred)}; one frame holds series of one frequency")
    return seen


def _clock_change_hint(frame, previous, k, steps):
    """Local clock times (no UTC offset) a step of under a day apart skip an hour in spring and repeat one in
    autumn, at a daylight-saving change in the small hours of a Sunday: what to do where the stamps break
    there, or ""."""
    pd = _pandas()
    before, after = frame["ds"].iloc[previous], frame["ds"].iloc[k]
    if not isinstance(after, pd.Timestamp) or after.tzinfo is not None or np.median(steps) >= 86_400 * 10**9:
        return ""
    if not any(stamp.dayofweek == 6 and stamp.hour < 5 for stamp in (before, after)):
        return ""
    return ("if the stamps are local clock time, a daylight-saving change skips or repeats an hour there: "
            "convert them to UTC first (in pandas: .dt.tz_localize(zone, ambiguous='infer').dt.tz_convert('UTC'))")


def _joined(advice):
    """'; advice' to end a message with, or nothing."""
    return f"; {advice}" if advice else ""


def _refuse_weekday_change(frame, rows, uid, source, command_line):
    """Stamps a week apart must keep their weekday: one Tuesday among Mondays is off every weekly grid."""
    pd = _pandas()
    try:
        weekdays = pd.DatetimeIndex(frame["ds"].iloc[rows]).dayofweek
    except (TypeError, ValueError):               # several UTC offsets: read with freq, checked on its grid
        return
    changed = weekdays != weekdays[0]
    if changed.any():
        k = rows[int(np.argmax(changed))]
        names = pd.Timestamp(frame["ds"].iloc[rows[0]]).day_name(), pd.Timestamp(frame["ds"].iloc[k]).day_name()
        raise ValueError(f"series {shown(uid)}: the stamps are a week apart, but the weekday changes from {names[0]} "
                         f"to {names[1]} at {_describe_row(frame, k, source)} ({column_names(frame)[0]} {frame['ds'].iloc[k]}); weekly "
                         "stamps must fall on one weekday: move each to one day of its week, or number the rows "
                         f"0, 1, 2, … instead of dates and pass {option('freq', '52', command_line)}")


def select_exogenous(frame, exogenous, source=None, command_line=False):
    """The frame with only the chosen exogenous columns: None keeps every column besides unique_id, ds and y,
    [] none of them."""
    if exogenous is None:
        return frame
    names = list(dict.fromkeys(exogenous))
    for name in names:
        if name in REQUIRED or name not in frame.columns:
            others = [c for c in frame.columns if c not in REQUIRED]
            raise ValueError(f"{option('exogenous', command_line=command_line)} {name!r}: not a column of "
                             f"{source or 'the frame'} besides the id, time and target columns; those are: "
                             f"{', '.join(map(str, others)) or 'none'}")
    selected = frame[[c for c in frame.columns if c in REQUIRED] + names]
    selected.attrs.update(frame.attrs)
    return selected


def split_series(frame) -> List[PanelSeries]:
    """The series of a prepared frame, in order of first appearance."""
    exogenous = exogenous_columns(frame)
    out = []
    for uid, rows in frame.groupby("unique_id", sort=False).indices.items():
        part = frame.iloc[rows]
        out.append(PanelSeries(uid, part["y"].to_numpy(np.float64), part["ds"].reset_index(drop=True),
                               {name: part[name].to_numpy(np.float64) for name in exogenous}))
    return out


def future_stamps(last, steps, freq):
    """The ``steps`` stamps after ``last``."""
    pd = _pandas()
    if isinstance(last, (int, np.integer)):
        return np.arange(last + 1, last + 1 + steps)
    return pd.date_range(last, periods=steps + 1, freq=freq)[1:]


def season_lengths(frame, season_length: Optional[List[int]] = None):
    """The seasonal periods of a prepared frame: given, or read from its frequency."""
    if season_length:
        lengths = sorted({int(m) for m in season_length})
        if any(m < 1 for m in lengths):
            raise ValueError(f"season_length must be a positive integer, got {season_length}")
        return lengths
    freq = frame.attrs.get("freq")
    return season_lengths_for(freq)
