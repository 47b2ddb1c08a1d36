"""devices: talk to BLE ankle IMUs through bleak (scan, connect, stream, decode), plus a simulated backend.

This package knows sensors, not gait: it never imports :mod:`gait`.
"""
