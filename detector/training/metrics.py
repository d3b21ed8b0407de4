"""Binary detection metrics on scores in [0, 1] (label 1 = manipulated), all as plain floats."""

from __future__ import annotations

from typing import Any

import numpy as np

ECE_BINS = 15
# Bootstrap resamples behind an AUC's interval: the third decimal of the bounds is stable at this count.
AUC_RESAMPLES = 2000


def auc_interval(
    labels: np.ndarray, probs: np.ndarray, level: float = 0.95, resamples: int = AUC_RESAMPLES, seed: int = 0
) -> list[float] | None:
    """[low, high] percentile bootstrap interval of AUC-ROC; None without both classes.

    Reals and fakes are resampled apart (each keeps its count), so every resample has both. The items
    must be independent draws (videos, photos): the face crops of one video are not, and an interval
    over them would be far too narrow. Seeded: the same scores give the same interval.
    """
    aucs = _bootstrap_aucs(labels, [probs], resamples, seed)
    return None if aucs is None else _percentiles(aucs[0], level)


def auc_difference_interval(
    labels: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    level: float = 0.95,
    resamples: int = AUC_RESAMPLES,
    seed: int = 0,
) -> list[float] | None:
    """[low, high] paired bootstrap interval of AUC(after) - AUC(before): two scorings of the same items.

    Each resample draws the same items for both (reals and fakes apart, as :func:`auc_interval`), so
    what the items share cancels: the interval is of the change, far narrower than either AUC's.
    """
    aucs = _bootstrap_aucs(labels, [before, after], resamples, seed)
    return None if aucs is None else _percentiles(aucs[1] - aucs[0], level)


def _bootstrap_aucs(
    labels: np.ndarray, score_sets: list[np.ndarray], resamples: int, seed: int
) -> list[np.ndarray] | None:
    """Each score set's AUC on the same ``resamples`` stratified resamples of the items; None without both classes."""
    labels = np.asarray(labels, dtype=np.int64)
    real_at, fake_at = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
    if not len(real_at) or not len(fake_at):
        return None
    rng = np.random.default_rng(seed)
    reals = real_at[rng.integers(0, len(real_at), (resamples, len(real_at)))]
    fakes = fake_at[rng.integers(0, len(fake_at), (resamples, len(fake_at)))]
    # Mann-Whitney: AUC from the fakes' rank sum (ties get their mean rank, so count half, as in roc_auc_score).
    from scipy.stats import rankdata

    out = []
    for probs in score_sets:
        probs = np.asarray(probs, dtype=np.float64)
        ranks = rankdata(np.concatenate([probs[reals], probs[fakes]], axis=1), axis=1)[:, len(real_at) :]
        out.append((ranks.sum(axis=1) - len(fake_at) * (len(fake_at) + 1) / 2) / (len(real_at) * len(fake_at)))
    return out


def _percentiles(values: np.ndarray, level: float) -> list[float]:
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return [float(low), float(high)]


def auc_text(metrics: dict[str, Any]) -> str:
    """ "0.618 [0.364, 0.855]": a metrics dict's AUC with its 95 % interval where it has one; "n/a" without AUC."""
    auc = metrics.get("auc_roc")
    if auc is None:
        return "n/a"
    interval = metrics.get("auc_roc_ci95")
    return f"{auc:.3f}" if not interval else f"{auc:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def expected_calibration_error(labels: np.ndarray, probs: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE (Naeini et al. 2015; Guo et al. 2017 eq. 3) of P(manipulated) over equal-width bins."""
    labels = np.asarray(labels, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probs, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.mean() * abs(probs[sel].mean() - labels[sel].mean())
    return float(total)


def reliability_curve(labels: np.ndarray, probs: np.ndarray, bins: int = ECE_BINS) -> dict[str, list[float]]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probs, edges[1:-1]), 0, bins - 1)
    out: dict[str, list[float]] = {"confidence": [], "accuracy": [], "count": []}
    for b in range(bins):
        sel = which == b
        if sel.any():
            out["confidence"].append(float(probs[sel].mean()))
            out["accuracy"].append(float(np.mean(labels[sel])))
            out["count"].append(int(sel.sum()))
    return out


def best_f1_threshold(labels: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1; the threshold sits halfway to the next lower score."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(labels, probs)
    f1 = 2 * precision[:-1] * recall[:-1] / np.clip(precision[:-1] + recall[:-1], 1e-12, None)
    best = int(np.argmax(f1))
    below = np.sort(probs[probs < thresholds[best]])
    threshold = (thresholds[best] + below[-1]) / 2 if len(below) else thresholds[best]
    return float(threshold), float(f1[best])


def threshold_at_fpr(labels: np.ndarray, probs: np.ndarray, max_fpr: float = 0.01) -> float:
    """The lowest threshold whose false-positive rate on the reals is at most ``max_fpr``."""
    reals = np.sort(np.asarray(probs)[np.asarray(labels) == 0])
    if len(reals) == 0:
        return 0.5
    allowed = int(np.floor(max_fpr * len(reals)))  # reals allowed at or above the threshold
    cut = reals[len(reals) - allowed - 1]  # the highest real that must fall below
    return float(np.nextafter(cut, np.inf))


def binary_metrics(labels: np.ndarray, probs: np.ndarray, threshold: float, interval: bool = False) -> dict[str, Any]:
    """AUC-ROC, PR-AUC, accuracy, log loss, ECE, confusion matrix and thresholds; None where undefined.

    ``interval``: add ``auc_roc_ci95``, the AUC's bootstrap interval (:func:`auc_interval`), for
    independent items only (videos, photos; not the frames of a few videos).
    """
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    labels = np.asarray(labels, dtype=np.int64)
    probs = np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1 - 1e-7)
    both = len(np.unique(labels)) == 2
    predicted = (probs >= threshold).astype(np.int64)
    tp = int(((predicted == 1) & (labels == 1)).sum())
    tn = int(((predicted == 0) & (labels == 0)).sum())
    fp = int(((predicted == 1) & (labels == 0)).sum())
    fn = int(((predicted == 0) & (labels == 1)).sum())
    out: dict[str, Any] = {
        "n": len(labels),
        "n_real": int((labels == 0).sum()),
        "n_fake": int((labels == 1).sum()),
        "threshold": float(threshold),
        "auc_roc": float(roc_auc_score(labels, probs)) if both else None,
        "pr_auc": float(average_precision_score(labels, probs)) if both else None,
        "accuracy": float((predicted == labels).mean()) if len(labels) else None,
        "log_loss": float(log_loss(labels, probs, labels=[0, 1])) if len(labels) else None,
        "ece": expected_calibration_error(labels, probs) if len(labels) else None,
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "fpr": fp / (fp + tn) if fp + tn else None,
        "tpr": tp / (tp + fn) if tp + fn else None,
    }
    if interval:
        out["auc_roc_ci95"] = auc_interval(labels, probs)
    if both:
        out["best_f1_threshold"], out["best_f1"] = best_f1_threshold(labels, probs)
        out["threshold_at_1pct_fpr"] = threshold_at_fpr(labels, probs, 0.01)
    return out
