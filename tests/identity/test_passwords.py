"""The password rules (10 characters of 2 kinds, or 8 of 3; not the username) and the hasher."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from argus.errors import FieldError
from argus.identity.passwords import Hasher, check_password, require_valid_password

KIND_PATTERNS = {
    "upper-case letters": re.compile(r"[A-Z]"),
    "lower-case letters": re.compile(r"[a-z]"),
    "digits": re.compile(r"[0-9]"),
    "symbols": re.compile(r"[^A-Za-z0-9]"),
}

printable = st.text(
    alphabet=st.characters(exclude_categories=["Cc", "Cf", "Cs"]), min_size=0, max_size=40
)
ascii_words = st.text(alphabet=string.ascii_letters + string.digits + "!@#-_ 가나", max_size=24)


def kinds(password: str) -> int:
    return sum(1 for pattern in KIND_PATTERNS.values() if pattern.search(password))


def meets_length_rule(password: str) -> bool:
    """The guidance as stated: 10 characters of 2 kinds, or 8 characters of 3 kinds."""
    n = len(password)
    return (n >= 10 and kinds(password) >= 2) or (n >= 8 and kinds(password) >= 3)


@given(password=printable | ascii_words)
@example(password="abcdefghij")  # 10 of 1 kind
@example(password="abcdefghi1")  # 10 of 2 kinds
@example(password="abcdefg1")  # 8 of 2 kinds
@example(password="abcdef1!")  # 8 of 3 kinds
@example(password="Abcde1!")  # 7 of 4 kinds
@example(password="비밀번호비밀번호12")  # Hangul counts as "symbols" (other characters)
def test_the_length_and_kinds_rule_is_exactly_the_guidance(password: str) -> None:
    result = check_password(password)
    assert result.ok == meets_length_rule(password)
    if not result.ok:
        assert f"it has {len(password)} characters of {kinds(password)} kind(s)" in (
            result.message()
        )


@given(password=printable | ascii_words)
def test_a_refusal_names_the_kinds_that_are_missing(password: str) -> None:
    result = check_password(password)
    assume(not result.ok)
    message = result.message()
    missing = [name for name, pattern in KIND_PATTERNS.items() if not pattern.search(password)]
    assert message.endswith(", ".join(missing)) or not missing
    for name in missing:
        assert name in message


@given(
    username=st.from_regex(r"[a-z0-9][a-z0-9._@-]{1,20}", fullmatch=True),
    before=printable,
    after=printable,
)
def test_a_password_containing_the_username_is_refused_in_any_case(
    username: str, before: str, after: str
) -> None:
    password = before + username.upper() + after
    result = check_password(password, username)
    assert not result.ok
    assert f"must not contain the username {username!r}" in result.message()


three_kinds = st.tuples(
    st.text(alphabet=st.characters(exclude_categories=["Cc", "Cf", "Cs"]), min_size=5),
    st.sampled_from(["Ab3", "b3%", "A%b", "7Z#"]),
    printable,
).map("".join)


@given(password=three_kinds, username=st.from_regex(r"u[0-9]{6}", fullmatch=True))
def test_adding_a_new_kind_never_makes_a_good_password_bad(password: str, username: str) -> None:
    assume(len(password) <= 120 and username not in password.casefold())
    assert check_password(password, username).ok
    for extra in ("A", "z", "7", "%", "가"):
        assert check_password(password + extra, username).ok
        assert check_password(extra + password, username).ok


@given(password=printable, control=st.characters(categories=["Cc"]))
def test_control_characters_are_refused(password: str, control: str) -> None:
    result = check_password("Aa1!" * 3 + control + password)
    assert not result.ok and "control characters" in result.message()


def test_overlong_passwords_are_refused() -> None:
    assert check_password("Aa1!" * 32).ok
    assert "at most 128" in check_password("Aa1!" * 32 + "x").message()


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(FieldError) as caught:
        require_valid_password("kim\tkim", "kim")
    message = str(caught.value)
    assert message.startswith("password: ")
    assert "control characters" in message
    assert "8 characters of 3 kinds" in message
    assert "username 'kim'" in message


def test_the_hasher_uses_argon2id_with_the_rfc_9106_low_memory_parameters() -> None:
    hasher = Hasher()
    hashed = hasher.hash("Gwangju-2026!")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert hasher.verify(hashed, "Gwangju-2026!")
    assert not hasher.verify(hashed, "Gwangju-2026?")
    assert not hasher.verify("not a hash", "Gwangju-2026!")
    assert hasher.hash("Gwangju-2026!") != hashed  # salted
