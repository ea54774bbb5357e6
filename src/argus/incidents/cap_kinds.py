"""What kind of incident a CAP ``<info>`` describes, and how urgent it is for Argus.

Kind
----
One of Argus's incident type codes (``argus.incidents.vocab.INCIDENT_TYPES``; ``KINDS`` lists
the ones CAP can produce, and a test keeps them in that vocabulary). The first rule that
matches wins:

1. an ``<eventCode>`` whose valueName is ``SAME`` (the US/EAS event codes many CAP feeds carry)
   and whose value is in ``SAME_KINDS`` (``FLW`` → flood, ``FRW`` → fire, ``EQW`` → earthquake,
   ``HUW`` → typhoon, ``CAE`` → kidnapping, …);
2. an ``<eventCode>`` of any valueName whose value is itself a kind code (``flood``, ``fire``;
   not the catch-alls ``other…``);
3. a keyword of ``EVENT_KEYWORDS`` found in the lower-cased ``<event>`` text, English or Korean:
   ``Flood Warning``/``홍수`` → flood, ``호우경보`` → heavy_rain, ``산불``/``화재`` → fire,
   ``지진`` → earthquake, ``태풍`` → typhoon, ``산사태`` → landslide, ``폭염`` → heat_wave,
   ``대설`` → snow, ``실종`` → missing_person, ``교통사고`` → traffic_accident, and so on.
   Hazards the vocabulary has no code for (tsunami, cold wave, storm, volcano, radiation, air
   quality, epidemic) are ``other_disaster``; they are listed first so that ``지진해일``
   (tsunami) is not read as ``지진`` (earthquake);
4. the first ``<category>`` through ``CATEGORY_KINDS`` (``Fire`` → fire, ``Rescue`` → rescue,
   ``Health`` → medical, ``CBRNE`` → chemical, ``Security`` → other_crime, ``Geo``/``Met``/
   ``Env`` → other_disaster, the rest → other).

Priority
--------
1 (highest) … 5, from the CAP urgency and severity, each ranked from 0 (most pressing):
``priority = 1 + min(4, severity_rank + urgency_rank + certainty_penalty)`` with

* severity: Extreme 0, Severe 1, Moderate 2, Unknown 2, Minor 3;
* urgency: Immediate 0, Expected 1, Unknown 1, Future 2, Past 3;
* certainty: Unlikely adds 1, every other value adds 0.

So an Extreme/Immediate alert is 1, Severe/Immediate or Extreme/Expected 2, Moderate/Expected 4,
and anything Past is at least 4. The priority never rises when severity, urgency or certainty
get weaker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from argus.incidents.cap_model import CapInfo, Category, Certainty, Severity, Urgency

KINDS: Final = (
    "flood",
    "heavy_rain",
    "fire",
    "earthquake",
    "typhoon",
    "landslide",
    "heat_wave",
    "snow",
    "chemical",
    "rescue",
    "medical",
    "traffic_accident",
    "missing_person",
    "kidnapping",
    "other_crime",
    "other_disaster",
    "other",
)
"""Every kind code ``kind_of`` can return."""

_FLOOD = ["FFW", "FFA", "FFS", "FLW", "FLA", "FLS", "CFW", "CFA", "SSW", "SSA"]
_DISASTER = [
    *("TSW", "TSA", "TOR", "TOA", "SVR", "SVA", "SVS", "SMW", "EWW", "HWW", "HWA", "VOW"),
    *("NUW", "RHW", "EVI", "SPW", "CEM", "CDW", "LAE"),
]
SAME_KINDS: Final[Mapping[str, str]] = {
    **dict.fromkeys(_FLOOD, "flood"),
    **dict.fromkeys(["FRW", "FWW"], "fire"),
    "EQW": "earthquake",
    **dict.fromkeys(["HUW", "HUA", "HLS", "TRW", "TRA"], "typhoon"),
    **dict.fromkeys(["WSW", "WSA", "BZW", "ISW", "AVW", "AVA"], "snow"),
    "HMW": "chemical",
    **dict.fromkeys(_DISASTER, "other_disaster"),
    "CAE": "kidnapping",
    "LEW": "other_crime",
    **dict.fromkeys(["RWT", "RMT", "NPT", "DMO", "ADR", "TOE"], "other"),
}
"""SAME (EAS) event codes Argus recognises, by kind."""

EVENT_KEYWORDS: Final[tuple[tuple[str, str], ...]] = (
    ("tsunami", "other_disaster"),
    ("지진해일", "other_disaster"),
    ("해일", "other_disaster"),
    ("쓰나미", "other_disaster"),
    ("volcan", "other_disaster"),
    ("화산", "other_disaster"),
    ("radiolog", "other_disaster"),
    ("nuclear", "other_disaster"),
    ("방사능", "other_disaster"),
    ("earthquake", "earthquake"),
    ("지진", "earthquake"),
    ("heavy rain", "heavy_rain"),
    ("rainfall", "heavy_rain"),
    ("호우", "heavy_rain"),
    ("폭우", "heavy_rain"),
    ("flood", "flood"),
    ("홍수", "flood"),
    ("침수", "flood"),
    ("범람", "flood"),
    ("firearm", "other_crime"),
    ("wildfire", "fire"),
    ("fire", "fire"),
    ("산불", "fire"),
    ("화재", "fire"),
    ("typhoon", "typhoon"),
    ("hurricane", "typhoon"),
    ("tropical", "typhoon"),
    ("태풍", "typhoon"),
    ("landslide", "landslide"),
    ("mudslide", "landslide"),
    ("산사태", "landslide"),
    ("토사", "landslide"),
    ("snow", "snow"),
    ("blizzard", "snow"),
    ("avalanche", "snow"),
    ("대설", "snow"),
    ("폭설", "snow"),
    ("heat", "heat_wave"),
    ("폭염", "heat_wave"),
    ("hazardous", "chemical"),
    ("chemical", "chemical"),
    ("gas leak", "chemical"),
    ("화학", "chemical"),
    ("유해", "chemical"),
    ("가스", "chemical"),
    ("cold", "other_disaster"),
    ("freez", "other_disaster"),
    ("한파", "other_disaster"),
    ("storm", "other_disaster"),
    ("tornado", "other_disaster"),
    ("wind", "other_disaster"),
    ("강풍", "other_disaster"),
    ("풍랑", "other_disaster"),
    ("dust", "other_disaster"),
    ("air quality", "other_disaster"),
    ("미세먼지", "other_disaster"),
    ("황사", "other_disaster"),
    ("epidemic", "other_disaster"),
    ("pandemic", "other_disaster"),
    ("감염병", "other_disaster"),
    ("abduct", "kidnapping"),
    ("kidnap", "kidnapping"),
    ("납치", "kidnapping"),
    ("missing", "missing_person"),
    ("실종", "missing_person"),
    ("traffic accident", "traffic_accident"),
    ("crash", "traffic_accident"),
    ("교통사고", "traffic_accident"),
    ("terror", "other_crime"),
    ("테러", "other_crime"),
    ("shooting", "other_crime"),
    ("crime", "other_crime"),
    ("범죄", "other_crime"),
    ("rescue", "rescue"),
    ("구조", "rescue"),
    ("evacuat", "other_disaster"),
    ("대피", "other_disaster"),
)
"""(keyword, kind) checked in order against the lower-cased ``<event>`` text."""

CATEGORY_KINDS: Final[Mapping[Category, str]] = {
    "Geo": "other_disaster",
    "Met": "other_disaster",
    "Safety": "other",
    "Security": "other_crime",
    "Rescue": "rescue",
    "Fire": "fire",
    "Health": "medical",
    "Env": "other_disaster",
    "Transport": "other",
    "Infra": "other",
    "CBRNE": "chemical",
    "Other": "other",
}

SEVERITY_RANK: Final[Mapping[Severity, int]] = {
    "Extreme": 0,
    "Severe": 1,
    "Moderate": 2,
    "Unknown": 2,
    "Minor": 3,
}
URGENCY_RANK: Final[Mapping[Urgency, int]] = {
    "Immediate": 0,
    "Expected": 1,
    "Unknown": 1,
    "Future": 2,
    "Past": 3,
}
CERTAINTY_PENALTY: Final[Mapping[Certainty, int]] = {
    "Observed": 0,
    "Likely": 0,
    "Possible": 0,
    "Unknown": 0,
    "Unlikely": 1,
}


def kind_of(info: CapInfo) -> str:
    """The kind code of an ``<info>`` block (see the module docstring for the rules)."""
    for name, value in info.event_codes:
        if name.strip().upper() == "SAME" and value.strip().upper() in SAME_KINDS:
            return SAME_KINDS[value.strip().upper()]
    for _, value in info.event_codes:
        code = value.strip().lower()
        if code in KINDS and not code.startswith("other"):
            return code
    event = info.event.lower()
    for keyword, kind in EVENT_KEYWORDS:
        if keyword in event:
            return kind
    return CATEGORY_KINDS[info.categories[0]] if info.categories else "other"


def priority_of(urgency: Urgency, severity: Severity, certainty: Certainty) -> int:
    """1 (highest) … 5 from CAP urgency, severity and certainty."""
    score = SEVERITY_RANK[severity] + URGENCY_RANK[urgency] + CERTAINTY_PENALTY[certainty]
    return 1 + min(4, score)
