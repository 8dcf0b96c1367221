"""Every registered function: normal cases, blanks, errors (which end as blank) and Excel's edge cases.

The table is the contract: ``formula -> expected`` against one record (``RECORD``). A test fails
when a registered function has no row here, or no docstring with an Excel note.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest

from engine.expr import evaluate, parse
from engine.expr.functions import FUNCTIONS, Param, register
from engine.expr.functions.registry import Function
from engine.expr.nodes import Call, walk
from engine.expr.scope import DictContext
from engine.expr.types import NUMBER

D = dt.date
RECORD = DictContext(
    {
        "blank": None,
        "n": 10,
        "price": Decimal("12.50"),
        "name": "Acme Ltd",
        "day": D(2024, 1, 31),  # a Wednesday
        "moment": dt.datetime(2024, 1, 31, 14, 5, 9),
        "items": [
            {"amount": 10, "qty": 2, "sku": "A"},
            {"amount": 5, "qty": 1, "sku": "b"},
            {"amount": None, "qty": 3, "sku": "C"},
            {"amount": Decimal("2.5"), "qty": 0, "sku": None},
        ],
        "visits": [{"on": D(2025, 12, 1)}, {"on": D(2026, 1, 10)}, {"on": None}],
        "alert": [
            {"alert_type": "risk", "status": "open", "done": True},
            {"alert_type": "Risk", "status": "closed", "done": False},
            {"alert_type": "info", "status": "open", "done": None},
        ],
        "holidays": [{"day": D(2024, 1, 2)}, {"day": D(2024, 1, 3)}],
        "none": [],
    },
    user=7,
    clock=dt.datetime(2026, 1, 15, 9, 30),
)

LOGIC = [
    ('IF(n > 5, "big", "small")', "big"),
    ("IF(blank, 1, 2)", 2.0),
    ('IF(n, "yes", "no")', "yes"),
    ("IF(FALSE, 1)", False),  # Excel: a missing value_if_false is FALSE
    ("IF(TRUE, 1, 1/0)", 1.0),  # the branch not taken is not evaluated
    ("IF(1/0, 1, 2)", None),  # an error in the condition is an error
    ('IF("abc", 1, 2)', None),
    ('IFS(n > 20, "a", n > 5, "b", TRUE, "c")', "b"),
    ("IFS(blank, 1, TRUE, 2)", 2.0),
    ("IFS(TRUE, 1, 1/0, 2)", 1.0),
    ("IFS(FALSE, 1)", None),  # Excel's #N/A
    ('SWITCH(name, "acme ltd", 1, 2)', 1.0),  # matching ignores case, as "=" does
    ('SWITCH(3, 1, "a", 2, "b")', None),  # Excel's #N/A
    ('SWITCH(3, 1, "a", "z")', "z"),
    ('SWITCH(blank, 0, "zero", "other")', "zero"),
    ("AND(TRUE, n > 5)", True),
    ("AND(TRUE, blank)", False),
    ("AND(items.qty)", False),  # one qty is 0
    ("AND(alert.done)", False),  # blanks in a list are skipped, FALSE is not
    ("AND(FALSE, 1/0)", None),  # Excel evaluates every argument
    ('AND("abc")', None),
    ("OR(FALSE, blank)", False),
    ("OR(items.qty)", True),
    ("OR(n = 10, 1/0)", None),
    ("XOR(TRUE, FALSE)", True),
    ("XOR(TRUE, TRUE)", False),
    ("XOR(TRUE, TRUE, TRUE)", True),
    ("NOT(blank)", True),
    ("NOT(n)", False),
    ("NOT(1/0)", None),
    ("ISBLANK(blank)", True),
    ("ISBLANK(no_such_field)", True),
    ('ISBLANK("")', False),
    ("ISBLANK(0)", False),
    ("ISBLANK(1/0)", False),  # Excel: an error is not blank
    ('COALESCE(blank, 1/0, "x")', "x"),
    ("COALESCE(n, 5)", 10.0),
    ("COALESCE(1/0, 0)", 0.0),  # serves as IFERROR
    ("COALESCE(blank)", None),
    ("BAND(n, 50, 100, 10, 60, 0, 20)", 60.0),  # the first threshold reached wins
    ("BAND(9.99, 50, 100, 10, 60, 0, 20)", 20.0),
    ("BAND(-1, 50, 100, 10, 60)", None),  # below every threshold, no default
    ("BAND(-1, 50, 100, 10, 60, 0)", 0.0),  # the default
    ("BAND(blank, 10, 60, 0, 20)", 20.0),  # blank counts as 0
    ('BAND(day, DATE(2024, 1, 1), "new", "old")', "new"),
    ("CURRENT_USER()", 7.0),
    ("CURRENT_USER() = 7", True),
]

MATH = [
    ("ROUND(2.5, 0)", 3.0),  # half away from zero, not to even
    ("ROUND(-2.5, 0)", -3.0),
    ("ROUND(2.675, 2)", 2.68),  # Excel works in 15 digits; the float is a hair below
    ("ROUND(1.005, 2)", 1.01),
    ("ROUND(1250, -2)", 1300.0),
    ("ROUND(-1250, -2)", -1300.0),
    ("ROUND(1.23456, 2.9)", 1.23),  # num_digits is truncated
    ("ROUND(price, 0)", 13.0),  # a Decimal field value
    ("ROUND(blank, 2)", 0.0),
    ("ROUND(1/0, 2)", None),
    ('ROUND("abc", 1)', None),
    ("ROUNDUP(3.141, 1)", 3.2),
    ("ROUNDUP(-3.141, 1)", -3.2),
    ("ROUNDUP(0.1 + 0.2, 1)", 0.3),
    ("ROUNDUP(31415.9, -2)", 31500.0),
    ("ROUNDDOWN(3.19, 1)", 3.1),
    ("ROUNDDOWN(-3.19, 1)", -3.1),
    ("ROUNDDOWN(1.999, 2)", 1.99),
    ("ABS(-3)", 3.0),
    ("ABS(blank)", 0.0),
    ("ABS(TRUE)", 1.0),
    ("MOD(7, 3)", 1.0),
    ("MOD(-3, 2)", 1.0),  # the sign of the divisor
    ("MOD(3, -2)", -1.0),
    ("MOD(-3, -2)", -1.0),
    ("MOD(5.1, 1)", 0.1),
    ("MOD(0, 5)", 0.0),
    ("MOD(1, 0)", None),  # #DIV/0!
    ("POWER(2, 10)", 1024.0),
    ("POWER(4, 0.5)", 2.0),
    ("POWER(-2, 3)", -8.0),
    ("POWER(-8, 1/3)", None),  # #NUM!
    ("POWER(0, 0)", None),
    ("POWER(0, -1)", None),
    ("POWER(10, 400)", None),  # overflow
    ("SQRT(16)", 4.0),
    ("SQRT(blank)", 0.0),
    ("SQRT(-1)", None),
    ("INT(1.9)", 1.0),
    ("INT(-1.5)", -2.0),  # INT floors
    ("INT(-2)", -2.0),
    ("CEILING(2.5, 1)", 3.0),
    ("CEILING(4.2)", 5.0),
    ("CEILING(-2.5, 2)", -2.0),
    ("CEILING(-2.5, -2)", -4.0),
    ("CEILING(2.5, -2)", None),
    ("CEILING(0.234, 0.01)", 0.24),
    ("CEILING(1.5, 0.1)", 1.5),
    ("CEILING(7, 0)", 0.0),
    ("FLOOR(3.7, 2)", 2.0),
    ("FLOOR(4.8)", 4.0),
    ("FLOOR(-2.5, 2)", -4.0),
    ("FLOOR(-2.5, -2)", -2.0),
    ("FLOOR(2.5, -2)", None),
    ("FLOOR(0.3, 0.1)", 0.3),
    ("FLOOR(7, 0)", None),
]

TEXT = [
    ('CONCAT("a", 1, TRUE, blank)', "a1TRUE"),
    ("CONCAT(items.sku)", "AbC"),
    ('CONCAT("d:", day)', "d:2024-01-31"),
    ('CONCAT("a", 1/0)', None),
    ("LEFT(name, 4)", "Acme"),
    ("LEFT(name)", "A"),
    ("LEFT(name, 100)", "Acme Ltd"),
    ("LEFT(12345, 2)", "12"),
    ("LEFT(blank, 2)", ""),
    ('LEFT("中文字", 2)', "中文"),
    ("LEFT(name, -1)", None),
    ("RIGHT(name, 3)", "Ltd"),
    ("RIGHT(name)", "d"),
    ("RIGHT(name, 0)", ""),
    ('RIGHT("ab", 5)', "ab"),
    ("RIGHT(name, -1)", None),
    ("MID(name, 6, 3)", "Ltd"),
    ("MID(name, 20, 3)", ""),
    ('MID("中文字符", 2, 2)', "文字"),
    ("MID(name, 0, 3)", None),
    ("MID(name, 1, -1)", None),
    ("LEN(name)", 8.0),
    ("LEN(blank)", 0.0),
    ('LEN("中文")', 2.0),
    ("LEN(12.5)", 4.0),
    ("LEN(TRUE)", 4.0),
    ("UPPER(name)", "ACME LTD"),
    ("UPPER(blank)", ""),
    ("LOWER(name)", "acme ltd"),
    ('LOWER("ÀBC")', "àbc"),
    ('TRIM("  a   b  ")', "a b"),
    ('TRIM("\ta ")', "\ta"),  # only spaces are trimmed, as in Excel
    ('SUBSTITUTE("a-b-c", "-", "+")', "a+b+c"),
    ('SUBSTITUTE("a-b-c", "-", "+", 2)', "a-b+c"),
    ('SUBSTITUTE("a-b-c", "-", "+", 5)', "a-b-c"),
    ('SUBSTITUTE("a-b-c", "", "+")', "a-b-c"),
    ('SUBSTITUTE("aA", "a", "x")', "xA"),  # case-sensitive
    ('SUBSTITUTE("a-b-c", "-", "+", 0)', None),
    ('FIND("L", name)', 6.0),
    ('FIND("c", "abcabc", 4)', 6.0),
    ('FIND("", "abc")', 1.0),
    ('FIND("字", "中文字")', 3.0),
    ('FIND("l", name)', None),  # case-sensitive: not found
    ('FIND("a", "abc", 0)', None),
    ('FIND("a", "abc", 4)', None),
    ('CONTAINS(name, "acme")', True),  # ignores case, as "=" does
    ('CONTAINS(name, "x")', False),
    ('CONTAINS(blank, "")', True),
    ('CONTAINS(blank, "a")', False),
    ('TEXT(1234.5, "#,##0.00")', "1,234.50"),
    ('TEXT(1234567.891, "#,##0.00")', "1,234,567.89"),
    ('TEXT(1234.5, "0")', "1235"),
    ('TEXT(2.5, "0")', "3"),
    ('TEXT(-2.5, "0")', "-3"),
    ('TEXT(0.5, "0%")', "50%"),
    ('TEXT(-0.125, "0.0%")', "-12.5%"),
    ('TEXT(0.5, "#.00")', ".50"),
    ('TEXT(3, "0.##")', "3."),
    ('TEXT(1234, "¥#,##0")', "¥1,234"),
    ('TEXT(42, """No. ""0")', "No. 42"),
    ('TEXT(-5, "0;(0)")', "(5)"),
    ('TEXT(0, "0;(0);-")', "-"),
    ('TEXT(1234567, "#,##0,")', "1,235"),
    ('TEXT("12.345", "0.00")', "12.35"),
    ('TEXT("abc", "0.00")', "abc"),
    ('TEXT(TRUE, "0")', "TRUE"),
    ('TEXT(3.14159, "General")', "3.14159"),
    ('TEXT(blank, "0.00")', ""),
    ('TEXT(day, "yyyy-mm-dd")', "2024-01-31"),
    ('TEXT(day, "yyyy年m月")', "2024年1月"),
    ('TEXT(day, "yy/m/d")', "24/1/31"),
    ('TEXT(day, "dddd, mmmm d")', "Wednesday, January 31"),
    ('TEXT(day, "ddd mmm")', "Wed Jan"),
    ('TEXT(day, "mmmmm")', "J"),
    ('TEXT(moment, "hh:mm:ss")', "14:05:09"),
    ('TEXT(moment, "h:mm AM/PM")', "2:05 PM"),
    ('TEXT(45000, "yyyy-mm-dd")', "2023-03-15"),  # an Excel serial number
    ('TEXT(45000.5, "hh:mm")', "12:00"),
    ('TEXT(DATE(2024, 1, 1), "0")', "45292"),  # a date in a number format is its serial number
    ('VALUE("1,234.5")', 1234.5),
    ('VALUE(" 12 ")', 12.0),
    ('VALUE("50%")', 0.5),
    ('VALUE("1e3")', 1000.0),
    ('VALUE("-3.5")', -3.5),
    ("VALUE(5)", 5.0),
    ("VALUE(blank)", 0.0),
    ('VALUE("abc")', None),
    ('VALUE("1_000")', None),
    ('VALUE("nan")', None),
    ('VALUE("")', None),
]

