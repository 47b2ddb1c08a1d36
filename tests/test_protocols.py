"""devices.protocols: vendor test vectors, command bytes, identification, round trips and fuzzing.

* Every vector of ble-protocols.md §4.8 decodes to its published values, to the printed precision.
* Command bytes for known configurations equal the reference bytes.
* encode -> decode round-trips random samples within quantization bounds (hypothesis).
* Fuzzing: random and near-valid payloads never raise, and each vectorized decoder agrees with a naive
  per-payload reference decoder written here from the reference text (differential test); valid payloads mixed
  with guaranteed-bad ones decode as they do alone, and ``n_bad`` counts exactly the bad ones.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from devices.protocols import (
    PROTOCOLS,
    MetaWear,
    MovellaDot,
    Movesense,
    PolarPMD,
    SensorProtocol,
    WitMotion,
    get_protocol,
    identify,
)
from devices.protocols._common import unwrap_counter
from devices.protocols.rsc import RSC

pytestmark = pytest.mark.filterwarnings("error")  # decoders must be silent on any input

G = 9.80665
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ = settings(FAST, max_examples=150)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def deg(x: np.ndarray) -> np.ndarray:
    return np.degrees(x)


# --- §4.8 test vectors ---------------------------------------------------------------------------------------
def test_vector_metawear_bmi160_acc_4g() -> None:
    d = MetaWear(acc_range_g=4).decode([h("03 04 16 c4 94 a2 2a d0")])
    np.testing.assert_allclose(d.acc / G, [[-1.872, -2.919, -1.495]], atol=5e-4)
    assert np.isnan(d.gyr).all() and d.n_bad == 0 and d.sensor_time_s is None


def test_vector_metawear_packed_acc_8g() -> None:
    d = MetaWear(acc_range_g=8).decode([h("03 1c 62 b7 53 0d e9 fd 16 d0 4d 0e 57 02 8a ff a1 05 0a 01")])
    expected = [(-4.539, 0.833, -0.131), (-2.995, 0.894, 0.146), (-0.029, 0.352, 0.065)]
    np.testing.assert_allclose(d.acc / G, expected, atol=5e-4)
    assert d.payload_index.tolist() == [0, 0, 0]


def test_vector_metawear_gyro_500dps() -> None:
    d = MetaWear(gyr_range_dps=500).decode([h("13 05 3e 43 ff 7f 00 80")])
    np.testing.assert_allclose(deg(d.gyr), [[262.409, 499.497, -499.512]], atol=5e-4)
    assert np.isnan(d.acc).all()


def test_vector_metawear_packed_gyro_1000dps() -> None:
    d = MetaWear(gyr_range_dps=1000).decode([h("13 07 09 15 ad 26 08 de 8a 1a 0d 26 65 e4 8d 20 ac 27 73 ec")])
    assert d.n_samples == 3
    np.testing.assert_allclose(deg(d.gyr[0]), [164.177, 301.860, -265.122], atol=5e-4)


POLAR_RAW_ACC = h("02 00 94 35 77 00 00 00 00 01") + h("F7 FF FF FF E7 03 F8 FF FE FF E5 03")


def test_vector_polar_raw_acc() -> None:
    d = PolarPMD(rate_hz=52).decode([POLAR_RAW_ACC])
    np.testing.assert_allclose(d.acc / G * 1000, [(-9, -1, 999), (-8, -2, 997)], atol=1e-9)
    # ts = 2 000 000 000 ns belongs to the last sample; the first is one nominal period earlier
    np.testing.assert_allclose(d.sensor_time_s, [2.0 - 1 / 52, 2.0], atol=1e-12)


def test_vector_polar_compressed_acc() -> None:
    # §4.8 gives the first bytes ("…"); the rest of the 56-sample, 10-bit block is zero deltas here.
    content = h("71 07 F0 6A 9E 8D 0A 38 BE 5C BE BA")
    block_bytes = 56 * 3 * 10 // 8
    payload = h("02 00 94 35 77 00 00 00 00 80") + content + bytes(block_bytes - 4)
    acc, gyr, n_bad = PolarPMD(acc_factor=2.44e-4).decode_streams([payload])
    assert n_bad == 0 and gyr.values.shape == (0, 3)
    assert acc.values.shape == (1 + 56, 3)  # reference sample + 56 delta samples
    mg = acc.values / G * 1000
    np.testing.assert_allclose(mg[0], np.array([1905, 27376, -29282]) * 2.44e-4 * 1000, atol=1e-9)
    np.testing.assert_allclose(mg[1], np.array([1905 + 190, 27376 - 105, -29282 - 85]) * 2.44e-4 * 1000, atol=1e-9)


def test_vector_polar_compressed_gyro() -> None:
    payload = h("05 00 94 35 77 00 00 00 00 80") + h("EA FF 08 00 0D 00 03 01 DF 00")
    _, gyr, n_bad = PolarPMD(gyr_factor=1.0).decode_streams([payload])
    assert n_bad == 0
    np.testing.assert_allclose(deg(gyr.values), [(-22, 8, 13), (-22 - 1, 8 + 3, 13 + 3)], atol=1e-9)


def test_vector_rsc() -> None:
    d = RSC().decode([h("03 96 00 3c 64 00 88 13 00 00")])
    assert d.n_samples == 0 and d.acc.shape == (0, 3) and d.extra_payload_index.tolist() == [0]
    assert round(d.extra["speed_mps"][0], 3) == 0.586  # not 1.5 m/s as a bleno sample comments
    assert d.extra["cadence_spm"][0] == 60
    assert d.extra["stride_length_m"][0] == pytest.approx(1.00)
    assert d.extra["distance_m"][0] == pytest.approx(500.0)


def test_vector_rsc_stryd_flag_bit7_and_trailing_bytes() -> None:
    d = RSC().decode([h("80 07 00 00 00 00 ff ff ff 00 00 00 00")])
    assert d.n_bad == 0
    assert d.extra["speed_mps"][0] == pytest.approx(7 / 256)
    assert np.isnan(d.extra["stride_length_m"][0]) and np.isnan(d.extra["distance_m"][0])
    assert not d.extra["running"][0]


def test_vector_witmotion() -> None:
    payload = h("55 61 0000 0000 0008 0000 0000 6606") + bytes(6)
    d = WitMotion().decode([payload])
    np.testing.assert_allclose(d.acc / G, [[0, 0, 1.0]], atol=1e-12)
    assert deg(d.gyr[0, 2]) == pytest.approx(100, abs=0.03)
    assert d.sensor_time_s is None


# --- command bytes -------------------------------------------------------------------------------------------
def test_polar_acc_start_command_matches_reference_example() -> None:
    cmds = PolarPMD(rate_hz=52, acc_range_g=8, gyr_range_dps=2000).start_commands()
    assert [c.data for c in cmds] == [
        h("02 09"),
        h("02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03"),
        h("02 05 00 01 34 00 01 01 10 00 02 01 D0 07 04 01 03"),
    ]
    assert {c.char_uuid for c in cmds} == {"fb005c81-02e7-f387-1cad-8acd2d8df0c8"}
    stop = [c.data for c in PolarPMD().stop_commands()]
    assert stop == [h("03 02"), h("03 05"), h("03 09")]
    assert PolarPMD().notify_char_uuids() == [
        "fb005c82-02e7-f387-1cad-8acd2d8df0c8",
        "fb005c81-02e7-f387-1cad-8acd2d8df0c8",
    ]


def test_polar_control_response_factor() -> None:
    p = PolarPMD(acc_range_g=8)
    resp = p.apply_control_response(h("F0 02 02 00 00") + bytes([5, 1]) + struct.pack("<f", 2.44e-4))
    assert resp is not None and resp.error == 0 and p.acc_factor == pytest.approx(2.44e-4)
    assert p.apply_control_response(b"\x01\x02") is None
    with pytest.raises(ValueError, match="negative"):
        p.encode(np.zeros((2, 3)), np.zeros((2, 3)), np.array([-1.0, 0.0]))


def test_metawear_commands_bmi160() -> None:
    plain = MetaWear(rate_hz=100, acc_range_g=4, gyr_range_dps=500, packed=False)
    assert [c.data for c in plain.start_commands()] == [
        h("03 03 28 05"),
        h("13 03 28 02"),
        h("03 04 01"),
        h("03 02 01 00"),
        h("13 05 01"),
        h("13 02 01 00"),
        h("13 01 01"),
        h("03 01 01"),
    ]
    assert [c.data for c in plain.stop_commands()][:3] == [h("03 01 00"), h("03 02 00 01"), h("03 04 00")]
    packed = [c.data for c in MetaWear(rate_hz=200, acc_range_g=16).start_commands()]
    assert h("03 03 29 0C") in packed and h("03 1C 01") in packed and h("13 07 01") in packed
    assert all(not c.response for c in plain.start_commands())


def test_metawear_commands_bmi270() -> None:
    cmds = [c.data for c in MetaWear(rate_hz=100, acc_range_g=8, variant="bmi270").start_commands()]
    assert cmds[0] == h("03 03 A8 02")
    assert h("03 05 01") in cmds and h("13 05 01") in cmds  # packed registers of the BMI270 firmware


def test_witmotion_commands() -> None:
    cmds = WitMotion(rate_hz=100).start_commands()
    assert [c.data for c in cmds] == [h("FF AA 69 88 B5"), h("FF AA 03 09 00")]
    assert all(c.char_uuid == "0000ffe9-0000-1000-8000-00805f9a34fb" and not c.response for c in cmds)
    assert WitMotion(rate_hz=200).start_commands()[1].data == h("FF AA 03 0B 00")
    assert WitMotion().notify_char_uuids() == ["0000ffe4-0000-1000-8000-00805f9a34fb"]


def test_movesense_commands() -> None:
    p = Movesense(rate_hz=100)
    assert [c.data for c in p.start_commands()] == [b"\x00\x63", b"\x01\x63/Meas/IMU6/104"]
    assert [c.data for c in p.stop_commands()] == [b"\x02\x63"]
    assert Movesense(rate_hz=200).path == "/Meas/IMU6/208"


def test_movella_dot_commands() -> None:
    p = MovellaDot(rate_hz=60)
    rate, start = p.start_commands()
    assert start.data == h("01 01 14") and p.stop_commands()[0].data == h("01 00 14")
    assert rate.char_uuid == "15171002-4947-11e9-8646-d663bd873d93"
    assert len(rate.data) == 32 and rate.data[0] == 0x10 and rate.data[24:26] == h("3C 00")
    assert MovellaDot(payload_mode=26).start_commands()[1].data == h("01 01 1A")
    assert MovellaDot(payload_mode=26).data_char_uuid == "15172002-4947-11e9-8646-d663bd873d93"
    assert p.data_char_uuid == "15172003-4947-11e9-8646-d663bd873d93"


def test_rsc_has_no_commands() -> None:
    p = RSC()
    assert p.start_commands() == [] and p.stop_commands() == [] and not p.is_imu
    assert p.notify_char_uuids() == ["00002a53-0000-1000-8000-00805f9b34fb"]
    with pytest.raises(NotImplementedError):
        p.encode(np.zeros((1, 3)), np.zeros((1, 3)))


# --- registry ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "uuids", "mdata", "expected"),
    [
        ("Movella DOT", [], {}, MovellaDot),
        ("Xsens DOT", [], {}, MovellaDot),
        (None, [], {0x0886: b"\x01\x02"}, MovellaDot),
        ("WT901BLE68", [], {}, WitMotion),
        (None, ["0000ffe5-0000-1000-8000-00805f9a34fb"], {}, WitMotion),
        (None, ["FFE5"], {}, WitMotion),
        ("Movesense 174630000192", [], {}, Movesense),
        ("Polar Sense B5A3F12C", [], {}, PolarPMD),
        (None, ["FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8"], {}, PolarPMD),
        ("MetaWear", [], {}, MetaWear),
        (None, ["326a9000-85cb-9195-d9dd-464cfbbae75a"], {}, MetaWear),
        ("Stryd", ["00001814-0000-1000-8000-00805f9b34fb"], {}, RSC),
        ("RunPod", ["1814"], {}, RSC),
        ("Forerunner 265", ["180d"], {0x0087: b""}, None),
        (None, [], {}, None),
    ],
)
def test_identify(name, uuids, mdata, expected) -> None:
    assert identify(name, uuids, mdata) is expected


def test_registry_and_get_protocol() -> None:
    assert set(PROTOCOLS) == {"movella_dot", "witmotion", "movesense", "polar_pmd", "metawear", "rsc"}
    assert all(issubclass(c, SensorProtocol) and c.family == k for k, c in PROTOCOLS.items())
    p = get_protocol("polar_pmd", rate_hz=200, acc_range_g=16)
    assert isinstance(p, PolarPMD) and p.rate_hz == 208 and p.acc_range_g == 16
    with pytest.raises(ValueError, match=r"allowed values are .*'polar_pmd'.*but got 'garmin'"):
        get_protocol("garmin")
    with pytest.raises(ValueError, match="acc_range_g"):
        get_protocol("metawear", acc_range_g=3)


# --- round trips -------------------------------------------------------------------------------------------------
def samples(n_max: int, acc_lim: float, gyr_lim: float):
    """(acc m/s², gyr rad/s) arrays of the same random length, within the given limits."""
    return st.integers(1, n_max).flatmap(
        lambda n: st.tuples(
            hnp.arrays(float, (n, 3), elements=st.floats(-acc_lim, acc_lim, allow_nan=False)),
            hnp.arrays(float, (n, 3), elements=st.floats(-gyr_lim, gyr_lim, allow_nan=False)),
        )
    )


@FAST
@given(samples(60, 15.9 * G, np.radians(1999)))
def test_roundtrip_witmotion(data) -> None:
    acc, gyr = data
    p = WitMotion()
    d = p.decode(p.encode(acc, gyr))
    assert d.n_bad == 0 and d.n_samples == len(acc)
    assert np.abs(d.acc - acc).max() <= 16 * G / 32768 / 2 + 1e-9
    assert np.abs(d.gyr - gyr).max() <= np.radians(2000 / 32768) / 2 + 1e-12


@FAST
@given(
    samples(40, 1.99 * G, np.radians(124)),
    st.sampled_from(["bmi160", "bmi270"]),
    st.booleans(),
    st.sampled_from([2.0, 4.0, 8.0, 16.0]),
    st.sampled_from([125.0, 250.0, 500.0, 1000.0, 2000.0]),
)
def test_roundtrip_metawear(data, variant, packed, acc_range, gyr_range) -> None:
    acc, gyr = data
    p = MetaWear(rate_hz=200, acc_range_g=acc_range, gyr_range_dps=gyr_range, variant=variant, packed=packed)
    payloads = p.encode(acc, gyr)
    d = p.decode(payloads)
    assert d.n_bad == 0 and d.n_samples == len(acc)
    assert np.abs(d.acc - acc).max() <= p.acc_lsb / 2 + 1e-9
    assert np.abs(d.gyr - gyr).max() <= p.gyr_lsb / 2 + 1e-12
    if packed:
        assert sum(len(x) == 20 for x in payloads) == 2 * (len(acc) // 3)


@FAST
@given(samples(100, 7.9 * G, np.radians(1990)), st.floats(0, 8e8), st.sampled_from([26.0, 52.0, 208.0, 416.0]))
def test_roundtrip_polar(data, t0, rate) -> None:
    acc, gyr = data
    p = PolarPMD(rate_hz=rate, acc_range_g=8, gyr_range_dps=2000, samples_per_frame=17)
    t = t0 + np.arange(len(acc)) / rate
    payloads = p.encode(acc, gyr, t)
    assert max(map(len, payloads)) <= 244
    d = p.decode(payloads)
    assert d.n_bad == 0 and d.n_samples == len(acc)
    assert np.abs(d.acc - acc).max() <= p.acc_factor * G / 2 + 1e-9
    assert np.abs(d.gyr - gyr).max() <= np.radians(p.gyr_factor) / 2 + 1e-12
    np.testing.assert_allclose(d.sensor_time_s, t, rtol=0, atol=1e-6)


@FAST
@given(samples(40, 16 * G, np.radians(2000)), st.floats(0, 1e4), st.sampled_from([20, 26]))
def test_roundtrip_movella_dot(data, t0, mode) -> None:
    acc, gyr = data
    p = MovellaDot(rate_hz=60, payload_mode=mode)
    t = t0 + np.arange(len(acc)) / 60
    d = p.decode(p.encode(acc, gyr, t))
    assert d.n_bad == 0 and d.n_samples == len(acc)
    np.testing.assert_allclose(d.acc, acc, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(d.gyr, gyr, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(np.diff(d.sensor_time_s), np.diff(t), atol=1.5e-6)  # µs ticks, unwrapped
    wraps = (t[0] - d.sensor_time_s[0]) / (2**32 * 1e-6)
    assert abs(wraps - round(wraps)) < 1e-6


@FAST
@given(samples(50, 16 * G, np.radians(2000)), st.floats(0, 1e4), st.sampled_from([13, 52, 104, 208]))
def test_roundtrip_movesense(data, t0, rate) -> None:
    acc, gyr = data
    p = Movesense(rate_hz=rate)
    t = t0 + np.arange(len(acc)) / p.rate_hz
    d = p.decode(p.encode(acc, gyr, t))
    assert d.n_bad == 0 and d.n_samples == len(acc)
    np.testing.assert_allclose(d.acc, acc, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(d.gyr, gyr, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(d.sensor_time_s, t, atol=0.5e-3 + 1e-9)  # packet time in ms


@FAST
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            hnp.arrays(float, n, elements=st.floats(0, 255)),
            hnp.arrays(float, n, elements=st.floats(0, 255)),
            hnp.arrays(float, n, elements=st.one_of(st.just(np.nan), st.floats(0, 655))),
            hnp.arrays(float, n, elements=st.one_of(st.just(np.nan), st.floats(0, 4e8))),
            hnp.arrays(bool, n),
        )
    )
)
def test_roundtrip_rsc(cols) -> None:
    speed, cadence, stride, dist, running = cols
    d = RSC().decode(RSC().encode_measurements(speed, cadence, stride, dist, running))
    assert d.n_bad == 0
    assert np.abs(d.extra["speed_mps"] - speed).max() <= 1 / 512 + 1e-12
    assert np.abs(d.extra["cadence_spm"] - cadence).max() <= 0.5
    np.testing.assert_allclose(d.extra["stride_length_m"], stride, atol=0.005 + 1e-9)
    np.testing.assert_allclose(d.extra["distance_m"], dist, atol=0.05 + 1e-6)
    assert (d.extra["running"] == running).all()


# --- specific behaviour ----------------------------------------------------------------------------------------
def test_unwrap_counter() -> None:
    raw = np.array([2**32 - 20, 2**32 - 10, 5, 3, 15, 2**32 - 1, 30], dtype=np.uint32)
    np.testing.assert_array_equal(
        unwrap_counter(raw, 2**32) - 2**32,
        [-20, -10, 5, 3, 15, -1, 30],  # a late pre-rollover packet stays before the rollover
    )


def test_movella_dot_rollover_over_a_long_recording() -> None:
    p = MovellaDot(rate_hz=1)
    t = np.arange(0, 3 * 4295, 10.0)  # ~3.6 h: two rollovers of the µs counter
    d = p.decode(p.encode(np.zeros((t.size, 3)), np.zeros((t.size, 3)), t))
    np.testing.assert_allclose(d.sensor_time_s, t, atol=1e-6)


def test_movesense_reassembly_and_losses() -> None:
    p = Movesense(rate_hz=104, samples_per_packet=8, max_payload=158)
    acc = np.arange(48, dtype=float).reshape(16, 3)
    payloads = p.encode(acc, -acc)
    assert [x[0] for x in payloads] == [2, 3, 2, 3]
    result = bytes([1, 0x63, 200, 0])
    d = p.decode([result, *payloads])
    np.testing.assert_array_equal(d.acc, acc)
    assert d.n_bad == 0 and d.payload_index.tolist() == [1] * 8 + [3] * 8
    lost_part2 = p.decode([payloads[0], payloads[2], payloads[3]])
    assert lost_part2.n_samples == 8 and lost_part2.n_bad == 1
    orphan = p.decode([payloads[1], payloads[2], payloads[3]])
    assert orphan.n_samples == 8 and orphan.n_bad == 1
    other_ref = p.decode([bytes([2, 0x10]) + payloads[0][2:], payloads[1]])
    assert other_ref.n_samples == 0 and other_ref.n_bad == 2


def test_polar_gyro_is_interpolated_onto_acc_times() -> None:
    rate = 52.0
    p = PolarPMD(rate_hz=rate, samples_per_frame=10, gyr_factor=0.01)
    n = 40
    t_acc = 100 + np.arange(n) / rate
    t_gyr = t_acc + 0.4 / rate  # the gyro samples fall between the acc samples
    ramp = np.radians(np.outer(np.arange(n), [1.0, -2.0, 0.5]))
    acc_frames = [x for x in p.encode(np.zeros((n, 3)), np.zeros((n, 3)), t_acc) if x[0] == 2]
    gyr_frames = [x for x in p.encode(np.zeros((n, 3)), ramp, t_gyr) if x[0] == 5]
    d = p.decode(acc_frames + gyr_frames)
    assert d.n_samples == n and not np.isnan(d.acc).any()
    np.testing.assert_allclose(d.sensor_time_s, t_acc, atol=1e-6)
    expected = np.radians(np.outer(np.arange(n) - 0.4, [1.0, -2.0, 0.5]))
    np.testing.assert_allclose(d.gyr[1:], expected[1:], atol=np.radians(0.01))
    np.testing.assert_allclose(d.gyr[0], ramp[0], atol=np.radians(0.01))  # edge: nearest held within 0.5 T
    # drop the second gyro frame: its 10 acc samples get NaN gyro (a gap stays a gap)
    gap = p.decode(acc_frames + gyr_frames[:1] + gyr_frames[2:])
    assert np.flatnonzero(np.isnan(gap.gyr).all(axis=1)).tolist() == list(range(10, 20))
    # gyro only: rows with NaN acc, nothing dropped
    only = p.decode(gyr_frames)
    assert only.n_samples == n and np.isnan(only.acc).all()


def test_metawear_pairs_by_counter_and_keeps_surplus_gyro() -> None:
    p = MetaWear(rate_hz=100, packed=True)
    acc = np.ones((6, 3))
    gyr = np.full((6, 3), 0.5)
    payloads = p.encode(acc, gyr)  # A G A G
    d = p.decode(payloads)
    assert d.n_samples == 6 and not np.isnan(d.gyr).any()
    extra_gyro = p.decode(payloads[1:])  # the first acc notification lost: 3 acc, 6 gyro samples
    assert extra_gyro.n_samples == 6 and np.isnan(extra_gyro.acc).all(axis=1).sum() == 3
    assert not np.isnan(extra_gyro.gyr).any()


def test_non_bytes_items_are_bad_not_raised() -> None:
    for cls in PROTOCOLS.values():
        d = cls().decode([None, "text", 12, memoryview(b"\x00")])  # type: ignore[list-item]
        assert d.n_bad == 4


# --- fuzzing: naive reference decoders ---------------------------------------------------------------------------
def ref_witmotion(payloads):
    acc, bad = [], 0
    for p in payloads:
        if len(p) == 20 and p[0] == 0x55 and p[1] == 0x61:
            acc.append(struct.unpack("<9h", p[2:])[:3])
        elif not (len(p) == 20 and p[0] == 0x55 and p[1] == 0x71):
            bad += 1
    return np.array(acc, dtype=float).reshape(-1, 3) * (16 * G / 32768), bad


def ref_dot(payloads):
    ts, acc, bad = [], [], 0
    for p in payloads:
        if len(p) in (34, 40):
            ts.append(struct.unpack_from("<I", p)[0])
            acc.append(struct.unpack_from("<3f", p, 4))
        elif len(p) in (44, 63):
            ts.append(struct.unpack_from("<I", p)[0])
            acc.append(struct.unpack_from("<3f", p, 20))
        else:
            bad += 1
    return ts, np.array(acc, dtype=float).reshape(-1, 3), bad


def ref_rsc(payloads):
    rows, bad = [], 0
    for p in payloads:
        if len(p) < 4:
            bad += 1
            continue
        flags, off = p[0], 4
        speed, cadence = struct.unpack_from("<HB", p, 1)
        stride = dist = np.nan
        if flags & 1:
            if len(p) < off + 2:
                bad += 1
                continue
            stride = struct.unpack_from("<H", p, off)[0] / 100
            off += 2
        if flags & 2:
            if len(p) < off + 4:
                bad += 1
                continue
            dist = struct.unpack_from("<I", p, off)[0] / 10
        rows.append((speed / 256, cadence, stride, dist, bool(flags & 4)))
    return np.array(rows, dtype=float).reshape(-1, 5), bad


def ref_metawear(payloads, variant):
    regs = {"bmi160": (0x04, 0x1C, 0x05, 0x07), "bmi270": (0x04, 0x05, 0x04, 0x05)}[variant]
    acc, gyr, bad = [], [], 0
    for p in payloads:
        out = None
        if len(p) >= 2 and p[0] in (0x03, 0x13):
            plain, packed = regs[0:2] if p[0] == 0x03 else regs[2:4]
            if (p[1] == plain and len(p) == 8) or (p[1] == packed and len(p) == 20):
                out = acc if p[0] == 0x03 else gyr
        if out is not None:
            out.extend(struct.unpack_from("<3h", p, 2 + 6 * k) for k in range((len(p) - 2) // 6))
        elif not (len(p) >= 2 and p[1] >= 0x80):
            bad += 1
    return np.array(acc, float).reshape(-1, 3), np.array(gyr, float).reshape(-1, 3), bad


def ref_polar_frame(p):
    """Samples (ints) of one PMD frame, or None when malformed, following polar-ble-sdk's parsers."""
    if len(p) <= 10 or p[0] not in (2, 5):
        return None
    body = p[10:]
    if p[9] == 0x01 and p[0] == 2:
        return [struct.unpack_from("<3h", body, 6 * i) for i in range(len(body) // 6)] if len(body) % 6 == 0 else None
    if p[9] != 0x80 or len(body) < 6:
        return None
    samples = [struct.unpack_from("<3h", body)]
    off = 6
    while off < len(body):
        if off + 2 > len(body):
            return None
        width, count = body[off], body[off + 1]
        nbytes = (width * count * 3 + 7) // 8
        if width > 32 or off + 2 + nbytes > len(body):
            return None
        bits = int.from_bytes(body[off + 2 : off + 2 + nbytes], "little")
        for s in range(count):
            delta = []
            for c in range(3):
                v = (bits >> ((3 * s + c) * width)) & ((1 << width) - 1)
                delta.append(v - (1 << width) if width and v >= 1 << (width - 1) else v)
            samples.append(tuple(a + b for a, b in zip(samples[-1], delta, strict=True)))
        off += 2 + nbytes
    return samples


def ref_polar(payloads, proto: PolarPMD):
    streams = {2: ([], []), 5: ([], [])}
    prev, bad = {2: None, 5: None}, 0
    for p in payloads:
        s = ref_polar_frame(p)
        if s is None:
            bad += 1
            continue
        kind, n, ts = p[0], len(s), int.from_bytes(p[1:9], "little")
        dt = 1 / proto.rate_hz
        if prev[kind] is not None and ts > prev[kind]:
            step = (ts - prev[kind]) * 1e-9 / n
            dt = step if abs(step * proto.rate_hz - 1) <= 0.25 else dt
        prev[kind] = ts
        if p[9] == 0x01:
            scale = G / 1000
        else:
            scale = proto.acc_factor * G if kind == 2 else proto.gyr_factor * np.pi / 180
        streams[kind][0].extend(ts * 1e-9 - (n - 1 - i) * dt for i in range(n))
        streams[kind][1].extend(np.array(v) * scale for v in s)
    return streams, bad


def ref_movesense(payloads, ref):
    def whole(size):
        return size >= 28 and (size - 4) % 24 == 0

    recs, bad, i = [], 0, 0
    while i < len(payloads):
        p = payloads[i]
        nxt = payloads[i + 1] if i + 1 < len(payloads) else b""
        if len(p) >= 4 and p[0] == 1:
            i += 1
        elif len(p) >= 2 and p[0] == 2 and p[1] == ref:
            if len(nxt) >= 2 and nxt[0] == 3 and nxt[1] == ref and whole(len(p) + len(nxt) - 4):
                recs.append(p[2:] + nxt[2:])
                i += 2
            elif whole(len(p) - 2):
                recs.append(p[2:])
                i += 1
            else:
                bad += 1
                i += 1
        else:
            bad += 1
            i += 1
    acc = []
    for r in recs:
        m = (len(r) - 4) // 24
        acc.extend(struct.unpack_from(f"<{3 * m}f", r, 4)[3 * k : 3 * k + 3] for k in range(m))
    return np.array(acc, float).reshape(-1, 3), bad


def near_valid(headers: list[bytes], sizes: list[int]):
    """Payloads that are often almost valid: a known header or a random one, a valid or a random length."""
    head = st.one_of(
        st.sampled_from(headers), st.sampled_from(headers), st.sampled_from(headers), st.binary(max_size=3)
    )
    size = st.one_of(st.sampled_from(sizes), st.sampled_from(sizes), st.sampled_from(sizes), st.integers(0, 70))
    return st.tuples(head, size, st.randoms(use_true_random=False)).map(
        lambda hsr: (hsr[0] + hsr[2].randbytes(max(hsr[1] - len(hsr[0]), 0)))[: max(hsr[1], 0)]
    )


def payload_lists(headers, sizes, extra=()):
    close = near_valid(headers, sizes)
    return st.lists(st.one_of(close, close, close, st.binary(max_size=40), *extra), max_size=25)


def nan_equal(a, b, **kw):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), equal_nan=True, **kw)


