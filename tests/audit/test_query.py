"""The auditors' filters: a bad value is refused naming its field; times are compared in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from argus.audit.query import AuditFilter
from argus.errors import FieldError

ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?")


@given(st.text(max_size=30) | st.from_regex(ACTION, fullmatch=True))
def test_an_action_filter_is_a_dotted_name_or_a_prefix_and_nothing_else(text: str) -> None:
    if ACTION.fullmatch(text):
        assert AuditFilter(action=text).action == text
    else:
        with pytest.raises(FieldError) as refused:
            AuditFilter(action=text)
        assert refused.value.field == "action"


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-12, max_value=14),
)
def test_times_with_any_offset_mean_the_same_instant(moment: datetime, hours: int) -> None:
    offset = timezone(timedelta(hours=hours))
    local = moment.replace(tzinfo=UTC).astimezone(offset)
    assert AuditFilter(since=local).since == moment.replace(tzinfo=UTC)
    assert AuditFilter(since=moment).since == moment.replace(tzinfo=UTC)  # no offset: UTC


def test_until_must_come_after_since() -> None:
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(FieldError, match="until: must be later than since"):
        AuditFilter(since=moment, until=moment)
    assert AuditFilter(since=moment, until=moment + timedelta(microseconds=1)).as_json() == {
        "since": "2026-03-01T00:00:00.000000Z",
        "until": "2026-03-01T00:00:00.000001Z",
    }
