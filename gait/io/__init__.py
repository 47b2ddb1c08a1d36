"""File formats: the crash-safe raw BLE log (:mod:`gait.io.rawlog`) and readers of public dataset layouts."""
