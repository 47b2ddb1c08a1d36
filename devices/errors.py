"""Errors of the BLE layer that a user can cause and fix: each carries a one-line message that says what to do.

The ``gait`` command prints them as one line; they are not bugs, so no traceback.
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base class for problems with sensors or the radio (switched off, out of range, no Bluetooth)."""


class BluetoothUnavailableError(DeviceError):
    """This machine has no usable Bluetooth stack (no adapter, no BlueZ, no D-Bus system bus)."""


class SensorNotFoundError(DeviceError):
    """A named or paired sensor was not seen advertising."""


class SensorTimeoutError(DeviceError):
    """A sensor was seen but did not answer in time (switched off, out of range, connected elsewhere)."""


class SensorConnectionError(DeviceError):
    """Connecting or starting the stream failed for another reason."""


class UnsupportedSensorError(DeviceError):
    """A device that speaks none of the supported sensor protocols, or a protocol that is not installed."""
