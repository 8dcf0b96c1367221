"""The browser interpreter (``web/static/expr/*.js``) agrees with the Python evaluator.

Every formula is parsed in Python, sent to Node.js as ``to_json(ast)`` (what the browser gets), and
run by ``tests/expr/js_runner.mjs`` against a port of ``DictContext``. One Node process serves the
whole module (line-delimited JSON), so the Hypothesis properties do not start Node per example.

* the Excel golden file, every line, under the rules of ``test_golden.py``;
* the tables of ``test_functions.py`` and ``test_evaluator.py``, plus edge cases of our own, against
  the Python evaluator's result on the same record, and the step budget, to the exact step;
* random formulas (Hypothesis): the arithmetic and any-call generators of ``test_evaluator.py`` and
  a typed generator over every function, operator, dates, text and per-row conditions.

Node.js is required: the test fails, not skips, when ``node`` is missing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_evaluator import ARITHMETIC, NUMBERS, OPERATORS, SHORT_CIRCUITS, _any_call
from test_evaluator import RECORD as EVALUATOR_RECORD
from test_functions import CASES
from test_functions import RECORD as FUNCTION_RECORD
from test_golden import GOLDEN_LINES, _Error
from test_totality import DATA as TOTALITY_DATA
from test_totality import NON_FINITE, ODD, ORDINARY, counts, lit
from test_totality import TREES as TOTALITY_TREES
from test_totality import call as totality_call

from engine.expr import ExprError, Limits, compile_expression, parse
from engine.expr.functions import FUNCTIONS
from engine.expr.nodes import Binary, Call, Ref, Unary, walk
from engine.expr.operators import BINARY, UNARY
from engine.expr.scope import DictContext, DictScope, Scope
from engine.expr.serialize import to_json
from engine.expr.types import ANY, DATE, DATETIME, NUMBER, TEXT

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("js_runner.mjs")
STATIC = ROOT / "web" / "static" / "expr"

# -- the Node process -------------------------------------------------------------------------


class Node:
    """One ``node js_runner.mjs`` process: a JSON request per line, a JSON answer per line."""

    def __init__(self, executable: str) -> None:
        self.process = subprocess.Popen(
            [executable, str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=ROOT,
        )
        self.cases = 0

    def ask(self, request: Mapping[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request, allow_nan=False) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"node exited (code {self.process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        assert "fatal" not in answer, answer["fatal"]
        return answer

    def run(
        self,
        cases: Sequence[tuple[Any, str]],
        contexts: Mapping[str, DictContext],
        steps: int = 0,
        scope: Scope | None = None,
    ) -> list[Any]:
        """JS results of ``(node, context name)`` cases, encoded as :func:`encode` encodes."""
        return self.run_limited([(tree, name, steps) for tree, name in cases], contexts, scope)

    def run_limited(
        self, cases: Sequence[tuple[Any, str, int]], contexts: Mapping[str, DictContext], scope: Scope | None = None
    ) -> list[Any]:
        """JS results of ``(node, context name, max steps)`` cases (0 steps: the default limit).

        ``scope`` types the names, as the server gives it to ``to_json`` (blank dates, see ``types.py``).
        """
        self.cases += len(cases)
        request = {
            "op": "eval",
            "contexts": {name: context_spec(context) for name, context in contexts.items()},
            "cases": [{"ast": ast_json(tree, scope), "ctx": name, "maxSteps": steps} for tree, name, steps in cases],
        }
        results: list[Any] = self.ask(request)["results"]
        return results

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("Node.js (node) is required to test the browser interpreter web/static/expr/")
    process = Node(executable)
    yield process
    process.close()


# -- values on the wire -----------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A Python value as the runner writes JS values: dates tagged, Decimals as floats."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Decimal):
        return encode(float(value))
    if isinstance(value, int):
        return value  # JSON carries any int (JS reads one beyond the doubles as Infinity)
    if isinstance(value, float):
        return value if math.isfinite(value) else non_finite(value)
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    return {"$opaque": repr(value)}


def non_finite(value: float) -> dict[str, str]:
    """An infinity or NaN, tagged (JSON cannot carry them)."""
    return {"$num": "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"}


def ast_json(node: Any, scope: Scope | None = None) -> Any:
    """``to_json(node, scope)``, with the non-finite literals (``1E+400``) JSON cannot carry tagged."""

    def clean(item: Any) -> Any:
        if isinstance(item, float) and not math.isfinite(item):
            return non_finite(item)
        if isinstance(item, list):
            return [clean(part) for part in item]
        if isinstance(item, dict):
            return {key: clean(part) for key, part in item.items()}
        return item

    return clean(to_json(node, scope))


def context_spec(context: DictContext) -> dict[str, Any]:
    return {
        "data": encode(context.data),
        "user": encode(context.user),
        "today": context.clock.date().isoformat(),
        "now": context.clock.isoformat(),
    }


def python_result(node: Any, context: DictContext, steps: int = 0, scope: Scope | None = None) -> Any:
    """The Python evaluator's result, encoded; ``{"$error": code}`` for an ExprError."""
    limits = Limits(max_steps=steps) if steps else Limits()
    try:
        return encode(compile_expression(node, limits, scope=scope)(context))
    except ExprError as error:
        return {"$error": error.code}


