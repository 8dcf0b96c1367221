"""Tokens of the expression language."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.expr.errors import DEFAULT_LIMITS, ExprError, Limits

KEYWORDS = frozenset({"TRUE", "FALSE", "NULL", "AND", "OR", "NOT", "IN", "THIS"})
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"]|"")*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|<>|[-+*/^&%=<>(),.])
    """,
    re.VERBOSE,
)
# Spellings from other languages, with the Excel way to write them.
_FOREIGN = {
    "!=": "use <> for 'not equal'",
    "==": "use = to compare",
    "&&": "use AND",
    "||": "use OR",
    "'": 'text goes in double quotes: "like this"',
}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is number, string, name, keyword, op or end."""

    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        """The token text in upper case (keywords and function names ignore case)."""
        return self.text.upper()


def tokenize(text: str, limits: Limits = DEFAULT_LIMITS) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token.

    Raises:
        ExprError: on a character that starts no token, an unterminated string, or too long input.
    """
    if len(text) > limits.max_length:
        raise ExprError(
            "too_long",
            f"the expression is {len(text)} characters long; the limit is {limits.max_length}",
            0,
            len(text),
            hint="split it into several formula fields",
        )
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        foreign = next((k for k in _FOREIGN if text.startswith(k, position)), None)
        if foreign is not None:
            raise ExprError(
                "syntax", f"unexpected '{foreign}'", position, position + len(foreign), hint=_FOREIGN[foreign]
            )
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] == '"':
                raise ExprError(
                    "unterminated_string",
                    'the text is missing its closing "',
                    position,
                    len(text),
                    hint='write a double quote inside text as ""',
                )
            raise ExprError("syntax", f"unexpected character {text[position]!r}", position)
        kind = match.lastgroup or ""
        if kind != "space":
            value = match.group()
            if kind == "name" and value.upper() in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, value, match.start(), match.end()))
        position = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens
