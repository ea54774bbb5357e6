"""Priority classes and agreement priority: the order, its configuration, its properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from argus.errors import FieldError
from argus.identity.principal import Role
from argus.ptz.arbitration import (
    DEFAULT_ORDER,
    OWNER_PRIORITY,
    Arbitration,
    PriorityClass,
    Requester,
    RequesterKind,
    class_for,
    parse_order,
    within_class_priority,
)
from argus.sharing.vocab import PTZ_PRIORITY_DEFAULT


def someone(
    priority_class: PriorityClass,
    agreement_priority: int | None = None,
    owner: bool = False,
    user_id: int = 1,
) -> Requester:
    return Requester(
        RequesterKind.USER,
        f"user{user_id}",
        1,
        "광주광역시",
        priority_class,
        "a reason",
        user_id=user_id,
        agreement_priority=agreement_priority,
        owner=owner,
    )


def test_the_default_order_is_incident_supervisor_operator_tour_patrol() -> None:
    arbitration = Arbitration()
    ladder = [someone(c) for c in DEFAULT_ORDER]
    for stronger, weaker in itertools.pairwise(ladder):
        assert arbitration.outranks(stronger, weaker)
        assert not arbitration.outranks(weaker, stronger)
    assert [c.value for c in DEFAULT_ORDER] == [
        "incident",
        "supervisor",
        "operator",
        "enforcement_tour",
        "idle_patrol",
    ]


def test_class_first_then_agreement_priority_breaks_ties() -> None:
    arbitration = Arbitration()
    low_supervisor = someone(PriorityClass.SUPERVISOR, agreement_priority=1)
    top_operator = someone(PriorityClass.OPERATOR, agreement_priority=100)
    assert arbitration.outranks(low_supervisor, top_operator)
    assert arbitration.outranks(
        someone(PriorityClass.OPERATOR, 80), someone(PriorityClass.OPERATOR, 79)
    )
    # no agreement priority counts as the default; the owner above every agreement
    assert within_class_priority(someone(PriorityClass.OPERATOR)) == PTZ_PRIORITY_DEFAULT
    owner = someone(PriorityClass.OPERATOR, owner=True)
    assert within_class_priority(owner) == OWNER_PRIORITY
    assert arbitration.outranks(owner, someone(PriorityClass.OPERATOR, 100))
    # equal rank takes nothing from the other
    assert not arbitration.outranks(
        someone(PriorityClass.OPERATOR, 60, user_id=2), someone(PriorityClass.OPERATOR, 60)
    )


def test_a_deployment_may_reorder_the_classes() -> None:
    order = parse_order("incident, operator, supervisor, enforcement_tour, idle_patrol")
    assert order.outranks(someone(PriorityClass.OPERATOR), someone(PriorityClass.SUPERVISOR))
    tour_first = parse_order(
        ["enforcement_tour", "incident", "supervisor", "operator", "idle_patrol"]
    )
    assert tour_first.outranks(
        someone(PriorityClass.ENFORCEMENT_TOUR), someone(PriorityClass.INCIDENT)
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("incident,supervisor,operator,enforcement_tour", "exactly once"),
        ("incident,incident,supervisor,operator,enforcement_tour,idle_patrol", "exactly once"),
        ("incident,boss,operator,enforcement_tour,idle_patrol", "'boss' is not"),
    ],
)
def test_a_bad_order_is_refused_naming_the_field(text: str, words: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_order(text)
    assert caught.value.field == "ptz_priority_order"
    assert words in caught.value.message
    with pytest.raises(ValueError):
        Arbitration((PriorityClass.INCIDENT,))


def test_a_persons_class_comes_from_the_grant_then_the_role() -> None:
    assert class_for(frozenset({Role.RESPONDER}), "incident:12") is PriorityClass.INCIDENT
    assert class_for(frozenset({Role.OPERATOR}), "incident:3") is PriorityClass.INCIDENT
    assert class_for(frozenset({Role.SUPERVISOR}), "agreement:7") is PriorityClass.SUPERVISOR
    assert class_for(frozenset({Role.OPERATOR}), "ownership:2") is PriorityClass.OPERATOR
    assert class_for(frozenset({Role.AGENCY_ADMIN}), None) is PriorityClass.OPERATOR


requesters = st.builds(
    someone,
    st.sampled_from(list(PriorityClass)),
    st.none() | st.integers(1, 100),
    st.booleans(),
    st.integers(1, 5),
)
orders = st.permutations(list(PriorityClass)).map(lambda o: Arbitration(tuple(o)))


@given(orders, requesters, requesters, requesters)
def test_outranking_is_a_strict_order_with_class_first(
    arbitration: Arbitration, a: Requester, b: Requester, c: Requester
) -> None:
    assert not arbitration.outranks(a, a)
    assert not (arbitration.outranks(a, b) and arbitration.outranks(b, a))
    if arbitration.outranks(a, b) and arbitration.outranks(b, c):
        assert arbitration.outranks(a, c)
    # exactly one of: a above b, b above a, equal (first come first served)
    equal = arbitration.rank(a) == arbitration.rank(b)
    assert [arbitration.outranks(a, b), arbitration.outranks(b, a), equal].count(True) == 1
    order = arbitration.order
    if order.index(a.priority_class) < order.index(b.priority_class):
        assert arbitration.outranks(a, b)  # whatever the agreement priorities