DATES = [
    ("TODAY()", D(2026, 1, 15)),
    ("TODAY() + 1", D(2026, 1, 16)),
    ("NOW()", dt.datetime(2026, 1, 15, 9, 30)),
    ("NOW() + 0.5", dt.datetime(2026, 1, 15, 21, 30)),
    ("DATE(2024, 2, 30)", D(2024, 3, 1)),
    ("DATE(2024, 14, 1)", D(2025, 2, 1)),
    ("DATE(2024, 1, 0)", D(2023, 12, 31)),
    ("DATE(2024, 0, 1)", D(2023, 12, 1)),
    ("DATE(99, 1, 1)", D(1999, 1, 1)),  # Excel adds 1900 to years below 1900
    ("DATE(2024.9, 1.9, 1.9)", D(2024, 1, 1)),
    ("DATE(blank, 1, 1)", D(1900, 1, 1)),
    ("DATE(10000, 1, 1)", None),  # #NUM!
    ("DATE(-1, 1, 1)", None),
    ("YEAR(day)", 2024.0),
    ("YEAR(moment)", 2024.0),
    ("YEAR(45000)", 2023.0),
    ('YEAR("2025-06-30")', 2025.0),
    ("YEAR(blank)", None),
    ('YEAR("abc")', None),
    ("MONTH(day)", 1.0),
    ("MONTH(DATE(2024, 13, 1))", 1.0),
    ("DAY(day)", 31.0),
    ("DAY(DATE(2024, 3, 0))", 29.0),
    ("WEEKDAY(day)", 4.0),  # Wednesday; Sunday is 1
    ("WEEKDAY(day, 2)", 3.0),  # Monday is 1
    ("WEEKDAY(day, 3)", 2.0),  # Monday is 0
    ("WEEKDAY(day, 11)", 3.0),
    ("WEEKDAY(day, 13)", 1.0),  # Wednesday is 1
    ("WEEKDAY(day, 17)", 4.0),  # Sunday is 1
    ("WEEKDAY(day, 4)", None),
    ("WEEKDAY(blank)", None),
    ("EDATE(day, 1)", D(2024, 2, 29)),
    ("EDATE(day, -13)", D(2022, 12, 31)),
    ("EDATE(day, 1.9)", D(2024, 2, 29)),
    ("EDATE(moment, 0)", D(2024, 1, 31)),
    ("EDATE(blank, 1)", None),
    ("EOMONTH(day, 1)", D(2024, 2, 29)),
    ("EOMONTH(DATE(2024, 3, 15), -1)", D(2024, 2, 29)),
    ("EOMONTH(day, 0)", D(2024, 1, 31)),
    ("EOMONTH(DATE(2100, 2, 1), 0)", D(2100, 2, 28)),
    ('DATEDIF(DATE(2020, 1, 15), DATE(2024, 6, 10), "Y")', 4.0),
    ('DATEDIF(DATE(2020, 1, 15), DATE(2024, 6, 10), "M")', 52.0),
    ('DATEDIF(DATE(2020, 1, 15), DATE(2024, 6, 10), "D")', 1608.0),
    ('DATEDIF(DATE(2020, 1, 15), DATE(2024, 6, 10), "MD")', 26.0),
    ('DATEDIF(DATE(2020, 1, 15), DATE(2024, 6, 10), "YM")', 4.0),
    ('DATEDIF(DATE(2020, 1, 15), DATE(2024, 6, 10), "YD")', 147.0),
    ('DATEDIF(DATE(2024, 1, 31), DATE(2024, 3, 1), "md")', -1.0),  # Excel's documented MD flaw
    ('DATEDIF(DATE(2024, 2, 29), DATE(2025, 2, 28), "Y")', 0.0),
    ('DATEDIF(DATE(2024, 3, 1), DATE(2024, 1, 1), "D")', None),  # start after end: #NUM!
    ('DATEDIF(day, day, "X")', None),
    ('DATEDIF(blank, day, "D")', None),
    ("DAYS(DATE(2024, 3, 1), DATE(2024, 2, 1))", 29.0),
    ("DAYS(DATE(2024, 1, 1), DATE(2024, 12, 31))", -365.0),
    ("DAYS(TODAY(), day)", 715.0),
    ("DAYS(45000, 44000)", 1000.0),
    ("NETWORKDAYS(DATE(2024, 1, 1), DATE(2024, 1, 31))", 23.0),
    ("NETWORKDAYS(DATE(2024, 1, 1), DATE(2024, 1, 31), holidays.day)", 21.0),
    ("NETWORKDAYS(DATE(2024, 1, 1), DATE(2024, 1, 31), DATE(2024, 1, 6))", 23.0),  # a Saturday
    ("NETWORKDAYS(DATE(2024, 1, 31), DATE(2024, 1, 1))", -23.0),
    ("NETWORKDAYS(DATE(2024, 1, 6), DATE(2024, 1, 7))", 0.0),
    ("WORKDAY(DATE(2024, 1, 5), 1)", D(2024, 1, 8)),
    ("WORKDAY(DATE(2024, 1, 1), 10)", D(2024, 1, 15)),
    ("WORKDAY(DATE(2024, 1, 1), 10, holidays.day)", D(2024, 1, 17)),
    ("WORKDAY(DATE(2024, 1, 8), -1)", D(2024, 1, 5)),
    ("WORKDAY(DATE(2024, 1, 4), -2, holidays.day)", D(2023, 12, 29)),
    ("WORKDAY(DATE(2024, 1, 1), 260)", D(2024, 12, 30)),
    ("WORKDAY(DATE(2024, 1, 6), 0)", D(2024, 1, 6)),
    ("WORKDAY(DATE(2024, 1, 1), 100000000)", None),  # past year 9999
]

