"""Rows to CSV and XLSX, written the same way by every export (appeals, questions, votes).

* CSV: comma, RFC 4180 quoting, UTF-8 *with a BOM*: Excel opens a CSV without one in the Windows code page
  (cp1251 on Russian systems), which garbles Cyrillic and has no Kazakh letters at all; the BOM makes it read
  UTF-8. Other readers skip it (Python: ``encoding="utf-8-sig"``). Timestamps are ISO 8601 in UTC
  (``+00:00``), dates ISO, booleans ``true``/``false``, nothing is an empty cell.
* XLSX: a bold frozen header row, timestamps as Excel datetimes holding the UTC wall time (openpyxl refuses
  aware datetimes and Excel has no time zones), dates as Excel dates, text always stored as text.
* A text that starts like a formula (``=``, ``+``, ``-``, ``@``) gets a leading apostrophe in CSV and is stored as
  a string in XLSX: a spreadsheet never runs what a resident typed (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return str(value)


def write_csv(path: Path | str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write ``rows`` (values in the order of ``header``); return how many were written."""
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(header)
        for row in rows:
            w.writerow([csv_cell(v) for v in row])
            n += 1
    return n


Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]  # title, header, rows in the header's order


def write_xlsx(path: Path | str, sheets: Sequence[Sheet], *, widths: Mapping[str, float] | None = None,
               wrap: frozenset[str] = frozenset({"text"}), auto_filter: bool = False) -> int:
    """One workbook with a sheet per ``(title, header, rows)``; ``widths`` by column name, ``wrap`` the columns
    whose text wraps. Returns the number of data rows written in all."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    total = 0
    for i, (title, header, rows) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        r = 1
        for r, row in enumerate(rows, start=2):
            for c, (column, value) in enumerate(zip(header, row, strict=True), start=1):
                cell = ws.cell(row=r, column=c)
                if isinstance(value, datetime):
                    cell.value = value.astimezone(UTC).replace(tzinfo=None)
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(value, date):
                    cell.value = value
                    cell.number_format = DATE_FORMAT
                else:
                    cell.value = value
                    if isinstance(value, str):
                        cell.data_type = "s"  # openpyxl would store "=…" as a formula: a resident's text never is one
                        if column in wrap:
                            cell.alignment = Alignment(wrap_text=True, vertical="top")
        total += r - 1
        for c, column in enumerate(header, start=1):
            if widths and column in widths:
                ws.column_dimensions[get_column_letter(c)].width = widths[column]
        ws.freeze_panes = "A2"
        if auto_filter:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, r)}"
    wb.save(path)
    return total
