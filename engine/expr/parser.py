"""The parser: tokens -> AST, by precedence climbing (lowest first).

or       a OR b                    and      a AND b
not      NOT a                     compare  = <> < <= > >=, [NOT] IN (...)
concat   a & b                     add      + -
multiply * /                       power    ^ (left to right, as in Excel)
unary    - + (binds tighter than ^: -2^2 = 4, as in Excel)
percent  a%                        primary  literal, name, path, call, (expr)
"""

from __future__ import annotations

from decimal import Decimal

from engine.expr.errors import DEFAULT_LIMITS, ExprError, Limits
from engine.expr.lexer import Token, tokenize
from engine.expr.nodes import Binary, Call, InList, Literal, Node, Ref, Unary

COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
PRECEDENCE = {
    "OR": 1,
    "AND": 2,
    **dict.fromkeys(COMPARISONS, 4),
    "IN": 4,
    "&": 5,
    "+": 6,
    "-": 6,
    "*": 7,
    "/": 7,
    "^": 8,
}
NOT_PRECEDENCE = 3
MAX_NUMBER = Decimal("1E+308")  # a double's range: larger literals would become infinity


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Node:
    """Parse ``text`` into an AST.

    Raises:
        ExprError: the first syntax error, with its position, or a breached limit.
    """
    if not text.strip():
        raise ExprError("empty", "the expression is empty", 0, max(len(text), 1))
    parser = _Parser(tokenize(text, limits), limits)
    node = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        raise ExprError(
            "syntax",
            f"unexpected '{token.text}'",
            token.start,
            token.end,
            hint="is an operator or a comma missing before it?",
        )
    return node


