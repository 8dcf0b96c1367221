"""Field types: importing this package registers every built-in type."""

from forms.fields import choice, other, references, scalar, temporal
from forms.fields.base import FIELD_TYPES, RESERVED_KEYS, FieldBase, register

__all__ = [
    "FIELD_TYPES",
    "RESERVED_KEYS",
    "FieldBase",
    "choice",
    "other",
    "references",
    "register",
    "scalar",
    "temporal",
]
