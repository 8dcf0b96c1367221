"""Benchmark: validating one KAM account submission, ours vs ``jsonschema`` Draft 2020-12.

Ours: ``forms.validation.validate_submission(form, raw, use="create", locale="en")`` with the
compiled (cached) pydantic model. Baseline: ``jsonschema.Draft202012Validator(record_schema(runtime))``
on the same form's published JSON Schema (``web.schemas.record_schema``), built once.

Both are timed on a valid submission (every field a user may set, 36 of the form's 74) and
on an invalid one where all errors are collected (our ``ValidationError`` with its issues vs
``list(validator.iter_errors(raw))``). Target (DESIGN.md): ours >= 20x faster.

Usage: python bench/validation.py [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import compare, emit, install_bundle_at, kam_account_bundle, median, say, spread

TARGET = 20.0

VALID: dict[str, Any] = {
    "name": "上海华东精密制造股份有限公司",
    "short_name": "华东精密",
    "unified_credit_code": "91310000MA1K4L5X2P",
    "parent_account": 17,
    "industry": "manufacturing",
    "region": "east",
    "ownership_type": "private",
    "founded_date": "2003-06-18",
    "employees": 4200,
    "annual_revenue": 1850000000.5,
    "annual_revenue_prev": 1620000000,
    "website": "https://www.hdjm.example.cn",
    "customer_since": "2015-09-01",
    "products_held": [1, 4, 7],
    "primary_rm": 12,
    "exec_sponsor": 3,
    "status": "active",
    "customer_category_spend": 95000000,
    "credit_limit": 300000000.0,
    "contract_payment_days": 90,
    "contract_end_date": "2026-12-31",
    "annual_strategy": "扩大长三角产能，推进海外并购；2025 年重点：供应链金融与跨境资金池。",
    "expansion_plans": ["new_capacity", "overseas_ma"],
    "pain_points": ["slow_collection", "fx_volatility", "supply_chain"],
    "main_competitors": "苏州某精工、宁波某机械",
    "our_competitors_in_account": "两家股份制银行的交易银行部",
    "overseas_subsidiaries": 6,
    "buy_sell_level": "good_service",
    "strat_industry_influence": 4,
    "strat_ecosystem_leverage": 3,
    "strat_fit": 5,
    "strat_relationship_depth": 4,
    "tier": "core",
    "tier_override_reason": "KAV 64.5, one point below core; the group's overseas expansion justifies core service.",
    "enterprise_stage": "mature",
    "next_qbr_date": "2025-03-15",
}

# Twelve problems: missing required, bad option, wrong type, impossible date, bounds,
# pattern, repeated and unknown multi-select items, a read-only field and an unknown field.
INVALID_CHANGES: dict[str, Any] = {
    "industry": "mining",
    "region": 5,
    "founded_date": "2003-13-45",
    "employees": -3,
    "website": "ftp://files.example.cn",
    "unified_credit_code": "12345",
    "expansion_plans": ["ipo", "ipo", "moon_base"],
    "strat_fit": 9,
    "contract_payment_days": 400,
    "revenue_12m": 5,
    "colour": "blue",
}


def submissions() -> tuple[dict[str, Any], dict[str, Any]]:
    """The valid and the invalid body, as ``json.loads`` hands them to the API."""
    valid = json.loads(json.dumps(VALID, ensure_ascii=False))
    invalid = {k: v for k, v in valid.items() if k != "name"}
    invalid.update(INVALID_CHANGES)
    return valid, json.loads(json.dumps(invalid, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke run)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of ours to stderr")
    args = parser.parse_args()

    import jsonschema

    from engine.issues import ValidationError
    from engine.storage.database import Database
    from forms.catalog import Catalog
    from forms.validation import compile_form, validate_submission
    from web.schemas import record_schema

    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        root = Path(tmp)
        database = Database(f"sqlite:///{root / 'bench.db'}")
        install_bundle_at(database, kam_account_bundle(root / "bundle"))
        runtime = Catalog(database).form("account")  # built the way the app builds it
        database.dispose()
    form = runtime.definition
    valid, invalid = submissions()

    start = time.perf_counter()
    compile_form(form, "create")
    compile_us = (time.perf_counter() - start) * 1e6
    start = time.perf_counter()
    schema = record_schema(runtime)
    validator = jsonschema.Draft202012Validator(schema)
    build_us = (time.perf_counter() - start) * 1e6
    accepted = len(schema["properties"])
    say(f"account form: {len(form.fields)} fields, {accepted} accepted on create; submission has {len(valid)}")

    def ours_valid() -> None:
        validate_submission(form, valid, use="create", locale="en")

    def base_valid() -> None:
        validator.validate(valid)

    def ours_invalid() -> int:
        try:
            validate_submission(form, invalid, use="create", locale="en")
        except ValidationError as error:
            return len(error.issues)
        raise AssertionError("the invalid submission was accepted")

    def base_invalid() -> int:
        return len(list(validator.iter_errors(invalid)))

    # Sanity: both agree the valid one is valid and the invalid one is not.
    ours_valid()
    base_valid()
    ours_issues, base_errors = ours_invalid(), base_invalid()
    our_fields = sorted({i.field or "" for i in _issues(form, invalid)})
    say(f"invalid submission: ours {ours_issues} issues on {our_fields}; jsonschema {base_errors} errors")

    repeats = 5 if args.quick else 15
    target_s = 0.02 if args.quick else 0.1
    say(f"timing {repeats} interleaved repeats of ~{target_s}s each (warm-up included in calibration)")
    samples = compare(
        {
            "ours_valid": ours_valid,
            "base_valid": base_valid,
            "ours_invalid": ours_invalid,
            "base_invalid": base_invalid,
        },
        repeats=repeats,
        target_s=target_s,
    )
    ours_us, base_us = median(samples["ours_valid"]), median(samples["base_valid"])
    ours_inv, base_inv = median(samples["ours_invalid"]), median(samples["base_invalid"])
    ratio, ratio_inv = base_us / ours_us, base_inv / ours_inv
    say(f"valid:   ours {ours_us:.1f} us, jsonschema {base_us:.1f} us -> {ratio:.1f}x")
    say(f"invalid: ours {ours_inv:.1f} us, jsonschema {base_inv:.1f} us -> {ratio_inv:.1f}x")

    extra: dict[str, Any] = {}
    if not args.quick:
        # A stricter baseline also checks "format": "date" (ours parses dates); reported for context.
        strict = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        fmt = compare({"base_valid_formats": lambda: strict.validate(valid)}, repeats=repeats, target_s=target_s)
        extra["baseline_with_format_checker_us"] = round(median(fmt["base_valid_formats"]), 2)
    if args.profile:
        _profile(ours_valid, ours_invalid)

    emit(
        {
            "bench": "validation",
            "quick": args.quick,
            "ours_us": round(ours_us, 2),
            "baseline_us": round(base_us, 2),
            "ratio": round(ratio, 2),
            "target": f">= {TARGET:g}x",
            "meets_target": ratio >= TARGET,
            "invalid": {
                "ours_us": round(ours_inv, 2),
                "baseline_us": round(base_inv, 2),
                "ratio": round(ratio_inv, 2),
                "meets_target": ratio_inv >= TARGET,
                "ours_issues": ours_issues,
                "baseline_errors": base_errors,
            },
            "fields_submitted": len(valid),
            "fields_in_form": len(form.fields),
            "ours_compile_model_us": round(compile_us, 1),
            "baseline_build_validator_us": round(build_us, 1),
            "samples_us": {name: spread(values) for name, values in samples.items()},
            "repeats": repeats,
            **extra,
        }
    )


def _issues(form: Any, raw: dict[str, Any]) -> list[Any]:
    from engine.issues import ValidationError
    from forms.validation import validate_submission

    try:
        validate_submission(form, raw, use="create", locale="en")
    except ValidationError as error:
        return list(error.issues)
    return []


def _profile(*funcs: Any) -> None:
    for func in funcs:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(2000):
            func()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(f"--- cProfile of {func.__name__} x2000 (tottime) ---\n{out.getvalue()}", file=sys.stderr)


if __name__ == "__main__":
    main()
