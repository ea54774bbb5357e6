"""Whether an incident provides video, to whom, for what, and on which legal basis.

A pure function of the incident's source and type and of the deployment's list of 112 types:

- **112** (police): video only for the listed serious crimes (setting
  ``incident_112_video_types``: murder, robbery, assault, theft, kidnapping/confinement, sexual
  violence, domestic violence by default). Any other 112 report is recorded as an incident,
  and provides nothing; the incident says why.
- **119** (fire) and the **disaster room**: every emergency type.
- **emergency bell**: the control centre's operators, to look at the bell's surroundings.
- **operator**: the operator's own choice of responding agency.

Only the responding agency's users receive anything (``IncidentFacts.responding_agency_ids``
in ``argus.sharing.policy``), and only through a role with video access: a police agency's
users are responders; the centre's are operators and supervisors.

The legal basis texts are what the PIPA ledger (개인영상정보 관리대장) shows as 법령상 근거 for
each provision; a deployment's privacy officer should confirm them for its own rooms.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from argus.incidents.vocab import CRIME_TYPES, EMERGENCY_TYPES, IncidentSource, type_label
from argus.registry.vocab import AgencyKind
from argus.sharing.vocab import AccessPurpose, Capability

BASIS_112 = "개인정보 보호법 제18조제2항제7호 (범죄의 수사) · 112신고의 운영 및 처리에 관한 법률"
BASIS_119 = "개인정보 보호법 제18조제2항 (급박한 생명·신체의 이익) · 119구조·구급에 관한 법률"
BASIS_DISASTER = "개인정보 보호법 제18조제2항 (급박한 생명·신체의 이익) · 재난 및 안전관리 기본법"
BASIS_BELL = "개인정보 보호법 제25조제1항 (범죄의 예방 및 수사) · 비상벨 호출"
BASIS_OPERATOR = "개인정보 보호법 제25조제1항 · 관제요원의 상황 발생 보고"

VIDEO = frozenset({Capability.LIVE, Capability.PLAYBACK, Capability.PTZ})
CRIME_PURPOSES = frozenset(
    {AccessPurpose.CRIME_PREVENTION, AccessPurpose.INVESTIGATION, AccessPurpose.MISSING_PERSON}
)
EMERGENCY_PURPOSES = frozenset({AccessPurpose.DISASTER, AccessPurpose.ACCIDENT})


@dataclass(frozen=True)
class Provision:
    provides: bool
    reason: str  # why video is provided, or why not
    capabilities: frozenset[Capability]
    purposes: frozenset[AccessPurpose]
    legal_basis: str
    responder_kind: AgencyKind | None  # the kind of agency that responds (None: the raiser's)


def provision_for(source: IncidentSource, kind: str, video_types_112: Collection[str]) -> Provision:
    """What an incident of this source and type provides."""
    label = type_label(kind)
    if source is IncidentSource.POLICE_112:
        if kind not in CRIME_TYPES:
            return _nothing(f"112 reports of type {label} are not crimes", AgencyKind.POLICE)
        if kind not in video_types_112:
            listed = ", ".join(sorted(video_types_112)) or "none"
            return _nothing(
                f"112 video is provided only for the listed serious crimes ({listed}); "
                f"{label} is not one of them",
                AgencyKind.POLICE,
            )
        return Provision(
            True,
            f"112 report of {label}: a listed serious crime",
            VIDEO,
            CRIME_PURPOSES,
            BASIS_112,
            AgencyKind.POLICE,
        )
    if source is IncidentSource.FIRE_119:
        if kind not in EMERGENCY_TYPES:
            return _nothing(f"119 does not respond to {label}", AgencyKind.FIRE)
        return Provision(
            True, f"119 report of {label}", VIDEO, EMERGENCY_PURPOSES, BASIS_119, AgencyKind.FIRE
        )
    if source is IncidentSource.DISASTER_ROOM:
        if kind not in EMERGENCY_TYPES:
            return _nothing(f"the disaster room does not handle {label}", AgencyKind.DISASTER)
        return Provision(
            True,
            f"disaster room alert of {label}",
            frozenset({Capability.LIVE, Capability.PLAYBACK}),
            frozenset({AccessPurpose.DISASTER}),
            BASIS_DISASTER,
            AgencyKind.DISASTER,
        )
    if source is IncidentSource.EMERGENCY_BELL:
        return Provision(
            True,
            "an emergency bell was pressed",
            VIDEO,
            frozenset({AccessPurpose.CRIME_PREVENTION}),
            BASIS_BELL,
            AgencyKind.CITY,
        )
    purposes = CRIME_PURPOSES if kind in CRIME_TYPES else EMERGENCY_PURPOSES
    if kind not in CRIME_TYPES and kind not in EMERGENCY_TYPES:
        purposes = frozenset({AccessPurpose.CRIME_PREVENTION})
    return Provision(True, f"raised by an operator: {label}", VIDEO, purposes, BASIS_OPERATOR, None)


def _nothing(reason: str, responder_kind: AgencyKind) -> Provision:
    return Provision(False, reason, frozenset(), frozenset(), "", responder_kind)