AGGREGATES = [
    ("SUM(items.amount)", 17.5),
    ("SUM(1, 2, items.qty)", 9.0),
    ("SUM(none.amount)", 0.0),
    ("SUM(blank)", 0.0),
    ("SUM(TRUE, 1)", 2.0),
    ('SUM("3", 1)', 4.0),
    ('SUM("abc")', None),
    ("SUM(1, 1/0)", None),
    ("AVERAGE(items.amount)", 17.5 / 3),  # blanks are skipped, not counted as 0
    ("AVERAGE(1, 2, blank)", 1.5),
    ("AVERAGE(none.amount)", None),  # #DIV/0!
    ("MIN(items.amount)", 2.5),
    ("MIN(3, items.amount)", 2.5),
    ("MIN(visits.on)", D(2025, 12, 1)),
    ("MIN(none.amount)", None),
    ("MIN(1, day)", None),  # numbers mixed with dates
    ("MAX(items.amount)", 10.0),
    ("MAX(visits.on)", D(2026, 1, 10)),
    ("MAX(-1, blank)", -1.0),
    ("COUNT(items.amount)", 3.0),
    ("COUNT(alert)", 3.0),
    ("COUNT(items.sku)", 0.0),  # text is not counted, as in Excel
    ("COUNT(visits.on)", 2.0),
    ('COUNT(1, "2", "x", TRUE, blank)', 3.0),
    ("COUNTA(items.sku)", 3.0),
    ('COUNTA(items.amount, blank, "")', 4.0),
    ('COUNTIF(alert, alert_type = "risk")', 2.0),
    ('COUNTIF(alert, alert_type = "risk" AND status IN ("open", "acknowledged"))', 1.0),
    ("COUNTIF(items.qty, qty > 1)", 2.0),
    ("COUNTIF(none, TRUE)", 0.0),
    ("COUNTIF(alert.done)", 1.0),  # without a condition: the TRUE values
    ("COUNTIF(alert, 1/0)", 0.0),
    ("SUMIF(items.amount, qty >= 1)", 15.0),
    ("SUMIF(items.amount, amount > THIS.n / 2)", 10.0),  # THIS reads the record, not the row
    ('SUMIF(items.amount, sku = "a")', 10.0),
    ("SUMIF(items.amount, FALSE)", 0.0),
    ("AVERAGEIF(items.amount, qty > 0)", 7.5),
    ("AVERAGEIF(items.amount, qty > 10)", None),
    ("MAXIF(items.amount, qty < 2)", 5.0),
    ("MAXIF(visits.on, TRUE)", D(2026, 1, 10)),
    ("MAXIF(items.amount, FALSE)", None),
    ("MINIF(items.amount, qty > 0)", 5.0),
    ("MINIF(items.amount, FALSE)", None),
]

