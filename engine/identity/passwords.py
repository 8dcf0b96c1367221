"""Password hashing with argon2id (``argon2-cffi``: the reference binding, with safe defaults).

Hashes carry their own parameters, so raising the cost later re-hashes on the next login
(:func:`needs_rehash`).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 256  # argon2 accepts any length; refusing huge ones keeps a login request cheap

_HASHER = PasswordHasher()


def use_cheap_parameters_for_tests() -> None:
    """Lower argon2's cost (1 pass, 1 MiB) so a test suite can hash thousands of passwords.

    Only the test suite calls this; the hashes stay real argon2id and verify normally.
    """
    global _HASHER
    _HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; two calls give different hashes)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False for a malformed hash, never an exception)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def password_problem(password: str, *, login: str = "", locale: str = "zh") -> str | None:
    """Why ``password`` is not acceptable as a new password, or None."""
    zh = locale == "zh"
    if len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符" if zh else f"the password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 个字符" if zh else f"the password may have at most {MAX_LENGTH} characters"
    if login and password.casefold() == login.casefold():
        return "密码不能与登录名相同" if zh else "the password must differ from the login"
    if len(set(password)) < 3:
        return "密码过于简单" if zh else "the password is too simple"
    return None