@FUZZ
@given(payload_lists([b"\x55\x61", b"\x55\x71", b"\x55"], [20, 19, 21]))
def test_fuzz_witmotion(payloads) -> None:
    d = WitMotion().decode(payloads)
    acc, bad = ref_witmotion(payloads)
    assert d.n_bad == bad
    nan_equal(d.acc, acc)


@FUZZ
@given(payload_lists([b""], [34, 40, 44, 63, 33, 45]))
def test_fuzz_movella_dot(payloads) -> None:
    d = MovellaDot().decode(payloads)
    ts, acc, bad = ref_dot(payloads)
    assert d.n_bad == bad
    nan_equal(d.acc, acc)
    nan_equal(d.sensor_time_s, unwrap_counter(np.array(ts, dtype=np.uint32), 2**32) * 1e-6)


@FUZZ
@given(payload_lists([b"\x00", b"\x01", b"\x03", b"\x07", b"\x84"], [3, 4, 6, 8, 10, 12, 13]))
def test_fuzz_rsc(payloads) -> None:
    d = RSC().decode(payloads)
    rows, bad = ref_rsc(payloads)
    assert d.n_bad == bad
    cols = ("speed_mps", "cadence_spm", "stride_length_m", "distance_m", "running")
    nan_equal(np.column_stack([d.extra[c] for c in cols]).reshape(-1, 5), rows)


