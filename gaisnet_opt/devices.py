"""Device classes of the generator: effective compute, memory, energy per FLOP, transmit power.

Effective compute is the sustained FP32 rate a training workload reaches, taken
as about a quarter of the vendor's peak; memory is what a background HFSL
service may take while the device stays in use (a fraction of its RAM: 8-12 GB
phones, 8 GB Jetson, 16 GB laptops), so one client rarely holds a whole ViT-B
with its activations and the model must be split; energy per FLOP is board
power over effective rate.
Sources: Qualcomm Snapdragon 8 Gen 2 (Adreno 740, ~3.5 TFLOPS FP32 peak,
~5-8 W), NVIDIA Jetson Orin Nano 8 GB data sheet (7-15 W), NVIDIA RTX 3050
Laptop GPU (~5-9 TFLOPS FP32, 35-80 W), NVIDIA A100 40 GB data sheet (19.5
TFLOPS FP32, 400 W). Transmit powers: 23 dBm UE (3GPP TS 36.101), 20 dBm
Wi-Fi Direct for laptops, 46 dBm base station (3GPP TR 36.814).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceClass:
    """Ranges a generated device of this class draws from (uniform), and its share of clients."""

    name: str
    flops: tuple[float, float]
    memory_bytes: tuple[float, float]
    energy_per_flop: tuple[float, float]
    tx_power_w: float
    share: float


PHONE = DeviceClass("phone", (0.5e12, 1.0e12), (0.75e9, 1.5e9), (8e-12, 1.5e-11), 0.2, 0.6)
JETSON = DeviceClass("jetson", (0.3e12, 0.6e12), (1e9, 2e9), (1.5e-11, 2.5e-11), 0.2, 0.15)
LAPTOP = DeviceClass("laptop", (1.2e12, 2.5e12), (1.5e9, 3e9), (2e-11, 3.5e-11), 0.1, 0.25)
EDGE_SERVER = DeviceClass("edge-a100", (5e12, 5e12), (40e9, 40e9), (8e-11, 8e-11), 39.8, 0.0)

CLIENT_CLASSES: tuple[DeviceClass, ...] = (PHONE, JETSON, LAPTOP)
