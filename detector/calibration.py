"""Maps a detector's raw logit to a calibrated probability of manipulation.

Temperature scaling (Guo et al. 2017) with a bias term, or isotonic regression stored
as its breakpoints; identity until an evaluation run fits one and saves it into the
checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


@dataclass(frozen=True)
class Calibration:
    method: str = "identity"  # identity | temperature | isotonic
    temperature: float = 1.0
    bias: float = 0.0
    # isotonic: probabilities of sigmoid(logit) -> calibrated probability, as breakpoints
    x: tuple[float, ...] = field(default_factory=tuple)
    y: tuple[float, ...] = field(default_factory=tuple)

    @classmethod
    def identity(cls) -> Calibration:
        return cls()

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Calibration:
        if not data:
            return cls.identity()
        return cls(
            method=data.get("method", "identity"),
            temperature=float(data.get("temperature", 1.0)),
            bias=float(data.get("bias", 0.0)),
            x=tuple(float(v) for v in data.get("x", ())),
            y=tuple(float(v) for v in data.get("y", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method}
        if self.method == "temperature":
            out.update(temperature=self.temperature, bias=self.bias)
        elif self.method == "isotonic":
            out.update(x=list(self.x), y=list(self.y))
        return out

    def apply_logits(self, logits: np.ndarray) -> np.ndarray:
        logits = np.asarray(logits, dtype=np.float64)
        if self.method == "temperature":
            return sigmoid(logits / self.temperature + self.bias)
        probs = sigmoid(logits)
        if self.method == "isotonic":
            return np.interp(probs, self.x, self.y)
        return probs


def fit_temperature(
    logits: np.ndarray, labels: np.ndarray, steps: int = 500, weights: np.ndarray | None = None
) -> Calibration:
    """Fit T and b minimising the (``weights``-weighted) log loss of sigmoid(logit / T + b) by gradient descent."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    w = np.ones_like(labels) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    log_t, bias = 0.0, 0.0
    lr = 0.05
    for _ in range(steps):
        t = np.exp(log_t)
        p = sigmoid(logits / t + bias)
        grad_z = (p - labels) * w  # d loss / d z, z = logit / t + b
        grad_b = grad_z.sum()
        grad_log_t = (grad_z * (-logits / t)).sum()
        bias -= lr * grad_b * 10
        log_t -= lr * grad_log_t * 10
    return Calibration(method="temperature", temperature=float(np.exp(log_t)), bias=float(bias))


def fit_isotonic(logits: np.ndarray, labels: np.ndarray) -> Calibration:
    from sklearn.isotonic import IsotonicRegression

    probs = sigmoid(np.asarray(logits, dtype=np.float64))
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(probs, labels)
    return Calibration(
        method="isotonic",
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
    )
