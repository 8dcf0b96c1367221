"""Which functions compile to SQL: :data:`SQL_FUNCTIONS` maps a registered name to its translation.

A function missing here (aggregates over lists, TEXT, VALUE, EDATE, NETWORKDAYS...) raises
``ExprError("not_in_sql")`` with the call's span, and the caller evaluates in Python. The
registry's own ``sql`` slot is left empty: this mapping is the SQL backend's part.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.expr.nodes import Call
from engine.storage.expr_sql import dates, logic, numbers, texts
from engine.storage.expr_sql.dialect import Env, Translator
from engine.storage.expr_sql.values import Sql


def _logical(kind: str) -> Translator:
    def translate(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
        return logic.logical(kind, args, call.args)

    translate.__doc__ = f"{kind} of conditions."
    return translate


def _not(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
    """NOT."""
    return logic.not_(args[0], call.args[0])


def _extreme(pick: str) -> Translator:
    def translate(env: Env, call: Call, args: Sequence[Sql]) -> Sql:
        return logic.extreme(env, call, args, pick)

    translate.__doc__ = f"{pick.upper()} of single numbers or dates."
    return translate


SQL_FUNCTIONS: dict[str, Translator] = {
    "IF": logic.if_,
    "IFS": logic.ifs,
    "SWITCH": logic.switch,
    "AND": _logical("AND"),
    "OR": _logical("OR"),
    "XOR": _logical("XOR"),
    "NOT": _not,
    "ISBLANK": logic.isblank,
    "COALESCE": logic.coalesce,
    "BAND": logic.band,
    "SUM": logic.sum_,
    "MIN": _extreme("min"),
    "MAX": _extreme("max"),
    "ROUND": numbers.ROUND,
    "ROUNDUP": numbers.ROUNDUP,
    "ROUNDDOWN": numbers.ROUNDDOWN,
    "ABS": numbers.abs_,
    "MOD": numbers.mod,
    "POWER": numbers.power,
    "SQRT": numbers.sqrt,
    "INT": numbers.int_,
    "CEILING": numbers.CEILING,
    "FLOOR": numbers.FLOOR,
    "CONCAT": texts.concat,
    "LEFT": texts.left,
    "RIGHT": texts.right,
    "MID": texts.mid,
    "LEN": texts.len_,
    "UPPER": texts.upper,
    "LOWER": texts.lower,
    "TRIM": texts.trim,
    "SUBSTITUTE": texts.substitute,
    "FIND": texts.find,
    "CONTAINS": texts.contains,
    "DATE": dates.date,
    "YEAR": dates.YEAR,
    "MONTH": dates.MONTH,
    "DAY": dates.DAY,
    "DAYS": dates.days,
    "TODAY": dates.today,
    "CURRENT_USER": dates.current_user,
}
