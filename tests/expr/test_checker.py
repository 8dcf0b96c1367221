"""The static check: every class of problem with its exact span and hint; valid KAM formulas pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr import ExprError, check, parse
from engine.expr.scope import DictScope
from engine.expr.types import ANY, BLANK, BOOLEAN, DATE, DATETIME, NUMBER, TEXT, USER, Type

ITEMS = DictScope({"amount": NUMBER, "qty": NUMBER, "done": BOOLEAN})
ALERT = DictScope({"alert_type": TEXT, "status": TEXT, "owner": USER})
MONTHLY = DictScope({"revenue": NUMBER, "period": DATE})
TEAM = DictScope({"user": USER})
SETTINGS = DictScope(
    {"w_history": NUMBER, "w_potential": NUMBER, "w_strategic": NUMBER, "cut_core": NUMBER}, many=False
)
ACCOUNT = DictScope(
    {
        "name": TEXT,
        "tier": TEXT,
        "tier_suggested": TEXT,
        "score_history": NUMBER,
        "score_potential": NUMBER,
        "score_strategic": NUMBER,
        "kav_score": NUMBER,
        "revenue_12m": NUMBER,
        "customer_since": DATE,
        "last_contact": DATETIME,
        "flag": BOOLEAN,
        "rm": USER,
        "items": ITEMS,
        "alert": ALERT,
        "account_financial_monthly": MONTHLY,
        "account_team_member": TEAM,
        "kam_settings": SETTINGS,
    }
)

VALID = [
    ("0.4 * score_history + 0.35 * score_potential + 0.25 * score_strategic", NUMBER),
    ('IFS(kav_score >= 80, "strategic", kav_score >= 65, "core", TRUE, "general")', TEXT),
    ("SUMIF(account_financial_monthly.revenue, period > EDATE(TODAY(), -12))", NUMBER),
    ('COUNTIF(alert, alert_type = "risk" AND status IN ("open", "acknowledged"))', NUMBER),
    ("kam_settings.w_history * score_history + kam_settings.w_potential * score_potential", NUMBER),
    ('IFS(kav_score >= kam_settings.cut_core, "core", TRUE, "general")', TEXT),
    ("ROUND(DAYS(TODAY(), customer_since) / 365, 1)", NUMBER),
    ("BAND(revenue_12m, 50000000, 100, 20000000, 80, 10000000, 60, 3000000, 40, 0, 20)", NUMBER),
    ("ROUND(kam_settings.w_history + kam_settings.w_potential + kam_settings.w_strategic, 4) = 1", BOOLEAN),
    ("rm = CURRENT_USER() OR CURRENT_USER() IN (account_team_member.user)", BOOLEAN),
    ("customer_since <= TODAY()", BOOLEAN),
    ("last_contact > customer_since", BOOLEAN),
    ("tier <> tier_suggested", BOOLEAN),
    ("IF(kav_score > 0, kav_score, NULL)", NUMBER),
    ("MAX(account_financial_monthly.period)", DATE),
    ("TODAY() - customer_since", NUMBER),
    ("customer_since + 30", DATE),
    ('"KAV " & TEXT(kav_score, "0.0") & " since " & customer_since', TEXT),
    ("COUNT(alert) + COUNTA(items.qty)", NUMBER),
    ("SUMIF(items.amount, amount > THIS.kav_score AND NOT done)", NUMBER),
    ("COUNTIF(alert, owner = THIS.rm)", NUMBER),
    ("AND(items.done) OR flag", BOOLEAN),
    ("THIS", Type("record")),
    ("NULL", BLANK),
    ("COALESCE(last_contact, customer_since)", DATETIME),
    ("IF(flag, 1, 0) * 100%", NUMBER),
]


@pytest.mark.parametrize(("formula", "expected"), VALID, ids=[f for f, _ in VALID])
def test_valid_formulas_pass(formula: str, expected: Type) -> None:
    found, errors = check(parse(formula), ACCOUNT)
    assert [e.message for e in errors] == []
    assert found == expected


ERRORS = [
    # formula, code, the underlined text, a part of the hint (None: no hint)
    ("scor_history + 1", "unknown_name", "scor_history", "did you mean 'score_history'?"),
    ("items.amont * 2", "unknown_name", "amont", "did you mean 'amount'?"),
    ("THIS.nmae", "unknown_name", "nmae", "did you mean 'name'?"),
    ("kam_settings.w_histroy", "unknown_name", "w_histroy", None),
    ("xyz", "unknown_name", "xyz", "the names here are: account_financial_monthly, account_team_member, alert,"),
    ("items.xyz", "unknown_name", "xyz", "the names here are: amount, done, qty"),
    ("today + 1", "unknown_name", "today", "TODAY is a function: write TODAY()"),
    ("todya + 1", "unknown_name", "todya", "did you mean TODAY()?"),
    ("SUMIF(items.amount, qty > kav_score)", "unknown_name", "kav_score", "write THIS.kav_score"),
    ("SUMM(1, 2)", "unknown_function", "SUMM", "did you mean SUM()?"),
    ("Countifs(alert, TRUE)", "unknown_function", "Countifs", "did you mean COUNTIF()?"),
    ("score_history(1)", "unknown_function", "score_history", "is a field, not a function"),
    ('__import__("os")', "unknown_function", "__import__", None),
    ("ROUND(1)", "wrong_arity", "ROUND(1)", "ROUND(number, num_digits)"),
    ("TODAY(1)", "wrong_arity", "TODAY(1)", "TODAY()"),
    ("IFS(flag, 1, flag)", "wrong_arity", "IFS(flag, 1, flag)", "IFS(logical_test, value_if_true, ...)"),
    ("ROUND(name, 2)", "wrong_type", "name", "VALUE(...)"),
    ("LEFT(customer_since, 4)", "wrong_type", "customer_since", 'TEXT(date, "yyyy-mm-dd")'),
    ("YEAR(kav_score)", "wrong_type", "kav_score", "DATE(year, month, day)"),
    ("SUM(alert)", "wrong_type", "alert", "name a column of the rows"),
    ("COUNTIF(alert, status)", "wrong_type", "status", "write a condition"),
    ('DATEDIF(customer_since, TODAY(), "W")', "bad_argument", '"W"', None),
    ("WEEKDAY(customer_since, 9)", "bad_argument", "9", None),
    ("customer_since = 5", "incompatible_comparison", "customer_since = 5", "compare a date with a date"),
    ("kav_score > customer_since", "incompatible_comparison", "kav_score > customer_since", "a date with a date"),
    ('kav_score = "80"', "incompatible_comparison", 'kav_score = "80"', "without quotes"),
    ("flag = 1", "incompatible_comparison", "flag = 1", "TRUE = 1 is FALSE"),
    ('tier IN ("core", 1)', "incompatible_comparison", "1", "without quotes"),
    ("rm < CURRENT_USER()", "wrong_type", "rm < CURRENT_USER()", None),
    ("name + 1", "wrong_type", "name", "use & to join text"),
    ("2 * name", "wrong_type", "name", "VALUE(...)"),
    ("5 - customer_since", "wrong_type", "customer_since", "dates only add or subtract days"),
    ("customer_since * 2", "wrong_type", "customer_since", "dates only add or subtract days"),
    ("-name", "wrong_type", "name", None),
    ("NOT name", "wrong_type", "name", None),
    ("flag AND name", "wrong_type", "name", "write a condition"),
    ("items.amount + 1", "list_needs_aggregate", "items.amount", "SUM(...)"),
    ("ROUND(items.amount, 1)", "list_needs_aggregate", "items.amount", "SUM(...)"),
    ("items.qty > 5", "list_needs_aggregate", "items.qty", "SUM(...)"),
    ("SUMIF(kav_score, TRUE)", "not_a_list", "kav_score", "items.amount"),
    ("COUNTIF(name, TRUE)", "not_a_list", "name", "items.amount"),
    ('IF(flag, 1, "")', "mixed_types", '""', "NULL"),
    ("IF(flag, 1)", "mixed_types", "IF(flag, 1)", "NULL"),
    ('IFS(flag, "a", TRUE, 1)', "mixed_types", "1", "the same type"),
    ("COALESCE(kav_score, name)", "mixed_types", "name", "the same type"),
]


@pytest.mark.parametrize(("formula", "code", "underlined", "hint"), ERRORS, ids=[e[0] for e in ERRORS])
def test_each_problem_has_a_code_a_span_and_a_hint(formula: str, code: str, underlined: str, hint: str | None) -> None:
    _, errors = check(parse(formula), ACCOUNT)
    assert [e.code for e in errors] == [code], [str(e) for e in errors]
    error = errors[0]
    assert formula[error.start : error.end] == underlined
    assert error.column == formula.index(underlined) + 1
    if hint is None:
        assert error.hint is None
    else:
        assert error.hint is not None and hint in error.hint


def test_all_problems_are_reported_at_once_in_order() -> None:
    formula = "scor_history + nme + SUMM(1) + ROUND(name)"
    _, errors = check(parse(formula), ACCOUNT)
    found = [(e.code, formula[e.start : e.end]) for e in errors]
    assert found == [
        ("unknown_name", "scor_history"),
        ("unknown_name", "nme"),
        ("unknown_function", "SUMM"),
        ("wrong_arity", "ROUND(name)"),
    ]


def test_arguments_of_a_wrong_call_are_still_checked() -> None:
    _, errors = check(parse("ROUND(scor_history)"), ACCOUNT)
    assert [e.code for e in errors] == ["wrong_arity", "unknown_name"]


def test_a_path_written_with_spaces_is_underlined_whole() -> None:
    formula = "items . amont"
    _, errors = check(parse(formula), ACCOUNT)
    assert [(e.code, formula[e.start : e.end]) for e in errors] == [("unknown_name", "items . amont")]


EXPECTATIONS = [
    # formula, the type the field needs, the error code (None: it fits)
    ('"text"', NUMBER, "wrong_result_type"),
    ("kav_score", TEXT, "wrong_result_type"),
    ("kav_score > 1", NUMBER, "wrong_result_type"),
    ("kav_score", BOOLEAN, "wrong_result_type"),
    ("items.amount", NUMBER, "wrong_result_type"),
    ("NOW()", DATE, "wrong_result_type"),
    ("kav_score * 2", NUMBER, None),
    ("kav_score / 100", Type("percent"), None),
    ("revenue_12m", Type("currency"), None),
    ("TODAY()", DATETIME, None),
    ("NULL", DATE, None),
    ("kav_score > 1", BOOLEAN, None),
    ("items.amount", NUMBER.as_many(), None),
    ("rm", USER, None),
    ("kav_score", ANY, None),
]


@pytest.mark.parametrize(("formula", "expect", "code"), EXPECTATIONS)
def test_the_result_must_fit_the_field(formula: str, expect: Type, code: str | None) -> None:
    _, errors = check(parse(formula), ACCOUNT, expect=expect)
    assert [e.code for e in errors] == ([code] if code else [])
    if code:
        assert (errors[0].start, errors[0].end) == (0, len(formula))


def test_a_text_formula_for_a_number_field_says_what_to_do() -> None:
    _, errors = check(parse('"12" & "3"'), ACCOUNT, expect=NUMBER)
    assert errors[0].message == "the formula gives text, but a number is needed here"
    assert errors[0].hint == "use VALUE(...) to read a number from text"


def test_a_condition_of_a_row_without_fields_reports_the_name() -> None:
    _, errors = check(parse("COUNTIF(kav_score, qty > 1)"), ACCOUNT)
    assert [e.code for e in errors] == ["not_a_list", "unknown_name"]


def test_long_chains_are_checked_without_deep_recursion() -> None:
    found, errors = check(parse("kav_score" + "+1" * 2_400), ACCOUNT)  # a tree 2,400 levels deep
    assert (found, errors) == (NUMBER, [])
    found, errors = check(parse("1" + "%" * 3_000), ACCOUNT)
    assert (found, errors) == (NUMBER, [])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='()+-*/^&%=<>,." abnIFSUMTRE0123456789_', max_size=60))
def test_checking_never_crashes(text: str) -> None:
    try:
        node = parse(text)
    except ExprError:
        return
    found, errors = check(node, ACCOUNT, expect=NUMBER)
    assert isinstance(found, Type)
    assert all(isinstance(e, ExprError) and 0 <= e.start < e.end <= len(text) for e in errors)
