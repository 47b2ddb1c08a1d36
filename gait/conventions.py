"""Every name, unit and frame convention of the project, in one place.

Units inside the code are SI: seconds, metres, m/s², rad/s. Degrees and g appear only in reported columns, and
then the column name says so (``_deg``, ``_g``). Other modules import names from here instead of spelling them.

Frames
------
Raw sensor frame
    The axes printed on the sensor, right-handed, whatever way it is strapped on: ``acc_x acc_y acc_z gyr_x gyr_y
    gyr_z``. A session always stores this frame; alignment is the analysis engine's job.

Anatomical frame (right-handed, per segment)
    ``x`` forward (anterior), ``y`` to the runner's left, ``z`` up along the long axis of the segment (tibia for the
    shank, heel-to-toe is ``x`` for the foot). Used internally and by the generator.

Shank (or foot) frame
    ``ap`` forward, ``ml`` lateral (away from the body midline: to the right on the right leg, to the left on the
    left leg), ``si`` up along the tibia. It is mirrored between the legs so that *the same movement of the left and
    the right leg gives the same signals*:

    ============  =====================  =====================
    channel       left leg               right leg
    ============  =====================  =====================
    ``acc_ap``    ``a_x``                ``a_x``
    ``acc_ml``    ``a_y``                ``-a_y``
    ``acc_si``    ``a_z``                ``a_z``
    ``gyr_ap``    ``w_x``                ``-w_x``
    ``gyr_ml``    ``-w_y``               ``-w_y``
    ``gyr_si``    ``w_z``                ``-w_z``
    ============  =====================  =====================

    (``a``, ``w``: specific force and angular rate in the anatomical frame.) ``gyr_ml`` is positive when the shank
    swings forward (the ankle moves ahead of the knee) on both legs; ``gyr_ap`` is positive when the lateral side
    lifts; ``gyr_si`` is positive for external rotation.

World frame (per stride)
    ``x`` along the direction of travel, ``y`` to the left, ``z`` up. Treadmill data are in the belt's frame.

Shank angle
    Sagittal angle of the tibia (ankle-to-knee vector) from the vertical, positive when the ankle is ahead of the
    knee ("reaching"), 0 when the tibia is vertical. The foot angle is the sagittal angle of the heel-to-toe axis
    from the horizontal, positive with the toes up (a heel strike lands with a positive foot angle).
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np

# --- physical constants -------------------------------------------------------------------------------------
GRAVITY: Final = 9.80665  # standard gravity, m/s²; also the "g" of every ``_g`` column
G: Final = GRAVITY

# --- sides and placements -----------------------------------------------------------------------------------
Side = Literal["left", "right"]
SIDES: Final = ("left", "right")
Placement = Literal["shank", "foot"]
PLACEMENTS: Final = ("shank", "foot")

# --- time -------------------------------------------------------------------------------------------------------
TIME: Final = "time_s"
SIDE: Final = "side"

# --- raw sensor frame ---------------------------------------------------------------------------------------------
ACC_SF: Final = ("acc_x", "acc_y", "acc_z")
GYR_SF: Final = ("gyr_x", "gyr_y", "gyr_z")
SF_COLS: Final = ACC_SF + GYR_SF
SAMPLE_COLS: Final = (TIME, *SF_COLS)

# --- shank / foot body frame ----------------------------------------------------------------------------------
ACC_BF: Final = ("acc_ap", "acc_ml", "acc_si")
GYR_BF: Final = ("gyr_ap", "gyr_ml", "gyr_si")
BF_COLS: Final = ACC_BF + GYR_BF

#: Signs that take (a_x, a_y, a_z, w_x, w_y, w_z) in the anatomical frame to the body-frame columns above.
#: The axes keep their order (x->ap, y->ml, z->si); only signs change.
ANATOMICAL_TO_BODY_SIGNS: Final = {
    "left": np.array([1.0, 1.0, 1.0, 1.0, -1.0, 1.0]),
    "right": np.array([1.0, -1.0, 1.0, -1.0, -1.0, -1.0]),
}

# --- world-frame trajectory columns ---------------------------------------------------------------------------
POS_COLS: Final = ("pos_x", "pos_y", "pos_z")
VEL_COLS: Final = ("vel_x", "vel_y", "vel_z")

# --- stride table ---------------------------------------------------------------------------------------------
STRIDE_ID: Final = "stride_id"
BOUT_ID: Final = "bout_id"
IC_TIME: Final = "ic_time_s"
TO_TIME: Final = "to_time_s"
NEXT_IC_TIME: Final = "next_ic_time_s"
MID_STANCE_TIME: Final = "mid_stance_time_s"
MID_SWING_TIME: Final = "mid_swing_time_s"
STRIDE_TIME: Final = "stride_time_s"
CONTACT_TIME: Final = "contact_time_s"
SWING_TIME: Final = "swing_time_s"
FLIGHT_TIME: Final = "flight_time_s"
STEP_TIME: Final = "step_time_s"
DUTY_FACTOR: Final = "duty_factor"
CADENCE: Final = "cadence_spm"  # steps per minute (two steps per stride)
STRIDE_LENGTH: Final = "stride_length_m"
SPEED: Final = "speed_mps"
SHANK_ANGLE_IC: Final = "shank_angle_ic_deg"
FOOT_ANGLE_IC: Final = "foot_angle_ic_deg"
PEAK_TIBIAL_ACCEL: Final = "peak_tibial_accel_g"
#: Seconds of interpolated data inside the stride (IC to next IC): short packet-loss holes bridged by the analysis
#: (see :func:`gait.preprocess.imu_preprocess`); 0.0 when every sample was measured.
BRIDGED_S: Final = "bridged_s"
VALID: Final = "valid"
INVALID_REASON: Final = "invalid_reason"

#: Columns every stride table has, in this order (``foot_angle_ic_deg`` replaces the shank angle for a foot
#: placement; both columns exist, the one that does not apply is NaN).
STRIDE_COLS: Final = (
    SIDE,
    STRIDE_ID,
    BOUT_ID,
    IC_TIME,
    TO_TIME,
    NEXT_IC_TIME,
    STRIDE_TIME,
    CONTACT_TIME,
    SWING_TIME,
    FLIGHT_TIME,
    STEP_TIME,
    DUTY_FACTOR,
    CADENCE,
    STRIDE_LENGTH,
    SPEED,
    SHANK_ANGLE_IC,
    FOOT_ANGLE_IC,
    PEAK_TIBIAL_ACCEL,
    VALID,
    INVALID_REASON,
    BRIDGED_S,
)

#: The per-stride metrics that summaries, asymmetry and comparisons are computed for, with a short label and unit.
METRICS: Final = {
    STRIDE_LENGTH: ("stride length", "m"),
    CADENCE: ("cadence", "steps/min"),
    STRIDE_TIME: ("stride time", "s"),
    CONTACT_TIME: ("contact time", "s"),
    SWING_TIME: ("swing time", "s"),
    FLIGHT_TIME: ("flight time", "s"),
    DUTY_FACTOR: ("duty factor", ""),
    SPEED: ("speed", "m/s"),
    SHANK_ANGLE_IC: ("shank angle at contact", "deg"),
    FOOT_ANGLE_IC: ("foot angle at contact", "deg"),
    PEAK_TIBIAL_ACCEL: ("peak tibial acceleration", "g"),
}

# --- session metadata -----------------------------------------------------------------------------------------
LABEL_UNWEIGHTED: Final = "unweighted"
LABEL_WEIGHTED: Final = "weighted"
SESSION_FORMAT_VERSION: Final = 1
SESSION_METADATA_KEY: Final = b"gait.session"
