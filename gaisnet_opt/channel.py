"""Radio channel model of the generator: log-distance path loss and Shannon capacity.

Parameter sources:
- Thermal noise density -174 dBm/Hz (kT at 290 K); UE noise figure 9 dB:
  3GPP TR 36.814 V9.2.0, Table A.2.1.1-3.
- D2D (client to client) path loss, the pico-to-UE model reused for D2D in
  many D2D studies: PL = 140.7 + 36.7 log10(d / km) dB, 3GPP TR 36.814
  Table A.2.1.1.2-3.
- Cellular (client to edge server at a base station) path loss:
  PL = 128.1 + 37.6 log10(d / km) dB, 3GPP TR 36.814 Table A.2.1.1.2-3 (macro).
- UE transmit power 23 dBm (power class 3, 3GPP TS 36.101 §6.2.2); base
  station 46 dBm for 10 MHz (TR 36.814 Table A.2.1.1-2).
- Rate = W log2(1 + SNR) (Shannon); a link exists where SNR reaches the
  threshold (0 dB for D2D, -5 dB for the cell edge of cellular links).
"""

from __future__ import annotations

import numpy as np

NOISE_DBM_PER_HZ = -174.0
NOISE_FIGURE_DB = 9.0
D2D_BANDWIDTH_HZ = 10e6
CELL_BANDWIDTH_HZ = 10e6
D2D_MIN_SNR_DB = 0.0
CELL_MIN_SNR_DB = -5.0
MIN_DISTANCE_M = 1.0  # path-loss models hold beyond about a metre
D2D_PATH_LOSS = (140.7, 36.7)
"""D2D path loss: dB at 1 km, dB per decade of distance."""
CELL_PATH_LOSS = (128.1, 37.6)
"""Cellular path loss: dB at 1 km, dB per decade of distance."""


def watts_to_dbm(watts: np.ndarray | float) -> np.ndarray:
    return 10 * np.log10(np.asarray(watts, dtype=float) * 1e3)


def d2d_path_loss_db(d_m: np.ndarray) -> np.ndarray:
    return _path_loss_db(d_m, D2D_PATH_LOSS)


def cell_path_loss_db(d_m: np.ndarray) -> np.ndarray:
    return _path_loss_db(d_m, CELL_PATH_LOSS)


def _path_loss_db(d_m: np.ndarray, model: tuple[float, float]) -> np.ndarray:
    at_km, per_decade = model
    return at_km + per_decade * np.log10(np.maximum(d_m, MIN_DISTANCE_M) / 1e3)


def reach_m(tx_power_w: float, model: tuple[float, float], bandwidth_hz: float, min_snr_db: float) -> float:
    """The farthest distance at which the SNR still reaches `min_snr_db`: docs/model.md §2's link rule inverted.

    Every link of a transmitter this strong is at most this long, so a search
    for links need only look this far (0 for a silent transmitter).
    """
    if tx_power_w <= 0:
        return 0.0
    budget_db = float(snr_db(tx_power_w, np.zeros(()), bandwidth_hz)) - min_snr_db
    at_km, per_decade = model
    return 1e3 * 10 ** ((budget_db - at_km) / per_decade)


def snr_db(tx_power_w: np.ndarray | float, path_loss_db: np.ndarray, bandwidth_hz: float) -> np.ndarray:
    noise_dbm = NOISE_DBM_PER_HZ + 10 * np.log10(bandwidth_hz) + NOISE_FIGURE_DB
    return watts_to_dbm(tx_power_w) - path_loss_db - noise_dbm


def shannon_bps(snr: np.ndarray, bandwidth_hz: float) -> np.ndarray:
    """Capacity in bit/s at SNR `snr` (dB)."""
    return bandwidth_hz * np.log2(1 + 10 ** (np.asarray(snr) / 10))
