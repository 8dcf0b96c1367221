"""Localised messages for submission errors (zh-CN and en)."""

from __future__ import annotations

from typing import Any

from engine.i18n import Locale

# pydantic error type -> (zh, en); ``{...}`` are filled from the error context.
CATALOG: dict[str, tuple[str, str]] = {
    "missing": ("必填", "is required"),
    "required": ("必填", "is required"),
    "extra_forbidden": ("未知字段", "unknown field"),
    "read_only": ("只读字段，不能填写", "is read-only"),
    "string_too_long": ("最多 {max_length} 个字符", "must be at most {max_length} characters"),
    "string_too_short": ("至少 {min_length} 个字符", "must be at least {min_length} characters"),
    "string_pattern_mismatch": ("格式不正确", "has an invalid format"),
    "string_type": ("应为文本", "must be text"),
    "int_type": ("应为整数", "must be an integer"),
    "int_parsing": ("应为整数", "must be an integer"),
    "int_from_float": ("应为整数", "must be an integer"),
    "decimal_parsing": ("应为数字", "must be a number"),
    "decimal_type": ("应为数字", "must be a number"),
    "finite_number": ("应为有限数字", "must be a finite number"),
    "float_type": ("应为数字", "must be a number"),
    "float_parsing": ("应为数字", "must be a number"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "greater_than": ("必须大于 {gt}", "must be greater than {gt}"),
    "less_than": ("必须小于 {lt}", "must be less than {lt}"),
    "bool_type": ("应为是/否", "must be true or false"),
    "bool_parsing": ("应为是/否", "must be true or false"),
    "date_type": ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "date_parsing": ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": ("应为日期（不含时间）", "must be a date without a time"),
    "datetime_type": ("应为日期时间（YYYY-MM-DDTHH:MM:SS）", "must be a date-time (YYYY-MM-DDTHH:MM:SS)"),
    "datetime_parsing": ("应为日期时间（YYYY-MM-DDTHH:MM:SS）", "must be a date-time (YYYY-MM-DDTHH:MM:SS)"),
    "datetime_from_date_parsing": ("应为日期时间（YYYY-MM-DDTHH:MM:SS）", "must be a date-time (YYYY-MM-DDTHH:MM:SS)"),
    "time_type": ("应为时间（HH:MM）", "must be a time (HH:MM)"),
    "time_parsing": ("应为时间（HH:MM）", "must be a time (HH:MM)"),
    "literal_error": ("应为以下选项之一：{expected}", "must be one of: {expected}"),
    "list_type": ("应为列表", "must be a list"),
    "too_short": ("至少 {min_length} 项", "must have at least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "must have at most {max_length} items"),
    "model_type": ("应为对象", "must be an object"),
    "dict_type": ("应为对象", "must be an object"),
    "model_attributes_type": ("应为对象", "must be an object"),
    "unique": ("该值已存在：{value}", "value already exists: {value}"),
    "not_found_reference": ("引用的记录不存在：{value}", "refers to a record that does not exist: {value}"),
    "file_not_found": ("附件不存在：{value}", "refers to a file that does not exist: {value}"),
    "invalid_json": ("请求体不是有效的 JSON", "the request body is not valid JSON"),
    "not_an_object": ("请求体应为 JSON 对象", "the request body must be a JSON object"),
    "items_repeat": ("不能包含重复项", "must not contain duplicates"),
}


def message(code: str, locale: Locale, fallback: str = "", **context: Any) -> str:
    """Return the localised message for ``code`` with ``context`` filled in."""
    pair = CATALOG.get(code)
    if pair is None:
        return fallback or code
    template = pair[0] if locale == "zh" else pair[1]
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template
