"""Who may move a camera when several want to: priority classes, then agreement priority.

Every would-be controller of a camera is a ``Requester``: a person (by user id) or a machine
controller of the owner (its enforcement tour or its idle patrol), with the agency it acts for,
a priority class and a reason a person can read ("incident 12: assault").

How two requesters compare (``Arbitration.rank``):

1. **class first.** The classes are ordered; the default order is
   incident link (112/119) > centre supervisor > centre operator > owner's enforcement tour >
   idle patrol. A deployment may reorder them (``parse_order``), never drop one.
2. **then, within one class, the agreement's PTZ priority** (1–100, higher wins; see
   ``argus.sharing.vocab.PTZ_PRIORITY_*``). A requester who acts for the camera's owner agency
   (ownership, no agreement) counts as ``OWNER_PRIORITY``, above every agreement: the owner keeps
   control (DESIGN.md invariant 2). A requester acting through an incident, or through anything
   else that names no priority, counts as ``PTZ_PRIORITY_DEFAULT``.
3. **equal rank: first come, first served.** A challenger takes the camera only if it ranks
   strictly higher than the one who has it; an equal one is refused (``argus.ptz.lease``).

A person's class comes from the basis of their PTZ allow and their roles (``class_for``): an
allow that rests on an incident ("incident:N") is the incident link; otherwise a supervisor is
a centre supervisor and everyone else who may use PTZ (operators, agency admins, responders
through an agreement) a centre operator.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from argus.errors import FieldError
from argus.identity.principal import Role
from argus.sharing.vocab import PTZ_PRIORITY_DEFAULT, PTZ_PRIORITY_MAX, PTZ_PRIORITY_MIN

OWNER_PRIORITY = PTZ_PRIORITY_MAX + 1
"""Within a class, the owner agency's own controllers rank above every agreement."""


class PriorityClass(StrEnum):
    INCIDENT = "incident"  # an incident link: police 112, fire 119, disaster room
    SUPERVISOR = "supervisor"  # a centre supervisor
    OPERATOR = "operator"  # a centre operator (or anyone else who may use PTZ)
    ENFORCEMENT_TOUR = "enforcement_tour"  # the owner's parking-enforcement tour
    IDLE_PATROL = "idle_patrol"  # a patrol the camera runs when nothing else wants it


CLASS_LABELS: dict[PriorityClass, str] = {
    PriorityClass.INCIDENT: "incident link",
    PriorityClass.SUPERVISOR: "centre supervisor",
    PriorityClass.OPERATOR: "centre operator",
    PriorityClass.ENFORCEMENT_TOUR: "owner's enforcement tour",
    PriorityClass.IDLE_PATROL: "idle patrol",
}

DEFAULT_ORDER: tuple[PriorityClass, ...] = (
    PriorityClass.INCIDENT,
    PriorityClass.SUPERVISOR,
    PriorityClass.OPERATOR,
    PriorityClass.ENFORCEMENT_TOUR,
    PriorityClass.IDLE_PATROL,
)
"""Strongest first."""


class RequesterKind(StrEnum):
    USER = "user"  # a signed-in person
    TOUR = "tour"  # the owner's tour (enforcement or patrol), run by Argus


@dataclass(frozen=True)
class Requester:
    kind: RequesterKind
    name: str  # the user's name, or "enforcement tour of camera 12"
    agency_id: int | None
    agency_name: str
    priority_class: PriorityClass
    reason: str  # why they want the camera: "incident 12: assault"
    user_id: int | None = None
    agreement_priority: int | None = None  # the agreement's PTZ priority, 1–100
    owner: bool = False  # acts for the camera's owner agency
    purpose: str | None = None  # the declared access purpose (people only)
    case_number: str | None = None
    grant: str | None = None  # what the allow rests on: "ownership:3", "agreement:7", …

    @property
    def key(self) -> tuple[str, str]:
        """Who this is, whatever they say: the same user (or tour) is the same controller."""
        if self.user_id is not None:
            return (self.kind.value, str(self.user_id))
        return (self.kind.value, self.name)

    @property
    def class_label(self) -> str:
        return CLASS_LABELS[self.priority_class]

    def describe(self) -> str:
        """ "kim (광주광역시, centre operator)": who, for whom, at which class."""
        return f"{self.name} ({self.agency_name}, {self.class_label})"


def within_class_priority(requester: Requester) -> int:
    """The tie-break inside a class: owner above agreements, agreements by their priority."""
    if requester.owner:
        return OWNER_PRIORITY
    if requester.agreement_priority is None:
        return PTZ_PRIORITY_DEFAULT
    return max(PTZ_PRIORITY_MIN, min(PTZ_PRIORITY_MAX, requester.agreement_priority))


@dataclass(frozen=True)
class Arbitration:
    """An order of the priority classes, strongest first (a permutation of all of them)."""

    order: tuple[PriorityClass, ...] = DEFAULT_ORDER

    def __post_init__(self) -> None:
        if sorted(self.order) != sorted(PriorityClass) or len(set(self.order)) != len(self.order):
            raise ValueError(
                f"the PTZ priority order must name every class once: {order_text(DEFAULT_ORDER)}"
            )

    def class_rank(self, priority_class: PriorityClass) -> int:
        """Higher is stronger."""
        return len(self.order) - self.order.index(priority_class)

    def rank(self, requester: Requester) -> tuple[int, int]:
        """Class first, then the within-class priority; compare with ``>``."""
        return (self.class_rank(requester.priority_class), within_class_priority(requester))

    def outranks(self, challenger: Requester, holder: Requester) -> bool:
        """Whether ``challenger`` takes the camera from ``holder`` (strictly higher rank)."""
        return self.rank(challenger) > self.rank(holder)


def order_text(order: Iterable[PriorityClass]) -> str:
    return ",".join(c.value for c in order)


def parse_order(text: str | Sequence[str], field: str = "ptz_priority_order") -> Arbitration:
    """An arbitration from "incident,supervisor,operator,enforcement_tour,idle_patrol"."""
    names = text.split(",") if isinstance(text, str) else list(text)
    classes: list[PriorityClass] = []
    for name in names:
        try:
            classes.append(PriorityClass(name.strip().lower()))
        except ValueError:
            raise FieldError(
                field,
                f"{name.strip()!r} is not a PTZ priority class: use {order_text(DEFAULT_ORDER)}",
                "body",
            ) from None
    if sorted(classes) != sorted(PriorityClass) or len(set(classes)) != len(classes):
        raise FieldError(
            field, f"name every class exactly once, e.g. {order_text(DEFAULT_ORDER)}", "body"
        )
    return Arbitration(tuple(classes))


def class_for(roles: frozenset[Role], grant: str | None) -> PriorityClass:
    """A person's class: incident link if the allow rests on an incident, else by role."""
    if grant is not None and grant.startswith("incident:"):
        return PriorityClass.INCIDENT
    if Role.SUPERVISOR in roles:
        return PriorityClass.SUPERVISOR
    return PriorityClass.OPERATOR