def same(python: Any, js: Any) -> bool:
    """Equal results: numbers to 1e-13 relative (Math.pow may differ from C's pow in the last bit)."""
    if isinstance(python, bool) or isinstance(js, bool):
        return type(python) is type(js) and python == js
    if isinstance(python, int | float) and isinstance(js, int | float):
        return python == js or math.isclose(python, js, rel_tol=1e-13, abs_tol=0.0)
    if isinstance(python, list) and isinstance(js, list):
        return len(python) == len(js) and all(same(a, b) for a, b in zip(python, js, strict=True))
    if isinstance(python, dict) and isinstance(js, dict):
        return python.keys() == js.keys() and all(same(python[key], js[key]) for key in python)
    return bool(python == js)


def disagreements(
    node: Node, formulas: Sequence[str], context: DictContext, steps: int = 0, scope: Scope | None = None
) -> tuple[list[str], int]:
    """The formulas whose JS result differs from Python's (as readable lines), and how many ran."""
    parsed = [parse(formula) for formula in formulas]
    results = node.run([(tree, "record") for tree in parsed], {"record": context}, steps, scope)
    wrong = []
    for formula, tree, js in zip(formulas, parsed, results, strict=True):
        python = python_result(tree, context, steps, scope)
        if not same(python, js):
            wrong.append(f"{formula}: python {python!r}, js {js!r}")
    return wrong, len(formulas)


def report(wrong: Sequence[str]) -> str:
    return f"{len(wrong)} disagreements:\n" + "\n".join(wrong[:40])


# -- the function list ------------------------------------------------------------------------


def test_every_function_has_a_js_implementation(node: Node) -> None:
    answer = node.ask({"op": "functions"})
    assert answer["names"] == sorted(FUNCTIONS)
    for name, function in FUNCTIONS.items():
        js = answer["functions"][name]
        assert js["signature"] == function.signature, name
        assert (js["lazy"], js["needsContext"]) == (function.lazy, function.needs_context), name
        assert js["counts"] == [function.accepts_count(count) for count in range(13)], name


def test_the_modules_stay_small_and_never_evaluate_code() -> None:
    modules = sorted(STATIC.glob("*.js"))
    assert {"interpreter.js", "functions.js", "values.js", "dates.js"} <= {path.name for path in modules}
    for path in modules:
        source = path.read_text(encoding="utf-8")
        assert len(source.splitlines()) < 400, f"{path.name} is too long"
        text = re.sub(r"^\s*//.*$", "", source, flags=re.MULTILINE)  # without the comments
        assert not re.search(r"\beval\s*\(|\bFunction\s*\(|\bimport\s*\(", text), path.name
        sources = re.findall(r'\bfrom\s+"([^"]+)"|^import\s+"([^"]+)"', text, re.MULTILINE)
        assert all((a or b).startswith("./") for a, b in sources), path.name  # no dependencies


# -- the Excel golden file --------------------------------------------------------------------


def _golden_matches(expected: Any, js: Any) -> bool:
    """The comparison rules of ``test_golden.py``, on the runner's encoded results."""
    if isinstance(expected, _Error):
        return js is None
    if isinstance(expected, bool):
        return js is expected
    if isinstance(expected, float):
        is_number = isinstance(js, int | float) and not isinstance(js, bool)
        return is_number and math.isclose(js, expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, dt.date):
        return js == {"$date": expected.isoformat()}
    return isinstance(js, str) and js == expected


def test_excel_golden_file_in_js(node: Node) -> None:
    lines = [param.values for param in GOLDEN_LINES]
    empty = DictContext({})
    results = node.run([(parse(formula), "empty") for formula, _ in lines], {"empty": empty})
    wrong = [
        f"{formula}: expected {expected!r}, js gave {js!r}"
        for (formula, expected), js in zip(lines, results, strict=True)
        if not _golden_matches(expected, js)
    ]
    assert len(lines) >= 250
    assert not wrong, report(wrong)


# -- the tables -------------------------------------------------------------------------------


def _formulas(block: str) -> list[str]:
    """One formula a line; ``#`` lines are comments."""
    return [line for line in block.strip().splitlines() if line and not line.startswith("# ")]


EXTRA_RECORD = DictContext(
    {
        **FUNCTION_RECORD.data,
        "s": "Straße",
        "emoji": "a😀b😀c",
        "tiny": 1e-20,
        "huge": 1.5e300,
        "neg": -2.5,
        "ids": [7, 9.5, None],
        "account": {"tier": "gold", "since": dt.date(2020, 2, 29)},
    },
    user=7,
    clock=dt.datetime(2026, 1, 15, 9, 30, 15, 250000),
)

