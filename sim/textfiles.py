"""Read a scenario's text files (TOML and CSV tables) as Excel and Notepad save them.

Planners edit scenario tables on Chinese Windows.  Excel's "CSV (comma
delimited)" and Notepad's "ANSI" save GBK (GB18030 is its superset); Excel's
"Unicode text" saves UTF-16 with a byte-order mark and TABs between cells;
"CSV UTF-8" and newer Notepad save UTF-8, with or without a byte-order mark.
:func:`read_text` tells them apart and returns the text; :func:`read_rows`
also finds the delimiter (comma, TAB or semicolon) and splits the rows.  This is
the one place where the toolkit turns a scenario file's bytes into text, so
every reader accepts the same files.

A file that is none of these (binary data, another encoding, a folder, a
device) is refused with a :class:`~sim.errors.ScenarioError` that names the
file and says how to save it.  Messages never quote the file's content: a
mistyped path may point at a file that is not the user's to show.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import stat
from pathlib import Path

from .errors import ScenarioError

MAX_BYTES = 200 * 1024 * 1024  # far above any scenario table; a bigger file is not one
DELIMITERS = (",", "\t", ";")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SAVE_AS = ('save it as "CSV UTF-8 (comma delimited)" in Excel, or with encoding UTF-8 in Notepad')


def _where(path: Path, named_by: str | None) -> str:
    return f"{named_by}: {path}" if named_by else str(path)


def read_bytes(path: str | Path, named_by: str | None = None, kind: str = "file") -> bytes:
    """The bytes of a regular file; ``named_by`` (``"a.toml: tables.towns"``) is named in messages."""
    path = Path(path)
    where = _where(path, named_by)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{named_by}: {kind} {path} not found" if named_by else f"{path}: file not found") from None
    except OSError as err:
        raise ScenarioError(f"{where}: cannot read the file ({err.strerror or err})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(f"{where}: is a folder; expected a {kind}")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(f"{where}: is not a regular file; expected a {kind}")
    if info.st_size > MAX_BYTES:
        raise ScenarioError(f"{where}: {info.st_size:,} bytes is too large for a {kind}")
    try:
        return path.read_bytes()
    except OSError as err:
        raise ScenarioError(f"{where}: cannot read the file ({err.strerror or err})") from None


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a scenario file's bytes; ValueError (with the reason) if it is not text."""
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = data[len(codecs.BOM_UTF8):].decode("utf-8"), "UTF-8"
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        text, encoding = data.decode("utf-32"), "UTF-32"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = data.decode("utf-16"), "UTF-16"
    elif b"\x00" in data:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is zero
        even, odd = data[0::2], data[1::2]
        if len(data) % 2 == 0 and odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
            text, encoding = data.decode("utf-16-le"), "UTF-16"
        elif len(data) % 2 == 0 and even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
            text, encoding = data.decode("utf-16-be"), "UTF-16"
        else:
            raise ValueError("it holds binary data, not text")
    else:
        try:
            text, encoding = data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("gb18030"), "GB18030"
            except UnicodeDecodeError:
                raise ValueError("it is neither UTF-8 nor GBK/GB18030 text") from None
    if _CONTROL.search(text):
        raise ValueError("it holds control characters, not text")
    return text, encoding


def read_text(path: str | Path, named_by: str | None = None, kind: str = "file") -> str:
    """The text of a scenario file in UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16 or UTF-32 (with BOM)."""
    data = read_bytes(path, named_by, kind)
    try:
        text, _ = decode(data)
    except (ValueError, UnicodeDecodeError) as err:
        reason = err.reason if isinstance(err, UnicodeDecodeError) else str(err)
        raise ScenarioError(f"{_where(Path(path), named_by)}: cannot read the {kind}: {reason}; {SAVE_AS}") from None
    return text


def sniff_delimiter(first_line: str) -> str:
    """The delimiter that splits the header into the most cells (a comma on a tie)."""
    best, most = ",", 0
    for d in DELIMITERS:
        n = len(next(csv.reader([first_line], delimiter=d), []))
        if n > most:
            best, most = d, n
    return best


def read_rows(path: str | Path, named_by: str | None = None, kind: str = "table file"
              ) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(row number, cells)]) of a CSV or TAB-separated table.

    Header cells are stripped of spaces.  Rows are numbered as a spreadsheet
    numbers them (the header is row 1); rows whose cells are all empty (blank
    lines, the empty rows Excel writes below a table) are left out.
    """
    text = read_text(path, named_by, kind)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = sniff_delimiter(first)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise ScenarioError(f"{_where(Path(path), named_by)}: cannot split the table into cells ({err})") from None
    numbered = [(n, cells) for n, cells in enumerate(records, start=1) if any(c.strip() for c in cells)]
    if not numbered:
        return [], []
    (_, header), rows = numbered[0], numbered[1:]
    return [h.strip() for h in header], rows


def read_frame(path: str | Path, named_by: str | None = None, kind: str = "table file"):
    """A table as a pandas DataFrame, read like :func:`read_rows` (encoding, delimiter, ``110,000``, empty rows)."""
    import pandas as pd

    text = read_text(path, named_by, kind)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = sniff_delimiter(first)
    try:
        df = pd.read_csv(io.StringIO(text), sep=delimiter, keep_default_na=False, na_values=[""],
                         thousands=",", skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        raise ScenarioError(f"{_where(Path(path), named_by)}: cannot read the {kind} as a table ({err})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df.dropna(how="all").reset_index(drop=True)
