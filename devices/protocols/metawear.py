"""MbientLab MetaMotion (MetaWear): BMI160 or BMI270 acc (module 0x03) + gyro (module 0x13), plain or packed.

Reference: ble-protocols.md §4.3 (MetaWear-SDK-Cpp tests), with register numbers checked against the SDK's
``GyroBmi160Register`` / ``GyroBmi270Register`` (BMI270 gyro: data 0x04, packed 0x05) and the BMI270 acc
entries of §4.3 (odr ``0xA8``/``0xA9``, range codes 0..3, packed register 0x05). Notifications are
``<module> <register>`` + int16 LE x,y,z (one sample) or 3 samples back to back (packed).

There is no sensor time or counter on the wire (the SDK stamps host time [?]). Acc and gyro arrive as separate
notifications at the same ODR, so the decoder pairs them by their sample counters: the k-th gyro sample goes
with the k-th acc sample. A lost notification therefore shifts the pairing of that stream by its 1 or 3
samples until the end of the batch: decode in chunks split at host-time gaps to bound that. Commands are
written without response, as the SDK does [?].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._common import (
    DEG2RAD,
    G,
    PayloadTable,
    align_streams,
    any_uuid,
    as_samples,
    check_option,
    imu_decoded,
    name_starts,
    nearest,
    split_rows,
    to_int16,
    view,
)
from .base import Command, Decoded, SensorProtocol

SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_CHAR_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_CHAR_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"

MODULE_ACC, MODULE_GYRO = 0x03, 0x13
REG_POWER, REG_INTERRUPT_ENABLE, REG_CONFIG = 0x01, 0x02, 0x03
READ_BIT = 0x80
#: variant -> (acc data, acc packed, gyro data, gyro packed) registers
DATA_REGISTERS = {"bmi160": (0x04, 0x1C, 0x05, 0x07), "bmi270": (0x04, 0x05, 0x04, 0x05)}

RATES = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0)
#: Bosch ODR code (low nibble of the config byte): 25 Hz = 6 ... 800 Hz = 11
ODR_CODES = {25.0: 6, 50.0: 7, 100.0: 8, 200.0: 9, 400.0: 10, 800.0: 11}
ACC_RANGE_CODES = {
    "bmi160": {2.0: 0x03, 4.0: 0x05, 8.0: 0x08, 16.0: 0x0C},
    "bmi270": {2.0: 0x00, 4.0: 0x01, 8.0: 0x02, 16.0: 0x03},
}
GYR_RANGE_CODES = {2000.0: 0, 1000.0: 1, 500.0: 2, 250.0: 3, 125.0: 4}
GYR_LSB_PER_DPS = {2000.0: 16.4, 1000.0: 32.8, 500.0: 65.6, 250.0: 131.2, 125.0: 262.4}
SAMPLE_LEN, PACKED_LEN = 8, 20


class MetaWear(SensorProtocol):
    """MetaMotion streaming acc + gyro (``variant`` ``"bmi160"`` for MetaMotion R/C, ``"bmi270"`` for S).

    ``decode`` accepts plain and packed notifications of both sensors (whatever ``packed`` says), scales them
    by the configured ranges (acc LSB/g = 32768/range; gyro LSB/(°/s) = 16.4·2000/range) and pairs the streams
    by sample counter via :func:`~devices.protocols._common.align_streams` on a sample-index timeline (surplus
    samples of either stream become rows with the other one NaN). Returns acc (m/s²), gyr (rad/s),
    ``sensor_time_s=None``. Read responses (register with bit 7 set, e.g. module info) are skipped without
    counting as bad. Rates snap to 25…800 Hz; ranges must be supported values.
    """

    family = "metawear"
    model = "MbientLab MetaMotion"
    service_uuid = SERVICE_UUID
    data_char_uuid = NOTIFY_CHAR_UUID
    control_char_uuid = COMMAND_CHAR_UUID
    has_sensor_time = False
    is_imu = True

    def __init__(
        self,
        rate_hz: float = 100.0,
        acc_range_g: float = 16.0,
        gyr_range_dps: float = 2000.0,
        variant: str = "bmi160",
        packed: bool = True,
    ):
        check_option("variant", variant, tuple(DATA_REGISTERS))
        check_option("acc_range_g", float(acc_range_g), tuple(ACC_RANGE_CODES[variant]))
        check_option("gyr_range_dps", float(gyr_range_dps), tuple(GYR_RANGE_CODES))
        super().__init__(nearest(rate_hz, RATES), acc_range_g, gyr_range_dps)
        self.variant = variant
        self.packed = bool(packed)
        self.acc_lsb = self.acc_range_g * G / 32768.0  # m/s² per count
        self.gyr_lsb = DEG2RAD / GYR_LSB_PER_DPS[self.gyr_range_dps]  # rad/s per count

    def matches(self, name: str | None, service_uuids: Sequence[str], manufacturer_data: dict[int, bytes]) -> bool:
        return name_starts(name, ("MetaWear", "MetaMotion")) or any_uuid(service_uuids, (SERVICE_UUID,))

    # --- commands -----------------------------------------------------------------------------------------
    def _registers(self) -> tuple[int, int]:
        acc_data, acc_packed, gyr_data, gyr_packed = DATA_REGISTERS[self.variant]
        return (acc_packed, gyr_packed) if self.packed else (acc_data, gyr_data)

    def _cmd(self, *data: int) -> Command:
        return Command(COMMAND_CHAR_UUID, bytes(data), response=False)

    def start_commands(self) -> list[Command]:
        """Configure both sensors, subscribe, enable the data interrupts, then power gyro and acc on."""
        odr = ODR_CODES[self.rate_hz]
        acc_odr = (0xA0 if self.variant == "bmi270" else 0x20) | odr  # bwp = normal (+ filter_perf on BMI270)
        acc_reg, gyr_reg = self._registers()
        return [
            self._cmd(MODULE_ACC, REG_CONFIG, acc_odr, ACC_RANGE_CODES[self.variant][self.acc_range_g]),
            self._cmd(MODULE_GYRO, REG_CONFIG, 0x20 | odr, GYR_RANGE_CODES[self.gyr_range_dps]),
            self._cmd(MODULE_ACC, acc_reg, 0x01),
            self._cmd(MODULE_ACC, REG_INTERRUPT_ENABLE, 0x01, 0x00),
            self._cmd(MODULE_GYRO, gyr_reg, 0x01),
            self._cmd(MODULE_GYRO, REG_INTERRUPT_ENABLE, 0x01, 0x00),
            self._cmd(MODULE_GYRO, REG_POWER, 0x01),
            self._cmd(MODULE_ACC, REG_POWER, 0x01),
        ]

    def stop_commands(self) -> list[Command]:
        """Power off, disable the data interrupts, unsubscribe (acc first, then gyro)."""
        acc_reg, gyr_reg = self._registers()
        return [
            self._cmd(MODULE_ACC, REG_POWER, 0x00),
            self._cmd(MODULE_ACC, REG_INTERRUPT_ENABLE, 0x00, 0x01),
            self._cmd(MODULE_ACC, acc_reg, 0x00),
            self._cmd(MODULE_GYRO, REG_POWER, 0x00),
            self._cmd(MODULE_GYRO, REG_INTERRUPT_ENABLE, 0x00, 0x01),
            self._cmd(MODULE_GYRO, gyr_reg, 0x00),
        ]

    # --- data ---------------------------------------------------------------------------------------------
    def decode(self, payloads: Sequence[bytes]) -> Decoded:
        (acc, pa), (gyr, pg), n_bad = self.decode_streams(payloads)
        ka, kg = np.arange(len(acc), dtype=float), np.arange(len(gyr), dtype=float)
        _, a, g, pi = align_streams(ka, acc, pa, kg, gyr, pg, 1.0)
        return imu_decoded(a, g, None, pi, n_bad)

    def decode_streams(
        self, payloads: Sequence[bytes]
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], int]:
        """``((acc, payload_index), (gyr, payload_index), n_bad)``: each stream in arrival order, SI units."""
        tab = PayloadTable(payloads)
        mod, reg = tab.byte(0), tab.byte(1)
        acc_data, acc_packed, gyr_data, gyr_packed = DATA_REGISTERS[self.variant]
        streams = []
        used = np.zeros(tab.n, dtype=bool)
        for module, regs, lsb in ((MODULE_ACC, (acc_data, acc_packed), self.acc_lsb),
                                  (MODULE_GYRO, (gyr_data, gyr_packed), self.gyr_lsb)):  # fmt: skip
            plain = (mod == module) & (reg == regs[0]) & (tab.lengths == SAMPLE_LEN)
            packed = (mod == module) & (reg == regs[1]) & (tab.lengths == PACKED_LEN)
            sel = np.flatnonzero(plain | packed)
            count = np.where(packed[sel], 3, 1)
            values = np.zeros((int(count.sum()), 3))
            starts = np.cumsum(count) - count
            for m, size in ((plain[sel], SAMPLE_LEN), (packed[sel], PACKED_LEN)):
                if m.any():
                    k = (size - 2) // 6
                    dest = (starts[m, None] + np.arange(k)).ravel()
                    values[dest] = view(tab.rows(sel[m], size), 2, size, "<i2").reshape(-1, 3) * lsb
            streams.append((values, np.repeat(sel, count)))
            used[sel] = True
        reply = (tab.lengths >= 2) & (reg >= READ_BIT)
        return streams[0], streams[1], tab.n - int(used.sum()) - int((reply & ~used).sum())

    def encode(self, acc: np.ndarray, gyr: np.ndarray, sensor_time_s: np.ndarray | None = None) -> list[bytes]:
        """Packed notifications (3 samples) when ``packed`` (a remainder goes out as plain ones), acc and gyro
        interleaved; no time on the wire, so ``sensor_time_s`` is ignored."""
        acc, gyr = as_samples(acc, gyr)
        acc_data, acc_packed, gyr_data, gyr_packed = DATA_REGISTERS[self.variant]
        n = acc.shape[0]
        n3 = (n // 3) * 3 if self.packed else 0
        streams = []
        for module, data_reg, packed_reg, values, lsb in (
            (MODULE_ACC, acc_data, acc_packed, acc, self.acc_lsb),
            (MODULE_GYRO, gyr_data, gyr_packed, gyr, self.gyr_lsb),
        ):
            raw = to_int16(values, lsb).view(np.uint8)  # (n, 6)
            packed = np.empty((n3 // 3, PACKED_LEN), dtype=np.uint8)
            packed[:, 0], packed[:, 1] = module, packed_reg
            packed[:, 2:] = raw[:n3].reshape(-1, 18)
            plain = np.empty((n - n3, SAMPLE_LEN), dtype=np.uint8)
            plain[:, 0], plain[:, 1] = module, data_reg
            plain[:, 2:] = raw[n3:]
            streams.append(split_rows(packed) + split_rows(plain))
        return [p for pair in zip(*streams, strict=True) for p in pair]
