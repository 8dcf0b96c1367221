"""Compute ``excel_functions.txt`` (the Excel golden results) with an independent spreadsheet engine.

NOT run by the test suite: the reference tools are not installed in CI. To rerun, on Debian/Ubuntu:

    apt-get update && apt-get install -y libreoffice-calc-nogui     # the reference (soffice)
    python3 -m venv /tmp/refvenv                                     # NOT the project's .venv
    /tmp/refvenv/bin/pip install openpyxl formulas                   # xlsx I/O + the cross-check
    /tmp/refvenv/bin/python tests/expr/golden/make_excel_golden.py

It reads ``excel_formulas.txt`` (one formula a line, see the markers described at its top), writes
every formula into one column of an .xlsx with openpyxl, lets LibreOffice Calc headless recalculate
and save it as .xlsx, and reads the cached results back. Each formula is also computed with the
``formulas`` package (a pure-Python Excel engine) as a cross-check: where the two disagree, the
golden file gets a ``# note:`` line above the formula, so a reader knows which lines to doubt.

Which value is recorded:
  * LibreOffice's, except on lines marked ``ref=formulas`` (LibreOffice's booleans are numbers,
    so it concatenates TRUE as "1" where Excel writes "TRUE").
  * When both engines return an error but with different codes, the ``formulas`` code: it follows
    Excel's codes, while LibreOffice exports some of its own errors (Err:502 "invalid argument",
    for SQRT(-1) say) as #VALUE! where Excel says #NUM!. Tessera maps every error to blank anyway.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "excel_formulas.txt"
TARGET = HERE / "excel_functions.txt"
MARKER_SEPARATOR = "  # "
ARROW = " -> "
# Functions newer than Excel 2007 are stored in OOXML with this prefix; without it LibreOffice
# reads them as unknown names (#NAME?).
XLFN = ("IFS", "SWITCH", "CONCAT", "XOR", "DAYS")
STRING = re.compile(r'"(?:[^"]|"")*"')
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 61 = 1900-03-01 onwards (after Excel's fake 1900-02-29)


class ExcelError(str):
    """An error value (``#DIV/0!``...), kept apart from text that happens to start with ``#``."""


@dataclass
class Line:
    formula: str
    is_date: bool = False
    ref_formulas: str | None = None  # the reason, when the expected value comes from `formulas`
    libreoffice: str = ""
    formulas: str = ""
    notes: list[str] = field(default_factory=list)


def read_source() -> list[Line | str]:
    """The source lines: a ``Line`` per formula, a ``str`` per heading (blank lines dropped)."""
    items: list[Line | str] = []
    header = True
    for raw in SOURCE.read_text(encoding="utf-8").splitlines():
        text = raw.rstrip()
        if text.startswith("#"):
            if not header:
                items.append(text)
            continue
        header = False
        if not text:
            continue
        formula, _, markers = text.partition(MARKER_SEPARATOR)
        line = Line(formula.strip())
        markers, _, line.ref_formulas = markers.partition("ref=formulas:")  # its reason runs to the end
        line.ref_formulas = line.ref_formulas.strip() or None
        for marker in filter(None, (m.strip() for m in markers.split(";"))):
            if marker != "date":
                raise SystemExit(f"unknown marker {marker!r} in: {raw}")
            line.is_date = True
        if ARROW in line.formula or line.formula.startswith("="):
            raise SystemExit(f"a formula may not contain {ARROW!r} nor start with '=': {raw}")
        items.append(line)
    return items


def to_ooxml(formula: str) -> str:
    """``formula`` as stored in an .xlsx cell: a leading ``=`` and ``_xlfn.`` before newer functions."""
    pattern = re.compile(r"(?<![A-Za-z0-9_.])(" + "|".join(XLFN) + r")\(", re.IGNORECASE)
    parts, last = [], 0
    for match in STRING.finditer(formula):  # leave text literals alone
        parts.append(pattern.sub(lambda m: f"_xlfn.{m.group(1).upper()}(", formula[last : match.start()]))
        parts.append(match.group())
        last = match.end()
    parts.append(pattern.sub(lambda m: f"_xlfn.{m.group(1).upper()}(", formula[last:]))
    return "=" + "".join(parts)


def encode(value: Any, is_date: bool) -> str:
    """The golden encoding of one result (see the header of the golden file)."""
    if isinstance(value, ExcelError):
        return f"error:{value}"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if is_date:
            if value != int(value):
                raise ValueError(f"a date line returned a fraction of a day: {value!r}")
            if not 0 < value <= 2958465:  # 9999-12-31, Excel's last date
                return f"(serial {int(value)}: no Excel date)"
            return f"date:{(EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()}"
        number = float(f"{float(value):.12g}") + 0.0  # 12 significant digits; -0.0 becomes 0.0
        return repr(number)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:  # an empty result (Excel shows 0 for a formula that returns nothing)
        return "0.0"
    raise TypeError(f"unexpected result {value!r} ({type(value).__name__})")


def read_cached_values(path: Path) -> dict[str, Any]:
    """The cached formula results of the first sheet of an .xlsx, by cell name, typed by ``t=``.

    Read from the XML itself: openpyxl reads an empty text result (``t="str"``, ``<v></v>``) as None.
    """
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(path) as archive:
        root = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))  # our own file
    values: dict[str, Any] = {}
    for cell in root.iter(f"{main}c"):
        kind, raw = cell.get("t", "n"), cell.findtext(f"{main}v") or ""
        if kind == "str":
            values[cell.get("r", "")] = raw
        elif kind == "b":
            values[cell.get("r", "")] = raw == "1"
        elif kind == "e":
            values[cell.get("r", "")] = ExcelError(raw)
        elif kind == "n":
            values[cell.get("r", "")] = float(raw)
        else:
            raise ValueError(f"unexpected cell type {kind!r} in {path}")
    return values


