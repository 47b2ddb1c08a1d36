"""Virtual shank IMUs from the Fukuchi 2017 treadmill trials (test helper; needs ../shared/data).

Each trial: both shanks, a random strap mounting (fixed seed), the sensor a quarter of the way up the tibia and
5 cm out on the skin, 3 s of standing in the static pose first, light noise; force-plate reference events.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from gait import conventions as C

ALL_TRIALS = ("RBDS001runT25", "RBDS001runT35", "RBDS008runT35")


@dataclass
class VirtualTrial:
    name: str
    imu: dict
    fs: float
    t_offset: float  # IMU time of force/marker time 0
    transition_end: float
    ref: pd.DataFrame
    standing_angle_deg: dict
    speed_mps: float

    def reference(self, side: str) -> pd.DataFrame:
        r = self.ref[self.ref[C.SIDE] == side]
        return r[r[C.IC_TIME] + self.t_offset > self.transition_end + 0.2]


@cache
def virtual_trial(name: str, fs: float = 200.0, seed: int = 0) -> VirtualTrial:
    from gait.io.public import fukuchi_reference, load_fukuchi_trial, shank_angle_deg
    from gait.virtual_imu import random_mounting, shank_frame, virtual_imu

    tr = load_fukuchi_trial(name)
    ref = fukuchi_reference(tr)
    rng = np.random.default_rng(seed)
    imu, stand = {}, {}
    for side in C.SIDES:
        p = {"right": "R", "left": "L"}[side]
        st = tr.static
        sf = shank_frame(st[f"{p}.Knee"], st[f"{p}.Knee.Medial"], st[f"{p}.Ankle"], st[f"{p}.Ankle.Medial"], side)
        mount, normal = random_mounting(rng)
        r = virtual_imu(
            tr.cluster(side), tr.cluster(side, static=True), sf.site(0.25, 0.05 * normal), mount, tr.fs_markers, fs,
            segment_axes=sf.axes, up="y", standing_s=3.0, acc_noise=0.05, gyr_noise=0.005, rng=rng,
        )
        imu[side] = r
        knee = np.nanmean((st[f"{p}.Knee"] + st[f"{p}.Knee.Medial"]) / 2, axis=0)
        ankle = np.nanmean((st[f"{p}.Ankle"] + st[f"{p}.Ankle.Medial"]) / 2, axis=0)
        stand[side] = float(shank_angle_deg(knee[None], ankle[None])[0])
    t_off = float(imu["left"]["t_offset_s"])
    return VirtualTrial(name, imu, fs, t_off, float(imu["left"]["transition_end_s"]), ref.strides, stand,
                        tr.speed_mps)