EXTRAS = _formulas(
    '''
# numbers: 15 significant digits, General format, rounding on decimals
1/3 & ""
2/3 & ""
1E+15 & ""
1E+16 & ""
123456789012345678 & ""
0.0001 & ""
0.00001 & ""
1E-300 & ""
-1/7 & ""
huge & ""
tiny & ""
(0.1 + 0.2) & ""
1234567890123.125 & ""
1234567890123.125 = 1234567890123.12
1234567890123.135 = 1234567890123.14
0.1 + 0.2 - 0.3
ROUND(1234567890123.125, 2)
ROUND(-0.5, 0)
ROUND(-0.4, 0)
ROUND(huge, -299)
ROUND(tiny, 25)
ROUND(1.5, -400)
ROUNDUP(1E+308, -308)
ROUNDDOWN(-1E-300, 400)
ROUND(123.456, 400)
MOD(1E+300, 7)
MOD(-tiny, 1E+10)
MOD(7.5, -2)
MOD(-7.5, 2)
MOD(0.3, 0.1)
MOD(1E+20, 3)
CEILING(huge, 1E-300)
FLOOR(-2.5)
CEILING(-0.4)
FLOOR(1E+20 + 1, 3)
CEILING(10, 0.3)
INT(-0.5)
SQRT(2)
POWER(2, 0.5)
POWER(1.0000001, 1E+7)
POWER(-2, 1023)
POWER(-2, 1025)
2^-1074
ABS(neg)
10 % %
-(-(-1))
NOT NOT 0
# text: code points, case folding, Unicode
LEN(emoji)
LEFT(emoji, 2)
RIGHT(emoji, 2)
MID(emoji, 2, 3)
FIND("c", emoji)
FIND("😀", emoji, 3)
SUBSTITUTE(emoji, "😀", "-", 2)
SUBSTITUTE(emoji, "😀", "$&")
UPPER(s)
LOWER(UPPER(s))
s = "STRASSE"
s = "straße"
"ı" = "I"
"İ" = "i"
"ǅ" = "ǆ"
"Ꭰ" = "ꭰ"
"a" < "ä"
"z" < "ä"
"😀" > "\uffff"
CONTAINS(s, "SS")
CONTAINS("ﬁle", "FI")
TRIM("  a  b ")
VALUE("１２")
VALUE("٣.٥")
VALUE("1 ")
VALUE(" 1,000 %")
VALUE("1e400")
VALUE("0x10")
VALUE("+.5")
VALUE("5.")
VALUE("1 2")
VALUE("- 1")
VALUE("1e")
" 12 " + 1
"\u3000TRUE " AND TRUE
"fals\u017f" OR FALSE
SWITCH("B", "a", 1, "b", 2)
"x" & items.qty
"x" & ids
# TEXT formats
TEXT(1234.5678, "0.0")
TEXT(0.005, "0.00")
TEXT(-0.001, "0.00")
TEXT(1E+30, "0")
TEXT(1E+27, "0")
TEXT(123, "00000")
TEXT(0.5, "?.??")
TEXT(12, "0.0%%")
TEXT(1234567, "#,##0,,")
TEXT(5, "0 ""units""")
TEXT(5, "\\$0")
TEXT(-5, "0;0;0")
TEXT(ROUND(-0.4, 0), "0;(0);0.0")
TEXT(0, "0;(0)")
TEXT(3.14159, "0.0##")
TEXT(1, "#")
TEXT(0, "#")
TEXT(1234, "0,0")
TEXT(moment, "yyyy-mm-dd hh:mm:ss")
TEXT(moment, "m/d/yy h:m")
TEXT(moment, "mm:ss")
TEXT(moment, "hh:mm A/P")
TEXT(moment, "am/pm")
TEXT(day, "mmmmmm dddddd")
TEXT(day, "yyy")
TEXT(45000.999999, "yyyy-mm-dd hh:mm:ss")
TEXT(2958465.9999999, "yyyy")
TEXT(60, "yyyy-mm-dd")
TEXT(61, "yyyy-mm-dd")
TEXT(0.5, "h AM/PM")
TEXT("2024-02-29", "dddd")
TEXT("x", "yyyy")
TEXT(day, "General")
TEXT(moment, "@")
TEXT(NOW(), "ss")
TEXT(day, "0.00")
TEXT(moment, "0.000")
TEXT(5, "m")
TEXT(5, "mm0")
TEXT(1.5, """a;b"";0")
TEXT(12, "0\\.0")
# dates
NOW()
NOW() + 1/3
NOW() - 0.000001
NOW() - moment
moment - NOW()
day - moment
moment + 1E+10
moment + 1/86400000000
moment + 0.5/86400000000
moment + 1.5/86400000000
day + 0.9999
day - 0.5
TODAY() - day
DATE(9999, 12, 31) - DATE(1, 1, 1)
DATE(1900, 1, 1) + 1
moment = day
moment > day
day = DATE(2024, 1, 31)
MAX(moment, day)
MIN(day, moment, visits.on)
YEAR(45000.75)
DAY("20240131")
MONTH("2024-W05-3")
YEAR(" 2024-01-31 ")
YEAR("2024-01-31T10:00")
YEAR("2024-1-31")
YEAR(0.5)
YEAR(2958466)
YEAR(-1)
DATE(0, 1, 1)
DATE(1899, 12, 31)
DATE(1900, 2, 29)
DATE(2024, -1, 1)
DATE(2024, 1, -400)
DATE(2024, 1E+15, 1)
DATE(9999, 12, 32)
EDATE(DATE(2024, 2, 29), 12)
EDATE(DATE(2024, 3, 31), -1)
EDATE(day, 1E+15)
EOMONTH(DATE(1, 1, 15), -1)
EOMONTH(day, -24289)
DATEDIF(DATE(2024, 2, 29), DATE(2028, 2, 28), "YD")
DATEDIF(DATE(2024, 2, 29), DATE(2028, 2, 29), "Y")
DATEDIF(DATE(2024, 5, 31), DATE(2024, 7, 1), "MD")
DATEDIF(day, day, " ym ")
DATEDIF(day, moment, "D")
WEEKDAY(moment, 16)
WEEKDAY(day, 1.9)
WEEKDAY(day, blank)
NETWORKDAYS(day, day + 400, visits.on)
NETWORKDAYS(day, day, day)
NETWORKDAYS(day, day + 30, items.qty)
WORKDAY(day, -260)
WORKDAY(day, 7, holidays.day)
WORKDAY(moment, 1.9)
WORKDAY(DATE(9999, 12, 1), 30)
DAYS(moment, DATE(2024, 1, 1))
account.since
YEAR(account.since)
account.tier = "GOLD"
# aggregates, lists and conditions
SUM(ids)
AVERAGE(ids, 1)
COUNT(ids, items)
COUNTA(ids, none)
MAX(ids)
MIN(visits.on, 5)
SUMIF(items.qty, THIS.n > 5)
SUMIF(items.amount, amount)
COUNTIF(items, amount > qty)
COUNTIF(items.sku)
MAXIF(visits.on, on > TODAY() - 60)
MINIF(visits.on, ISBLANK(on))
AVERAGEIF(items.amount, sku IN ("a", "C"))
COUNTIF(alert, CONTAINS(status, "OP"))
SUMIF(n, TRUE)
COUNTIF(account, TRUE)
SUMIF(items.amount, 1/0)
items.amount
items
account
none
2 IN (ids)
9.5 IN (ids, 1/0)
NULL IN (ids)
"A" IN (items.sku)
items.qty = items.qty
items.qty = ids
ids <> ids
ids < 1
COALESCE(none.amount, 1)
ISBLANK(none)
AND(ids)
XOR(items.qty, TRUE)
BAND(moment, day, 1, 2)
BAND(s, "a", 1, 2)
BAND(TRUE, 1, 1, 2)
CONCAT(ids, visits.on, " ", moment)
CONCAT(items.amount)
THIS.n + 1
IF(THIS.n, items.qty)
CURRENT_USER()
SWITCH(day, DATE(2024, 1, 31), "same", "other")
IFS(1/0, 1, TRUE, 2)
IFS(NULL, 1)
'''
)