def compute_libreoffice(lines: list[Line]) -> str:
    """Fill ``line.libreoffice`` for every line; returns the LibreOffice version string."""
    import openpyxl

    version = subprocess.run(["soffice", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="tessera-golden-") as tmp:
        work = Path(tmp)
        book = openpyxl.Workbook()
        sheet = book.active
        for row, line in enumerate(lines, start=1):
            sheet.cell(row=row, column=1, value=to_ooxml(line.formula))
        book.save(work / "in.xlsx")
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}  # en-US number and date formats
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{work}/profile", "--headless", "--calc",
             "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(work / "out"), str(work / "in.xlsx")],
            check=True, env=env, timeout=300, capture_output=True,
        )  # fmt: skip
        cells = read_cached_values(work / "out" / "in.xlsx")
        for row, line in enumerate(lines, start=1):
            line.libreoffice = encode(cells[f"A{row}"], line.is_date)
    return version


def compute_formulas(lines: list[Line]) -> str:
    """Fill ``line.formulas`` for every line; returns the ``formulas`` package version."""
    import formulas
    import numpy as np

    warnings.simplefilter("ignore")
    for line in lines:
        try:
            result = formulas.Parser().ast("=" + line.formula)[1].compile()()
            while isinstance(result, np.ndarray):
                result = result.ravel()[0]
            if isinstance(result, formulas.tokens.operand.XlError):
                result = ExcelError(result)
            elif isinstance(result, np.generic):
                result = result.item()
            line.formulas = encode(result, line.is_date)
        except Exception as error:  # a formula the package cannot compute
            line.formulas = f"(failed: {type(error).__name__}: {str(error).splitlines()[0][:80]})"
    return formulas.__version__


def choose(line: Line, lo_name: str, fo_name: str) -> str:
    """The expected value of ``line``, with notes where the two references disagree."""
    if line.ref_formulas is not None:
        if line.formulas.startswith("(failed"):
            raise SystemExit(f"ref=formulas but formulas failed on {line.formula}: {line.formulas}")
        line.notes.append(f"expected from {fo_name}: {line.ref_formulas}; {lo_name} gives {line.libreoffice}")
        return line.formulas
    if line.libreoffice == line.formulas:
        return line.libreoffice
    if line.libreoffice.startswith("error:") and line.formulas.startswith("error:"):
        line.notes.append(f"error code from {fo_name}; {lo_name} gives {line.libreoffice}")
        return line.formulas
    line.notes.append(f"{fo_name} gives {line.formulas}")
    return line.libreoffice


HEADER = """\
# Excel golden results for Tessera's formula language: `formula -> expected`, one per line.
# GENERATED by make_excel_golden.py from excel_formulas.txt: do not edit the expected values by hand.
#
# Reference (independent of Tessera): {lo_name}, headless ({lo_package}),
#   locale C.UTF-8 (en-US), the formulas written to an .xlsx, recalculated and saved as .xlsx by
#   soffice, and the cached results read back. Cross-check: the `formulas` package {fo_version}
#   from PyPI; a `# note:` line above a formula says where the two disagree and which was kept.
# Which value is kept: LibreOffice's, except (a) where the note says "expected from formulas":
#   LibreOffice is known to differ from Excel there (its TRUE/FALSE are the numbers 1/0, it takes
#   odd roots of negatives, ...), and (b) where both give an error but with different codes: the
#   code from `formulas`, which follows Excel's (LibreOffice exports its "invalid argument" as #VALUE!).
#
# Formulas are literal-only Excel syntax (no cell references) that Tessera parses too.
# Expected values:
#   1234.5           a number: Python repr of the float, rounded to 12 significant digits
#   "text"           text, as a JSON string (unicode kept as is)
#   TRUE / FALSE     a logical value
#   date:2024-02-29  a date: the reference's serial number (1899-12-30 epoch) turned into a date by
#                    the generator, on the lines the source marks as returning a date
#   error:#DIV/0!    an Excel error (#DIV/0!, #VALUE!, #NUM!, #N/A, ...).
#                    Tessera maps every Excel error to blank (None): the test expects None there.
"""


def main() -> int:
    items = read_source()
    lines = [item for item in items if isinstance(item, Line)]
    lo_version = compute_libreoffice(lines)
    fo_version = compute_formulas(lines)
    lo_name = lo_version.split("(")[0].strip() or lo_version  # "LibreOffice 7.4.7.2 40"
    lo_name = " ".join(lo_name.split()[:2])
    package = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}", "libreoffice-calc-nogui"],
                             capture_output=True, text=True).stdout.strip() or "soffice"  # fmt: skip
    out = [HEADER.format(lo_name=lo_name, lo_package=f"Debian package {package}", fo_version=fo_version)]
    disagreements = 0
    for item in items:
        if isinstance(item, str):
            out.append("\n" + item + "\n")
            continue
        expected = choose(item, lo_name, f"formulas {fo_version}")
        disagreements += bool(item.notes)
        out.extend(f"# note: {note}\n" for note in item.notes)
        out.append(f"{item.formula}{ARROW}{expected}\n")
    TARGET.write_text("".join(out), encoding="utf-8")
    print(f"wrote {len(lines)} formulas to {TARGET} ({disagreements} with notes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