CASES = LOGIC + MATH + TEXT + DATES + AGGREGATES


def _same(result: Any, expected: Any) -> bool:
    if isinstance(expected, float) and not isinstance(result, bool):
        return isinstance(result, float) and math.isclose(result, expected, rel_tol=1e-12, abs_tol=1e-12)
    return type(result) is type(expected) and bool(result == expected)


@pytest.mark.parametrize(("formula", "expected"), CASES, ids=[formula for formula, _ in CASES])
def test_function(formula: str, expected: Any) -> None:
    result = evaluate(formula, RECORD)
    assert _same(result, expected), f"{formula} gave {result!r}, expected {expected!r}"


def test_every_registered_function_has_test_rows() -> None:
    called = {node.name for formula, _ in CASES for node in walk(parse(formula)) if isinstance(node, Call)}
    assert set(FUNCTIONS) - called == set(), "functions without a row in the table"
    assert called - set(FUNCTIONS) == set(), "rows naming functions that are not registered"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_is_documented(name: str) -> None:
    function = FUNCTIONS[name]
    summary = function.doc.splitlines()[0] if function.doc else ""
    assert summary.endswith("."), f"{name} needs a one-line summary"
    assert "Returns:" in function.doc
    assert "Excel" in function.doc, f"{name} needs an Excel-compatibility note"
    if function.params or function.repeat:
        assert "Args:" in function.doc
        names = {p.name for p in (*function.params, *function.repeat)}
        assert all(f"{p}:" in function.doc for p in names), f"{name}: document every parameter"


