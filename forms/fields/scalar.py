"""Text, number-like and boolean field types."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from engine.storage.spec import ColumnSpec
from forms.fields.base import (
    COMPARE_OPERATORS,
    COUNT_AGGREGATES,
    NUMERIC_AGGREGATES,
    TEXT_OPERATORS,
    FieldBase,
    ModelCompiler,
    WholeNumber,
    is_simple_pattern,
    register,
)

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-]{2,30}$"
URL_PATTERN = r"^https?://[^\s]+$"


class _TextLike(FieldBase):
    operators = TEXT_OPERATORS
    aggregates = COUNT_AGGREGATES
    default_max_length: ClassVar[int] = 255
    fixed_pattern: ClassVar[str | None] = None

    min_length: Annotated[int, Field(ge=0)] | None = None
    max_length: Annotated[int, Field(ge=1, le=1_000_000)] | None = None

    @property
    def effective_max_length(self) -> int:
        return self.max_length or self.default_max_length

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return Annotated[
            str,
            StringConstraints(
                min_length=self.min_length, max_length=self.effective_max_length, pattern=self._pattern()
            ),
        ]

    def _pattern(self) -> str | None:
        return self.fixed_pattern

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": self.effective_max_length}
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if pattern := self._pattern():
            schema["pattern"] = pattern
        return schema

    def column_kind(self) -> ColumnSpec:
        if self.effective_max_length <= 1000:
            return ColumnSpec(self.key, "string", length=self.effective_max_length)
        return ColumnSpec(self.key, "text")


@register
class TextField(_TextLike):
    """Single-line text, with optional length limits and a regular-expression pattern."""

    type: Literal["text"]
    expr_type = "text"
    pattern: str | None = None

    def _pattern(self) -> str | None:
        return self.pattern

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None and not is_simple_pattern(value):
            raise ValueError(f"'{value}' is not a valid regular expression")
        return value


@register
class TextareaField(_TextLike):
    """Multi-line plain text."""

    type: Literal["textarea"]
    expr_type = "text"
    default_max_length: ClassVar[int] = 10_000


@register
class RichTextField(_TextLike):
    """Formatted text stored as HTML (sanitised when rendered)."""

    type: Literal["rich_text"]
    expr_type = "text"
    default_max_length: ClassVar[int] = 100_000


@register
class EmailField(_TextLike):
    """An e-mail address."""

    type: Literal["email"]
    expr_type = "text"
    fixed_pattern: ClassVar[str | None] = EMAIL_PATTERN


@register
class PhoneField(_TextLike):
    """A phone number: digits with optional +, spaces, dashes and brackets."""

    type: Literal["phone"]
    expr_type = "text"
    default_max_length: ClassVar[int] = 40
    fixed_pattern: ClassVar[str | None] = PHONE_PATTERN


@register
class UrlField(_TextLike):
    """An http(s) address."""

    type: Literal["url"]
    expr_type = "text"
    default_max_length: ClassVar[int] = 2000
    fixed_pattern: ClassVar[str | None] = URL_PATTERN


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # a BIGINT column
DECIMAL_LIMIT = Decimal(10) ** 20  # 20 digits before the point in a NUMERIC(20 + scale, scale) column


def _quantizer(decimals: int) -> AfterValidator:
    exponent = Decimal(1).scaleb(-decimals)

    def quantize(value: Decimal) -> Decimal:
        return value.quantize(exponent, rounding=ROUND_HALF_UP)

    return AfterValidator(quantize)


class _NumberLike(FieldBase):
    operators = COMPARE_OPERATORS
    aggregates = NUMERIC_AGGREGATES
    default_decimals: ClassVar[int] = 0

    decimals: Annotated[int, Field(ge=0, le=10)] | None = None
    min: float | None = None
    max: float | None = None

    @property
    def scale(self) -> int:
        return self.default_decimals if self.decimals is None else self.decimals

    def value_type(self, compile_model: ModelCompiler) -> Any:
        bounds = Field(ge=self.min, le=self.max, allow_inf_nan=False)
        if self.scale == 0:  # whole numbers: fractional bounds round inwards (int bounds must be ints)
            low = INT64_MIN if self.min is None else max(math.ceil(self.min), INT64_MIN)
            high = INT64_MAX if self.max is None else min(math.floor(self.max), INT64_MAX)
            return Annotated[WholeNumber, Field(ge=low, le=high)]
        # The column is NUMERIC(20 + scale, scale): larger values overflow it (and the quantizer).
        storable = Field(gt=-DECIMAL_LIMIT, lt=DECIMAL_LIMIT)
        return Annotated[Decimal, bounds, storable, _quantizer(self.scale)]

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer" if self.scale == 0 else "number"}
        if self.min is not None:
            schema["minimum"] = self.min
        if self.max is not None:
            schema["maximum"] = self.max
        return schema

    def column_kind(self) -> ColumnSpec:
        if self.scale == 0:
            return ColumnSpec(self.key, "bigint")
        return ColumnSpec(self.key, "decimal", precision=20 + self.scale, scale=self.scale)

    def to_json(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if self.scale == 0 else float(value)
        return value


@register
class NumberField(_NumberLike):
    """A number: an integer when ``decimals`` is 0 (the default), else a decimal of that scale."""

    type: Literal["number"]
    expr_type = "number"


@register
class CurrencyField(_NumberLike):
    """An amount of money (two decimals by default) in one currency."""

    type: Literal["currency"]
    expr_type = "number"
    default_decimals: ClassVar[int] = 2
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"


@register
class PercentField(_NumberLike):
    """A percentage stored as a fraction (0.4 means 40 %)."""

    type: Literal["percent"]
    expr_type = "number"
    default_decimals: ClassVar[int] = 4


@register
class RatingField(FieldBase):
    """Stars from 1 to ``max`` (5 by default)."""

    type: Literal["rating"]
    expr_type = "number"
    operators = COMPARE_OPERATORS
    aggregates = NUMERIC_AGGREGATES
    max: Annotated[int, Field(ge=1, le=10)] = 5

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return Annotated[WholeNumber, Field(ge=1, le=self.max)]

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "maximum": self.max}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "integer")


@register
class BooleanField(FieldBase):
    """A yes/no value (a checkbox or switch)."""

    type: Literal["boolean"]
    expr_type = "boolean"
    operators = frozenset({"eq", "ne", "is_empty"})

    def value_type(self, compile_model: ModelCompiler) -> Any:
        return bool

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def column_kind(self) -> ColumnSpec:
        return ColumnSpec(self.key, "boolean")