TABLES = {
    "test_functions.CASES": ([formula for formula, _ in CASES], FUNCTION_RECORD),
    "test_evaluator.OPERATORS": ([formula for formula, _ in OPERATORS], EVALUATOR_RECORD),
    "extras": (EXTRAS, EXTRA_RECORD),
}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_agree_with_python(node: Node, table: str) -> None:
    formulas, context = TABLES[table]
    wrong, count = disagreements(node, formulas, context)
    assert count >= 70
    assert not wrong, report(wrong)


# RIGHT past the end of the text is the whole text (Excel); Python once wrapped around here.
RIGHT_PAST_THE_END = ['RIGHT("abc", 4)', 'RIGHT("abc", 5)', 'RIGHT("中文", 3)', 'RIGHT("abc", 6)', 'RIGHT("", 1)']


def test_right_past_the_end_is_the_whole_text_in_js(node: Node) -> None:
    results = node.run([(parse(formula), "empty") for formula in RIGHT_PAST_THE_END], {"empty": DictContext({})})
    assert results == ["abc", "abc", "中文", "abc", ""]


def test_right_past_the_end_agrees_with_python(node: Node) -> None:
    wrong, _ = disagreements(node, RIGHT_PAST_THE_END, DictContext({}))
    assert not wrong, report(wrong)


def test_short_circuit_rows_agree(node: Node) -> None:
    for formula, data, _, _ in SHORT_CIRCUITS:
        wrong, _ = disagreements(node, [formula], DictContext(data))
        assert not wrong, report(wrong)


def _exact_steps(tree: Any, context: DictContext) -> int:
    """The fewest steps Python's evaluator needs for ``tree`` (found by bisection on max_steps)."""
    low, high = 0, 1 << 16
    while high - low > 1:
        middle = (low + high) // 2
        try:
            compile_expression(tree, Limits(max_steps=middle))(context)
            high = middle
        except ExprError as error:
            if error.code != "too_many_steps":
                return 0
            low = middle
    return high


def test_the_step_budget_matches_to_the_step(node: Node) -> None:
    checked = 0
    for formulas, context in TABLES.values():
        trees = [parse(formula) for formula in formulas]
        limited = [(tree, steps) for tree in trees if (steps := _exact_steps(tree, context)) > 1]
        cases = [(tree, "record", steps + shift) for tree, steps in limited for shift in (0, -1)]
        results = node.run_limited(cases, {"record": context})
        for (tree, _, steps), js in zip(cases, results, strict=True):
            python = python_result(tree, context, steps)
            assert same(python, js), f"{to_json(tree)} with max_steps={steps}: python {python!r}, js {js!r}"
            checked += 1
    assert checked > 400