def test_function_names_are_case_insensitive() -> None:
    assert evaluate("round(2.5, 0) + Sum(1, 2)") == 6.0


SIGNATURES = [
    ("IF", "IF(logical_test, value_if_true, [value_if_false])", 2, 3),
    ("IFS", "IFS(logical_test, value_if_true, ...)", 2, None),
    ("SWITCH", "SWITCH(expression, value, result, ..., [default])", 3, None),
    ("BAND", "BAND(x, threshold, score, ..., [default])", 3, None),
    ("SUM", "SUM(number, ...)", 1, None),
    ("TODAY", "TODAY()", 0, 0),
    ("NETWORKDAYS", "NETWORKDAYS(start_date, end_date, [holidays])", 2, 3),
]


@pytest.mark.parametrize(("name", "signature", "fewest", "most"), SIGNATURES)
def test_signatures(name: str, signature: str, fewest: int, most: int | None) -> None:
    function = FUNCTIONS[name]
    assert (function.signature, function.min_args, function.max_args) == (signature, fewest, most)


ARGUMENT_COUNTS = [
    ("IFS", 2, True),
    ("IFS", 3, False),  # pairs only
    ("IFS", 4, True),
    ("SWITCH", 3, True),
    ("SWITCH", 4, True),  # with a default
    ("SWITCH", 2, False),
    ("BAND", 4, True),
    ("IF", 1, False),
    ("IF", 4, False),
    ("TODAY", 1, False),
]