@FUZZ
@given(
    payload_lists(
        [b"\x03\x04", b"\x03\x1c", b"\x13\x05", b"\x13\x07", b"\x03\x05", b"\x13\x04", b"\x03\x80"],
        [8, 20, 2, 9],
    ),
    st.sampled_from(["bmi160", "bmi270"]),
)
def test_fuzz_metawear(payloads, variant) -> None:
    p = MetaWear(variant=variant)
    (acc, _), (gyr, _), n_bad = p.decode_streams(payloads)
    ref_acc, ref_gyr, bad = ref_metawear(payloads, variant)
    assert n_bad == bad
    nan_equal(acc, ref_acc * p.acc_lsb)
    nan_equal(gyr, ref_gyr * p.gyr_lsb)
    d = p.decode(payloads)
    assert d.n_bad == bad and d.n_samples == max(len(acc), len(gyr))


def polar_delta_frames():
    """Well-formed delta frames with random widths and counts (plus occasional truncation)."""
    return st.tuples(
        st.sampled_from([2, 5]),
        st.integers(0, 2**64 - 1),
        st.lists(st.tuples(st.integers(0, 20), st.integers(0, 12)), max_size=3),
        st.randoms(use_true_random=False),
        st.booleans(),
    ).map(_build_polar_frame)