def test_runaway_work_is_stopped_the_same_way(node: Node) -> None:
    rows = DictContext({"items": [{"qty": i} for i in range(1_000)]})
    many = '"aaaaaaaaaa"'
    for _ in range(8):
        many = f'SUBSTITUTE({many}, "a", "aaaaaaaaaa")'
    cases = {
        "SUM(items.qty)": 500,
        "COUNTIF(items, qty > 10 AND qty < 20)": 2_000,
        many: 0,
    }
    for formula, steps in cases.items():
        wrong, _ = disagreements(node, [formula], rows, steps)
        assert not wrong, report(wrong)
    million = '"aaaaaaaaaa"'  # 10 characters; 5 substitutions make exactly the limit, 1,000,000
    for _ in range(5):
        million = f'SUBSTITUTE({million}, "a", "aaaaaaaaaa")'
    for formula in (f"LEN({million})", f'CONCAT({million}, "x")', f'{million} & "x"', f"LEN({million} & NULL)"):
        wrong, _ = disagreements(node, [formula], rows)
        assert not wrong, report(wrong)
    assert node.run([(parse(f'CONCAT({million}, "x")'), "rows")], {"rows": rows}) == [{"$error": "too_long"}]


# -- random formulas --------------------------------------------------------------------------
QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _agree(node: Node, formula: str, context: DictContext, scope: Scope | None = None) -> None:
    wrong, _ = disagreements(node, [formula], context, scope=scope)
    assert not wrong, report(wrong)


@QUICK
@given(ARITHMETIC, NUMBERS, NUMBERS, NUMBERS)
def test_random_arithmetic_agrees(node: Node, formula: str, a: Any, b: Any, c: Any) -> None:
    _agree(node, f"0 + {formula}", DictContext({"a": a, "b": b, "c": c}))


def _writes_rows_as_text(formula: str) -> bool:
    """Whether a call puts a set of rows where a typed value is expected (Python would write its repr)."""
    return _puts_rows_in_a_value(parse(formula), {("items",)})


def _puts_rows_in_a_value(tree: Any, rows: set[tuple[str, ...]]) -> bool:
    """Whether a call in ``tree`` puts one of the paths ``rows`` (rows, records) where a typed value is expected."""
    for found in walk(tree):
        if isinstance(found, Call):
            function = FUNCTIONS[found.name]
            for index, argument in enumerate(found.args):
                param = function.param_at(index, len(found.args))
                if isinstance(argument, Ref) and argument.path in rows and param.types and param.shape != "many":
                    return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(_any_call())
def test_random_calls_agree(node: Node, formula: str) -> None:
    assume(not _writes_rows_as_text(formula))
    _agree(node, formula, EVALUATOR_RECORD)


# A typed generator: formulas of every function and operator over random record values. Lists
# (sets of rows) only go where a list is taken, as the checker demands: Python would otherwise
# write a list of rows with its own repr().
FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False).map(float),
    st.integers(min_value=-100_000, max_value=3_000_000).map(float),
    st.sampled_from([0.0, -0.0, 0.5, 2.5, -2.5, 0.1, 0.3, 1.005, 2.675, 1e15, 1e16, 1e-5, 5e-324, 45000.5]),
)
SPECIAL_TEXTS = [
    "",
    "abc",
    "ABC",
    " a  b ",
    "1,234.5",
    "50%",
    " 12 ",
    "TRUE",
    "false",
    "2024-02-29",
    "20240131",
    "Y",
    "md",
    "Straße",
    "STRASSE",
    "ı",
    "İ",
    "😀x😀",
    "中文字",
    "0.00",
    "#,##0",
    "0%",
    "yyyy-mm-dd",
    "h:mm AM/PM",
    "General",
    "1e3",
    "١٢",
    "a;b",
    '"q"',
    "\\",
    "0;(0);-",
    "dddd mmmm d",
    "-",
    "x",
    "%",
]
TEXTS = st.one_of(st.text(max_size=10), st.sampled_from(SPECIAL_TEXTS))
DATES = st.one_of(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.dates(),
)
MOMENTS = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 12, 30))