@pytest.mark.parametrize(("name", "count", "accepted"), ARGUMENT_COUNTS)
def test_argument_counts(name: str, count: int, accepted: bool) -> None:
    assert FUNCTIONS[name].accepts_count(count) is accepted


def test_switch_parameters_pair_up_with_the_default_last() -> None:
    switch = FUNCTIONS["SWITCH"]
    names = [switch.param_at(index, 6).name for index in range(6)]
    assert names == ["expression", "value", "result", "value", "result", "default"]


def test_a_function_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register("SUM", returns=NUMBER)(lambda: 0.0)


def test_an_ambiguous_signature_is_refused() -> None:
    with pytest.raises(ValueError, match="tail"):
        register("NEVER_REGISTERED", repeat=(Param("x"),), tail=Param("y"), returns=NUMBER)
    assert "NEVER_REGISTERED" not in FUNCTIONS


def test_backend_slots_are_left_for_the_sql_and_js_compilers() -> None:
    assert all(isinstance(f, Function) and f.sql is None and f.js is None for f in FUNCTIONS.values())


def test_short_circuit_functions_are_lazy() -> None:
    lazy = {name for name, function in FUNCTIONS.items() if function.lazy}
    assert {"IF", "IFS", "SWITCH", "COALESCE", "ISBLANK", "COUNTIF", "SUMIF", "AVERAGEIF", "MAXIF", "MINIF"} == lazy


@pytest.mark.parametrize(
    ("formula", "expected"),
    [('RIGHT("abc", 4)', "abc"), ('RIGHT("abc", 5)', "abc"), ('RIGHT("中文", 3)', "中文"), ('RIGHT("abc", 0)', "")],
)
def test_right_past_the_end_is_the_whole_text(formula: str, expected: str) -> None:
    assert evaluate(formula) == expected