class _Parser:
    def __init__(self, tokens: list[Token], limits: Limits) -> None:
        self.tokens = tokens
        self.index = 0
        self.limits = limits
        self.depth = 0
        self.nodes = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind in ("op", "keyword") and token.upper in texts

    def expect(self, text: str, opened: Token | None = None) -> Token:
        if self.at(text):
            return self.advance()
        token = self.peek()
        found = "the end of the expression" if token.kind == "end" else f"'{token.text}'"
        if opened is not None and text == ")":
            raise ExprError(
                "unbalanced",
                f"the '(' at column {opened.start + 1} is never closed; found {found}",
                opened.start,
                token.end,
                hint="add the missing ')'",
            )
        raise ExprError("syntax", f"expected '{text}', found {found}", token.start, max(token.end, token.start + 1))

    def count(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise ExprError(
                "too_complex", f"the expression has more than {self.limits.max_nodes} parts", node.start, node.end
            )
        return node

    # -- grammar (precedence climbing: one Python frame per operator level of nesting) --------
    def expression(self) -> Node:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            token = self.peek()
            raise ExprError(
                "too_deep",
                f"the expression is nested more than {self.limits.max_depth} levels deep",
                token.start,
                token.end,
                hint="use helper formula fields for the inner parts",
            )
        try:
            return self.binary(1)
        finally:
            self.depth -= 1

    def infix(self) -> tuple[str, int] | None:
        """The infix operator at the current token and its precedence, if any."""
        token = self.peek()
        if token.kind == "op" and token.text in PRECEDENCE:
            return token.text, PRECEDENCE[token.text]
        if token.kind == "keyword":
            if token.upper in ("AND", "OR", "IN"):
                return token.upper, PRECEDENCE[token.upper]
            if token.upper == "NOT" and self.peek(1).upper == "IN":
                return "NOT IN", PRECEDENCE["IN"]
        return None

    def binary(self, minimum: int) -> Node:
        left = self.prefix()
        while (found := self.infix()) is not None and found[1] >= minimum:
            op, precedence = found
            if op in ("IN", "NOT IN"):
                left = self.in_list(left)
                continue
            token = self.advance()
            right = self.binary(precedence + 1)  # all binary operators are left-associative
            left = self.count(Binary(op, left, right, left.start, right.end, token.start))
        return left

    def prefix(self) -> Node:
        if self.at("NOT") and not (self.peek(1).kind == "op" and self.peek(1).text == "("):
            token = self.advance()
            self.depth += 1
            if self.depth > self.limits.max_depth:
                raise ExprError("too_deep", f"more than {self.limits.max_depth} levels of NOT", token.start, token.end)
            try:
                operand = self.binary(NOT_PRECEDENCE)
            finally:
                self.depth -= 1
            return self.count(Unary("NOT", operand, token.start, operand.end))
        return self.unary()

    def in_list(self, operand: Node) -> Node:
        negated = self.at("NOT")
        if negated:
            self.advance()
        self.advance()  # IN
        opened = self.expect("(")
        items = [self.expression()]
        while self.at(","):
            self.advance()
            items.append(self.expression())
        closing = self.expect(")", opened)
        return self.count(InList(operand, tuple(items), operand.start, closing.end, negated))

    def unary(self) -> Node:
        signs: list[Token] = []
        while self.at("-", "+"):
            signs.append(self.advance())
            if len(signs) > self.limits.max_depth:
                raise ExprError(
                    "too_deep", f"more than {self.limits.max_depth} signs in a row", signs[0].start, signs[-1].end
                )
        node = self.percent()
        for token in reversed(signs):  # signs bind tighter than ^: -2^2 = 4, as in Excel
            node = self.count(Unary(token.text, node, token.start, node.end))
        return node

    def percent(self) -> Node:
        node = self.primary()
        while self.at("%"):
            token = self.advance()
            node = self.count(Unary("%", node, node.start, token.end))
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            value = Decimal(token.text)
            if abs(value) > MAX_NUMBER:
                raise ExprError(
                    "number_too_large",
                    f"the number {token.text} is too large",
                    token.start,
                    token.end,
                    hint="numbers go up to about 1E+308",
                )
            return self.count(Literal(value, token.start, token.end))
        if token.kind == "string":
            self.advance()
            return self.count(Literal(token.text[1:-1].replace('""', '"'), token.start, token.end))
        if token.kind == "keyword":
            return self.keyword()
        if token.kind == "name":
            return self.name()
        if self.at("("):
            opened = self.advance()
            inner = self.expression()
            self.expect(")", opened)
            return inner
        found = "the end of the expression" if token.kind == "end" else f"'{token.text}'"
        raise ExprError("syntax", f"expected a value, found {found}", token.start, max(token.end, token.start + 1))

    def keyword(self) -> Node:
        token = self.advance()
        word = token.upper
        if word in ("TRUE", "FALSE"):
            return self.count(Literal(word == "TRUE", token.start, token.end))
        if word == "NULL":
            return self.count(Literal(None, token.start, token.end))
        if word == "THIS":
            return self.path([], token, this=True)
        if word in ("AND", "OR", "NOT") and self.at("("):
            return self.call(token)
        raise ExprError("syntax", f"'{token.text}' cannot start a value", token.start, token.end)

    def name(self) -> Node:
        token = self.advance()
        if self.at("("):
            return self.call(token)
        return self.path([token.text], token)

    def path(self, parts: list[str], first: Token, *, this: bool = False) -> Node:
        end = first.end
        while self.at("."):
            self.advance()
            part = self.peek()
            if part.kind != "name":
                raise ExprError("syntax", "expected a field name after '.'", part.start, max(part.end, part.start + 1))
            self.advance()
            parts.append(part.text)
            end = part.end
        return self.count(Ref(tuple(parts), first.start, end, this=this))

    def call(self, name: Token) -> Node:
        opened = self.advance()  # (
        args: list[Node] = []
        if not self.at(")"):
            args.append(self.expression())
            while self.at(","):
                self.advance()
                args.append(self.expression())
        closing = self.expect(")", opened)
        return self.count(Call(name.upper, tuple(args), name.start, closing.end, name.end))