def _build_polar_frame(args) -> bytes:
    kind, ts, blocks, rnd, truncate = args
    body = rnd.randbytes(6)
    for width, count in blocks:
        body += bytes([width, count]) + rnd.randbytes((width * count * 3 + 7) // 8)
    frame = bytes([kind]) + ts.to_bytes(8, "little") + b"\x80" + body
    return frame[: rnd.randrange(len(frame))] if truncate else frame


@FUZZ
@given(
    payload_lists(
        [b"\x02" + bytes(8) + b"\x01", b"\x02" + bytes(8) + b"\x80", b"\x05" + bytes(8) + b"\x80"],
        [16, 22, 28, 11],
        extra=(polar_delta_frames(),),
    )
)
def test_fuzz_polar(payloads) -> None:
    p = PolarPMD(rate_hz=52)
    acc, gyr, n_bad = p.decode_streams(payloads)
    ref, bad = ref_polar(payloads, p)
    assert n_bad == bad
    for stream, kind in ((acc, 2), (gyr, 5)):
        nan_equal(stream.values, np.array(ref[kind][1]).reshape(-1, 3), rtol=1e-12)
        nan_equal(stream.t, ref[kind][0], rtol=1e-12, atol=1e-6)
    d = p.decode(payloads)
    assert d.n_bad == bad and d.n_samples >= len(acc.t)


@FUZZ
@given(
    payload_lists(
        [b"\x02\x63", b"\x03\x63", b"\x01\x63", b"\x02\x01"],
        [30, 54, 158, 42, 4, 2],
    )
)
def test_fuzz_movesense(payloads) -> None:
    d = Movesense(ref=0x63).decode(payloads)
    acc, bad = ref_movesense(payloads, 0x63)
    assert d.n_bad == bad
    nan_equal(d.acc, acc)


# --- fuzzing: valid payloads mixed with guaranteed-bad ones ------------------------------------------------------
BAD = {
    "witmotion": st.binary(max_size=40).filter(lambda b: len(b) != 20),
    "movella_dot": st.binary(max_size=70).filter(lambda b: len(b) not in (34, 40, 44, 63)),
    "movesense": st.tuples(st.sampled_from([0, 4, 9, 0xFF]), st.binary(max_size=60)).map(
        lambda t: bytes([t[0]]) + t[1]
    ),
    "polar_pmd": st.one_of(
        st.binary(max_size=10),
        st.tuples(st.sampled_from([0, 1, 3, 9]), st.binary()).map(lambda t: bytes([t[0]]) + t[1]),
    ),
    "metawear": st.one_of(
        st.binary(max_size=1),
        st.tuples(st.sampled_from([0x01, 0x11, 0x19]), st.integers(0, 0x7F), st.binary(max_size=20)).map(
            lambda t: bytes(t[:2]) + t[2]
        ),
    ),
}
IMU_FAMILIES = sorted(BAD)


@FUZZ
@given(st.sampled_from(IMU_FAMILIES).flatmap(lambda fam: st.tuples(
    st.just(fam),
    samples(30, 7.9 * G, np.radians(990)),
    st.lists(st.tuples(st.integers(0, 1000), BAD[fam]), max_size=8),
)))  # fmt: skip
def test_fuzz_mixture_of_valid_and_bad(args) -> None:
    family, (acc, gyr), garbage = args
    p = get_protocol(family)
    t = 50 + np.arange(len(acc)) / p.rate_hz
    valid = p.encode(acc, gyr, t)
    # garbage goes between records (never between a Movesense DATA and its DATA_PART2)
    slots = [i for i in range(len(valid) + 1) if i == len(valid) or valid[i][0] != 3 or family != "movesense"]
    mixed: list[bytes] = []
    origin: list[int] = []
    inserts = sorted((slots[k % len(slots)], g) for k, g in garbage)
    j = 0
    for i, v in enumerate([*valid, None]):
        while j < len(inserts) and inserts[j][0] == i:
            mixed.append(inserts[j][1])
            origin.append(-1)
            j += 1
        if v is not None:
            mixed.append(v)
            origin.append(i)
    alone, both = p.decode(valid), p.decode(mixed)
    assert both.n_bad == len(garbage) and alone.n_bad == 0
    nan_equal(both.acc, alone.acc)
    nan_equal(both.gyr, alone.gyr)
    if alone.sensor_time_s is not None:
        nan_equal(both.sensor_time_s, alone.sensor_time_s)
    assert (np.asarray(origin)[both.payload_index] == alone.payload_index).all()
