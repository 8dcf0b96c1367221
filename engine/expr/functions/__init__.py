"""The functions of the expression language, registered once in :data:`FUNCTIONS`.

Importing this package registers every built-in function (the modules register on import).
"""

from engine.expr.functions import aggregates, dates, logic, math, text
from engine.expr.functions.registry import FUNCTIONS, Function, Param, register

__all__ = ["FUNCTIONS", "Function", "Param", "aggregates", "dates", "logic", "math", "register", "text"]