def _literal_text(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


LEAVES = {
    "number": st.one_of(
        st.sampled_from(["x", "y", "z", "n", "price", "blank", "0", "1", "2", "3", "7", "12", "0.5", "2.5"]),
        st.sampled_from(["1E+300", "1/0", "TRUE", '"3"', "-1", "1E-10", "45000", "2958465", "COUNT(items)"]),
        st.integers(min_value=0, max_value=10**6).map(str),
    ),
    "text": st.one_of(st.sampled_from(["s", "t", "name", "blank"]), TEXTS.map(_literal_text)),
    "date": st.sampled_from(["d", "e", "m", "day", "moment", "TODAY()", "NOW()", "DATE(2024, 2, 29)", "blank"]),
    "boolean": st.sampled_from(["TRUE", "FALSE", "blank", "x > y", "ISBLANK(s)", '"TRUE"', "0", "1/0"]),
}
LISTS = {
    "number": st.sampled_from(["items.amount", "items.qty", "none.amount", "ids"]),
    "date": st.sampled_from(["visits.on", "holidays.day", "none.on"]),
    "text": st.sampled_from(["items.sku", "alert.status"]),
    "boolean": st.sampled_from(["alert.done", "items.qty"]),
}
CONDITIONS = {  # a list, and conditions on its rows
    "items.amount": ["qty > 1", 'sku = "a"', "amount > THIS.n / 2", "ISBLANK(amount)", "qty IN (1, 3)", "1/0"],
    "items.qty": ["qty >= 2 AND NOT ISBLANK(sku)", "amount < 6", "TRUE", 'CONTAINS(sku, "c")'],
    "visits.on": ["on > TODAY() - 60", "ISBLANK(on)", "on >= THIS.d", "YEAR(on) = 2026"],
    "alert": ['alert_type = "risk"', "done", 'status IN ("open", "x") OR done', "NOT done"],
}
UNITS = ["Y", "M", "D", "MD", "YM", "YD", "yd", "X"]


def _call(name: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda args: f"{name}({', '.join(args)})")


def _grammar(depth: int) -> dict[str, st.SearchStrategy[str]]:
    if depth == 0:
        return LEAVES
    sub = _grammar(depth - 1)
    num, text, date, boolean = sub["number"], sub["text"], sub["date"], sub["boolean"]
    anything = st.one_of(num, text, date, boolean)
    small = st.integers(min_value=-3, max_value=20).map(str)
    numbers = st.one_of(num, LISTS["number"])
    dates = st.one_of(date, LISTS["date"], LISTS["number"])
    lists = st.sampled_from(sorted(CONDITIONS))
    conditional = lists.flatmap(lambda source: st.tuples(st.just(source), st.sampled_from(CONDITIONS[source])))

    def infix(left: st.SearchStrategy[str], ops: Sequence[str], right: st.SearchStrategy[str]) -> Any:
        return st.tuples(left, st.sampled_from(ops), right).map(lambda p: f"({p[0]} {p[1]} {p[2]})")

    number = st.one_of(
        sub["number"],
        infix(num, ["+", "-", "*", "/", "^"], num),
        infix(date, ["-"], date),
        num.map(lambda x: f"-{x}"),
        num.map(lambda x: f"{x}%"),
        st.tuples(
            st.sampled_from(["ROUND", "ROUNDUP", "ROUNDDOWN", "MOD", "POWER", "CEILING", "FLOOR"]), num, small
        ).map(lambda p: f"{p[0]}({p[1]}, {p[2]})"),
        st.tuples(st.sampled_from(["ABS", "SQRT", "INT", "CEILING", "FLOOR", "VALUE", "LEN"]), anything).map(
            lambda p: f"{p[0]}({p[1]})"
        ),
        st.tuples(st.sampled_from(["SUM", "AVERAGE", "MIN", "MAX", "COUNT", "COUNTA"]), numbers, numbers).map(
            lambda p: f"{p[0]}({p[1]}, {p[2]})"
        ),
        st.tuples(st.sampled_from(["YEAR", "MONTH", "DAY", "WEEKDAY"]), date).map(lambda p: f"{p[0]}({p[1]})"),
        _call("WEEKDAY", date, st.sampled_from(["1", "2", "3", "11", "14", "17", "4", "blank"])),
        _call("DATEDIF", date, date, st.sampled_from(UNITS).map(_literal_text)),
        _call("DAYS", date, date),
        _call("NETWORKDAYS", date, date, dates),
        _call("FIND", text, text),
        _call("FIND", text, text, small),
        _call("IF", boolean, num, num),
        _call("IFS", boolean, num, boolean, num),
        _call("SWITCH", num, num, num, num),
        _call("BAND", num, num, num, num, num, num),
        _call("COALESCE", num, num),
        conditional.map(lambda p: f"SUMIF({p[0]}, {p[1]})" if p[0] != "alert" else f"COUNTIF(alert, {p[1]})"),
        conditional.map(lambda p: f"AVERAGEIF({p[0]}, {p[1]})" if p[0] != "alert" else "COUNTIF(alert.done)"),
        st.tuples(st.sampled_from(["MAXIF", "MINIF"]), conditional)
        .filter(lambda p: p[1][0] != "alert")
        .map(lambda p: f"{p[0]}({p[1][0]}, {p[1][1]})"),
    )
    text_ = st.one_of(
        sub["text"],
        infix(anything, ["&"], anything),
        _call("CONCAT", anything, st.one_of(anything, LISTS["text"], LISTS["number"], LISTS["date"])),
        st.tuples(st.sampled_from(["LEFT", "RIGHT"]), text, small).map(lambda p: f"{p[0]}({p[1]}, {p[2]})"),
        st.tuples(st.sampled_from(["LEFT", "RIGHT", "UPPER", "LOWER", "TRIM"]), anything).map(
            lambda p: f"{p[0]}({p[1]})"
        ),
        _call("MID", text, small, small),
        _call("SUBSTITUTE", text, text, text),
        _call("SUBSTITUTE", text, text, text, small),
        _call("TEXT", st.one_of(num, date, text), text),
        _call("IF", boolean, text, text),
    )
    date_ = st.one_of(
        sub["date"],
        _call("DATE", num, num, num),
        _call("DATE", st.integers(1890, 2100).map(str), st.integers(-13, 25).map(str), st.integers(-40, 70).map(str)),
        st.tuples(st.sampled_from(["EDATE", "EOMONTH", "WORKDAY"]), date, num).map(lambda p: f"{p[0]}({p[1]}, {p[2]})"),
        _call("WORKDAY", date, small, dates),
        infix(date, ["+", "-"], num),
        st.tuples(st.sampled_from(["MIN", "MAX"]), dates, date).map(lambda p: f"{p[0]}({p[1]}, {p[2]})"),
        _call("IF", boolean, date, date),
    )
    boolean_ = st.one_of(
        sub["boolean"],
        infix(num, ["=", "<>", "<", "<=", ">", ">="], num),
        infix(text, ["=", "<>", "<", ">="], text),
        infix(date, ["=", "<", ">="], date),
        infix(anything, ["=", "<>", "<"], anything),
        infix(boolean, ["AND", "OR"], boolean),
        boolean.map(lambda x: f"NOT {x}"),
        st.tuples(st.sampled_from(["AND", "OR", "XOR"]), boolean, st.one_of(boolean, LISTS["boolean"])).map(
            lambda p: f"{p[0]}({p[1]}, {p[2]})"
        ),
        _call("ISBLANK", anything),
        _call("CONTAINS", text, text),
        st.tuples(anything, st.sampled_from(["IN", "NOT IN"]), anything, st.one_of(anything, LISTS["number"])).map(
            lambda p: f"{p[0]} {p[1]} ({p[2]}, {p[3]})"
        ),
    )
    return {"number": number, "text": text_, "date": date_, "boolean": boolean_}


FORMULAS = st.one_of(*_grammar(3).values())


@st.composite
def _random_record(draw: st.DrawFn) -> DictContext:
    values = {
        "x": draw(FLOATS),
        "y": draw(st.one_of(FLOATS, NUMBERS)),
        "z": draw(st.integers(min_value=-(10**12), max_value=10**12)),
        "s": draw(TEXTS),
        "t": draw(TEXTS),
        "d": draw(DATES),
        "e": draw(st.one_of(DATES, st.none())),
        "m": draw(MOMENTS),
        "ids": [7, 9.5, None],
    }
    return DictContext({**FUNCTION_RECORD.data, **values}, user=7, clock=draw(MOMENTS))


# The types of the random record's fields ("blank" stands for every type, so its type is unknown):
# with them, a blank "e" in date arithmetic is a blank date on both sides.
RANDOM_SCOPE = DictScope(
    {
        **dict.fromkeys(("x", "y", "z", "n", "price"), NUMBER),
        **dict.fromkeys(("s", "t", "name"), TEXT),
        **dict.fromkeys(("d", "e", "day"), DATE),
        **dict.fromkeys(("m", "moment"), DATETIME),
        "blank": ANY,
    }
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(FORMULAS, _random_record(), st.booleans())
def test_random_typed_formulas_agree(node: Node, formula: str, context: DictContext, typed: bool) -> None:
    _agree(node, formula, context, RANDOM_SCOPE if typed else None)


NUMBER_FORMULAS = _formulas(
    """
x & ""
y & ""
ROUND(x, k)
ROUNDUP(x, k)
ROUNDDOWN(x, k)
ROUND(x / y, k)
MOD(x, y)
CEILING(x, y)
FLOOR(x, y)
CEILING(x)
x = y
x < y
x * y = y * x
x + y
x / y
x ^ k
y ^ (1 / k)
INT(x)
SQRT(x)
VALUE(x & "")
TEXT(x, f)
TEXT(y, f)
TEXT(x, "yyyy-mm-dd hh:mm:ss")
DATE(2000, 1, 1) + x
m + x
YEAR(x)
BAND(x, y, 1, 0)
MAX(x, y, k)
SUM(x, y)
"""
)
FORMATS = st.sampled_from(
    ["0", "0.00", "#,##0.00", "0%", "0.0%", "#.##", "0.###", "#,##0,", "0;(0);-", "?.?", "00.0", "0.0E0", "General"]
)


@settings(max_examples=200, deadline=None)
@given(FLOATS, st.one_of(FLOATS, NUMBERS), st.integers(min_value=-20, max_value=20), FORMATS, MOMENTS)
def test_random_numbers_round_and_format_alike(
    node: Node, x: float, y: Any, k: int, format_code: str, moment: dt.datetime
) -> None:
    context = DictContext({"x": x, "y": y, "k": k, "f": format_code, "m": moment})
    wrong, _ = disagreements(node, NUMBER_FORMULAS, context)
    assert not wrong, report(wrong)


# -- a blank date in date arithmetic (types.py): the browser gets the static types in the AST ----

DATED_SCOPE = DictScope({"d": DATE, "e": DATE, "m": DATETIME, "n": NUMBER, "b": ANY})
D = dt.date
NOON = "2024-02-01T12:00:00"
BLANK_DATES = [  # (formula, {record name: encoded result})
    ("d + 30", {"both": {"$date": "2024-03-01"}, "no_d": None, "none": None}),
    ("30 + d", {"both": {"$date": "2024-03-01"}, "no_d": None, "none": None}),
    ("d - n", {"both": {"$date": "2024-01-29"}, "no_d": None, "none": None}),
    ("m + 1", {"both": {"$datetime": NOON}, "no_d": {"$datetime": NOON}, "none": None}),
    ("ISBLANK(d + 30)", {"both": False, "no_d": True, "none": True}),
    ("d - e", {"both": 30.0, "no_d": None, "none": None}),
    ("e - d", {"both": -30.0, "no_d": None, "none": None}),
    ("ISBLANK(d - e)", {"both": False, "no_d": False, "none": False}),
    ("COALESCE(d - e, -1) + 1", {"both": 31.0, "no_d": 0.0, "none": 0.0}),
    ("(d - e) + 1", {"both": 31.0, "no_d": None, "none": None}),
    ("m - e", {"both": 30.5, "no_d": 30.5, "none": None}),
    ("d - NULL", {"both": {"$date": "2024-01-31"}, "no_d": None, "none": None}),
    ("d + n", {"both": {"$date": "2024-02-02"}, "no_d": None, "none": None}),
    ("n + 1", {"both": 3.0, "no_d": 3.0, "none": 1.0}),
    ("IF(n > 0, d, NULL) + 1", {"both": {"$date": "2024-02-01"}, "no_d": None, "none": None}),
    ("MAX(d, e) - MIN(d, e)", {"both": 30.0, "no_d": 0.0, "none": None}),
    ("d + b", {"both": {"$date": "2024-01-31"}, "no_d": None, "none": None}),
    ("b - d", {"both": None, "no_d": None, "none": None}),
    ("d - b", {"both": {"$date": "2024-01-31"}, "no_d": None, "none": None}),  # b's type is unknown: Excel's 0
]
DATED_RECORDS = {
    "both": DictContext({"d": D(2024, 1, 31), "e": D(2024, 1, 1), "m": dt.datetime(2024, 1, 31, 12), "n": 2}),
    "no_d": DictContext({"e": D(2024, 1, 1), "m": dt.datetime(2024, 1, 31, 12), "n": 2}),
    "none": DictContext({}),
}


def test_a_blank_date_stays_unknown_in_python_and_js(node: Node) -> None:
    wrong = []
    for formula, expected in BLANK_DATES:
        tree = parse(formula)
        for name, context in DATED_RECORDS.items():
            python = python_result(tree, context, scope=DATED_SCOPE)
            js = node.run([(tree, "record")], {"record": context}, scope=DATED_SCOPE)[0]
            if not (same(expected[name], python) and same(expected[name], js)):
                wrong.append(f"{formula} on {name}: expected {expected[name]!r}, python {python!r}, js {js!r}")
    assert not wrong, report(wrong)


def test_the_ast_carries_which_operands_are_dates() -> None:
    tree = parse("(d + 1) - e + n")
    typed, untyped = to_json(tree, DATED_SCOPE), to_json(tree)
    assert typed["l"]["dates"] == [True, True] and typed["l"]["l"]["dates"] == [True, False]
    assert "dates" not in typed and "dates" not in untyped["l"]
    assert to_json(parse("TODAY() - d"))["dates"] == [True, False]  # typed by itself, d unknown


# -- infinities, NaN and aggregates of one record, in hand-built trees (test_totality.py) ----------


# test_totality's record, but JSON has no signalling NaN, and rows written as text (only ill-typed
# trees do) are Python's repr, which the browser mimics for floats only (2.0, not 2; not inf).
FLOAT_ROWS = [{"qty": 2.0, "amount": 10.5, "day": dt.date(2024, 2, 29)}, {"qty": None, "amount": 1.5}]
ODD_RECORD = DictContext(
    {key: value for key, value in TOTALITY_DATA.items() if key != "snan"}
    | {"items": FLOAT_ROWS, "account": {"tier": "gold", "items": FLOAT_ROWS}}
)


def test_non_finite_literals_are_errors_in_js_too(node: Node) -> None:
    cases: list[tuple[Any, str]] = []
    for function in FUNCTIONS.values():
        for count in counts(function):
            for position, odd in itertools.product(range(count), ODD):
                for filler in (ORDINARY[0], ORDINARY[3], ORDINARY[9]):
                    args = [filler] * count
                    args[position] = odd
                    cases.append((totality_call(function.name, *args), "record"))
    for op, value, other in itertools.product(BINARY, NON_FINITE, ORDINARY):
        cases += [(Binary(op, lit(value), other, 0, 1), "record"), (Binary(op, other, lit(value), 0, 1), "record")]
    cases += [(Unary(op, lit(value), 0, 1), "record") for op, value in itertools.product(UNARY, NON_FINITE)]
    context = ODD_RECORD
    results = node.run(cases, {"record": context})
    wrong = [
        f"{to_json(tree)}: python {python!r}, js {js!r}"
        for (tree, _), js in zip(cases, results, strict=True)
        if not same(python := python_result(tree, context), js) or "$crash" in json.dumps(js)
    ]
    assert len(cases) > 5_000
    assert not wrong, report(wrong)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(TOTALITY_TREES)
def test_random_hand_built_trees_agree(node: Node, tree: Any) -> None:
    js = node.run([(tree, "record")], {"record": ODD_RECORD})[0]
    python = python_result(tree, ODD_RECORD)
    assert same(python, js) and "$crash" not in json.dumps(js), f"{to_json(tree)}: python {python!r}, js {js!r}"
