"""Date, date-time and time field types."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from engine.storage.spec import ColumnSpec
from forms.fields.base import COMPARE_OPERATORS, ORDERED_AGGREGATES, FieldBase, ModelCompiler, register


def _to_month(value: dt.date) -> dt.date:
    return value.replace(day=1)


def _to_year(value: dt.date) -> dt.date:
    return value.replace(month=1, day=1)


_GRANULARITY = {"month": AfterValidator(_to_month), "year": AfterValidator(_to_year)}


class _Temporal(FieldBase):
    operators = COMPARE_OPERATORS
    aggregates = ORDERED_AGGREGATES

    def to_json(self, value: Any) -> Any:
        return value.isoformat() if value is not None else None


@register
class DateField(_Temporal):
    """A calendar date; ``granularity`` month or year stores the first day of that period."""

    type: Literal["date"]
    expr_type = "date"
    granularity: Literal["day", "month", "year"] = "day"
    min: dt.date | None = None
    max: dt.date | None = None

    def value_type(self, compile_model: ModelCompiler) -> Any:
        rounding = _GRANULARITY.get(self.granularity)
        bounded = Annotated[dt.date, Field(ge=self.min, le=self.max)]
        return Annotated[bounded, rounding] if rounding else bounded

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "date")


@register
class DateTimeField(_Temporal):
    """A point in time (ISO 8601; stored without time zone, as given)."""

    type: Literal["datetime"]
    expr_type = "datetime"

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return dt.datetime

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "datetime")


@register
class TimeField(_Temporal):
    """A time of day."""

    type: Literal["time"]
    expr_type = "time"

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return dt.time

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "time"}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "time")
