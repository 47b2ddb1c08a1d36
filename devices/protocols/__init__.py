"""Sensor protocols, one module per family, and the registry that picks one for an advertisement.

``PROTOCOLS`` maps each family name (the module's name) to its :class:`~devices.protocols.base.SensorProtocol`
subclass; :func:`identify` matches a scanned advertisement (name, service UUIDs, manufacturer data) to a
family; :func:`get_protocol` builds a configured instance by family name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .base import Command, Decoded, SensorProtocol
from .metawear import MetaWear
from .movella_dot import MovellaDot
from .movesense import Movesense
from .polar_pmd import PolarPMD
from .rsc import RSC
from .witmotion import WitMotion

__all__ = [
    "PROTOCOLS",
    "Command",
    "Decoded",
    "MetaWear",
    "MovellaDot",
    "Movesense",
    "PolarPMD",
    "RSC",
    "SensorProtocol",
    "WitMotion",
    "get_protocol",
    "identify",
]

#: Family name -> protocol class, in the order :func:`identify` tries them (IMUs first; the footpod service
#: last, because a device that also happens to expose RSC should be used as the IMU it is).
PROTOCOLS: dict[str, type[SensorProtocol]] = {
    cls.family: cls for cls in (MovellaDot, WitMotion, Movesense, PolarPMD, MetaWear, RSC)
}


def identify(
    name: str | None,
    service_uuids: Sequence[str] = (),
    manufacturer_data: Mapping[int, bytes] | None = None,
) -> type[SensorProtocol] | None:
    """The protocol class whose ``matches`` accepts this advertisement, or None when no family does.

    Service UUIDs may be given in 16-bit (``"1814"``) or 128-bit form, any case.
    """
    uuids = list(service_uuids or ())
    mdata = dict(manufacturer_data or {})
    for cls in PROTOCOLS.values():
        if cls().matches(name, uuids, mdata):
            return cls
    return None


def get_protocol(family: str, **config: object) -> SensorProtocol:
    """A configured protocol instance, e.g. ``get_protocol("polar_pmd", rate_hz=208, acc_range_g=8)``.

    Raises ValueError listing the allowed families for an unknown one (the class raises for bad options).
    """
    key = str(family).strip().lower()
    if key not in PROTOCOLS:
        allowed = ", ".join(repr(k) for k in PROTOCOLS)
        raise ValueError(f"family: allowed values are {allowed}, but got {family!r}.")
    return PROTOCOLS[key](**config)
