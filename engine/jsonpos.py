"""JSON parsing that remembers where every value starts.

The standard :mod:`json` module reports syntax errors with a position but forgets where
values were once parsed; definitions need a line:col for every JSON pointer, and duplicate
object keys (which :mod:`json` silently collapses) must be reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from engine.issues import Issue, join_pointer

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
MAX_DEPTH = 200
MAX_INTEGER_DIGITS = 4000
_BOM = "\ufeff"
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonSyntaxError(Exception):
    """A syntax error at a character offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass
class ParsedJson:
    """A parsed document with the position of each pointer and any duplicate-key issues."""

    value: Any
    positions: dict[str, tuple[int, int]]
    issues: list[Issue] = field(default_factory=list)

    def position(self, pointer: str) -> tuple[int, int] | None:
        """Return line:col of ``pointer`` or of its nearest existing ancestor."""
        while True:
            if pointer in self.positions:
                return self.positions[pointer]
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.positions: dict[str, tuple[int, int]] = {}
        self.issues: list[Issue] = []

    def line_col(self, offset: int) -> tuple[int, int]:
        low, high = 0, len(self.line_starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self.line_starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low + 1, offset - self.line_starts[low] + 1

    def skip(self, offset: int) -> int:
        match = _WHITESPACE.match(self.text, offset)
        return match.end() if match else offset

    def value(self, offset: int, pointer: str, depth: int) -> tuple[Any, int]:
        offset = self.skip(offset)
        if depth > MAX_DEPTH:
            raise JsonSyntaxError("document nested too deeply", offset)
        self.positions[pointer] = self.line_col(offset)
        char = self.text[offset : offset + 1]
        if char == "{":
            return self.object(offset + 1, pointer, depth)
        if char == "[":
            return self.array(offset + 1, pointer, depth)
        if char == '"':
            return self.string(offset)
        return self.scalar(offset)

    def string(self, offset: int) -> tuple[str, int]:
        try:
            text, end = scanstring(self.text, offset + 1, True)
        except json.JSONDecodeError as error:
            raise JsonSyntaxError(error.msg, error.pos) from None
        if _SURROGATE.search(text):
            # "\ud800" alone is JSON but not Unicode: it cannot be stored or validated later
            raise JsonSyntaxError("a \\u escape gives a lone surrogate, which is not valid Unicode", offset)
        return str(text), int(end)

    def scalar(self, offset: int) -> tuple[Any, int]:
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, offset):
                return literal, offset + len(word)
        match = _NUMBER.match(self.text, offset)
        if not match:
            found = self.text[offset : offset + 1] or "end of input"
            raise JsonSyntaxError(f"expected a value, found {found!r}", offset)
        number = match.group(0)
        if match.group(1) or match.group(2):
            return float(number), match.end()
        if len(number) > MAX_INTEGER_DIGITS:
            # int() refuses very long digit strings (CPython's DoS guard); report it, don't raise
            raise JsonSyntaxError(f"integer longer than {MAX_INTEGER_DIGITS} digits", offset)
        return int(number), match.end()

    def object(self, offset: int, pointer: str, depth: int) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        offset = self.skip(offset)
        if self.text.startswith("}", offset):
            return result, offset + 1
        while True:
            offset = self.skip(offset)
            if not self.text.startswith('"', offset):
                raise JsonSyntaxError("expected a property name in double quotes", offset)
            key_offset = offset
            key, offset = self.string(offset)
            offset = self.skip(offset)
            if not self.text.startswith(":", offset):
                raise JsonSyntaxError("expected ':' after a property name", offset)
            child = join_pointer(key) if not pointer else pointer + join_pointer(key)
            if key in result:
                line, col = self.line_col(key_offset)
                self.issues.append(
                    Issue(
                        "duplicate_key",
                        f"duplicate key '{key}'",
                        pointer=child,
                        line=line,
                        col=col,
                        hint="JSON objects must not repeat a key; the last one would win silently",
                    )
                )
            result[key], offset = self.value(offset + 1, child, depth + 1)
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset += 1
            elif self.text.startswith("}", offset):
                return result, offset + 1
            else:
                raise JsonSyntaxError("expected ',' or '}' after a property", offset)

    def array(self, offset: int, pointer: str, depth: int) -> tuple[list[Any], int]:
        result: list[Any] = []
        offset = self.skip(offset)
        if self.text.startswith("]", offset):
            return result, offset + 1
        while True:
            item, offset = self.value(offset, f"{pointer}/{len(result)}", depth + 1)
            result.append(item)
            offset = self.skip(offset)
            if self.text.startswith(",", offset):
                offset += 1
            elif self.text.startswith("]", offset):
                return result, offset + 1
            else:
                raise JsonSyntaxError("expected ',' or ']' after an array item", offset)


def parse_json(text: str, *, file: str | None = None) -> ParsedJson:
    """Parse ``text``; a syntax error becomes a single ``json_syntax`` issue with line:col.

    A leading byte-order mark (Windows editors add one) is skipped, as editors do not show
    it: columns count characters from the first visible one.

    Args:
        text: The JSON document.
        file: The file name put on every issue.

    Returns:
        The value with the line:col of every JSON pointer; ``value`` is None and ``issues``
        holds one ``json_syntax`` issue when the text is not JSON.
    """
    text = text.removeprefix(_BOM)
    parser = _Parser(text)
    try:
        value, end = parser.value(0, "", 0)
        end = parser.skip(end)
        if end != len(text):
            raise JsonSyntaxError("unexpected text after the JSON document", end)
    except JsonSyntaxError as error:
        line, col = parser.line_col(min(error.offset, len(text)))
        issue = Issue(
            "json_syntax",
            f"JSON syntax error: {error.message}",
            file=file,
            pointer="",
            line=line,
            col=col,
            hint="check commas, quotes and brackets around this position",
        )
        return ParsedJson(value=None, positions={}, issues=[issue])
    issues = [issue.located(file=file) for issue in parser.issues]
    return ParsedJson(value=value, positions=parser.positions, issues=issues)
