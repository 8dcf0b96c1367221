"""The expression language: one Excel-like formula language for the whole engine.

Pipeline (DESIGN.md decision 4): text -> tokens (``lexer``) -> AST with source spans
(``parser``, ``nodes``) -> static type check against a scope (``checker``) -> backends
(Python closures in ``evaluator``, SQLAlchemy in ``sql``, a JSON AST for the browser).
"""

from __future__ import annotations

from typing import Any

from engine.expr.checker import check
from engine.expr.errors import ExprError, Limits
from engine.expr.evaluator import compile_expression
from engine.expr.parser import parse
from engine.expr.scope import Context, DictContext, Scope

__all__ = ["ExprError", "Limits", "check", "compile_expression", "evaluate", "parse"]


def evaluate(text: str, context: Context | None = None, *, scope: Scope | None = None) -> Any:
    """Parse, check and compile against ``scope`` (when given), and run ``text`` once.

    A convenience for tests and one-off calls; callers that run a formula often keep the
    result of :func:`compile_expression`.

    Raises:
        ExprError: a syntax error, the first problem the check finds, or a run-time limit.
    """
    node = parse(text)
    if scope is not None:
        _, errors = check(node, scope)
        if errors:
            raise errors[0]
    return compile_expression(node, scope=scope)(context if context is not None else DictContext({}))
