"""The expression language: one Excel-like formula language for the whole engine.

Pipeline (DESIGN.md decision 4): text -> tokens (``lexer``) -> AST with source spans
(``parser``, ``nodes``) -> static type check against a scope (``checker``) -> backends
(Python closures in ``evaluator``, SQLAlchemy in ``sql``, a JSON AST for the browser).
"""

from engine.expr.errors import ExprError, Limits
from engine.expr.parser import parse

__all__ = ["ExprError", "Limits", "parse"]
