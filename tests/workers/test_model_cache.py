"""The worker's model cache: one copy of each trained detector, least recently used dropped past a budget
(issue 12, hole 2). Real shipped checkpoints, loaded on the CPU (the two smallest: a second or two)."""

import pytest

from workers import model_cache


@pytest.fixture
def cache(monkeypatch):
    cache = model_cache.DetectorCache(max_bytes=10**12)
    monkeypatch.setattr(model_cache, "detectors", cache)
    return cache


def test_every_list_of_the_same_detectors_shares_one_copy_of_each(cache):
    first = model_cache.ensemble(("custom_cnn",), "cpu")
    again = [
        model_cache.ensemble(names, "cpu")
        for names in [("custom_cnn", "spectral_lr"), ("spectral_lr", "custom_cnn"), ("custom_cnn",) * 50]
    ]
    assert again[2].names == ["custom_cnn"]
    assert all(e.detectors[e.names.index("custom_cnn")] is first.detectors[0] for e in again)
    sizes = {name: model_cache.detector_bytes(d) for e in again for name, d in zip(e.names, e.detectors, strict=True)}
    print(f"held {cache.held_bytes} bytes for {sorted(cache.keys())}: {sizes}")
    assert len(cache.keys()) == 2 and cache.held_bytes == sum(sizes.values())


def test_past_its_budget_the_least_recently_used_detector_is_dropped(cache):
    both = model_cache.ensemble(("custom_cnn", "spectral_lr"), "cpu")
    cnn, spectral = (model_cache.detector_bytes(d) for d in both.detectors)
    cache.clear()
    cache.max_bytes = cnn + spectral - 1  # room for custom_cnn, or for spectral_lr, not for both
    model_cache.ensemble(("spectral_lr",), "cpu")
    model_cache.ensemble(("custom_cnn",), "cpu")
    assert cache.keys() == [("custom_cnn", "cpu")] and cache.held_bytes <= cache.max_bytes
    # One detector over the whole budget is still run: the job needs it; everything else goes.
    cache.max_bytes = 1
    assert model_cache.ensemble(("spectral_lr",), "cpu").names == ["spectral_lr"]
    assert cache.keys() == [("spectral_lr", "cpu")]


@pytest.mark.parametrize("name", ["resnext_lstm", "no_such_detector"])
def test_a_detector_without_shipped_weights_is_refused_not_built(cache, name):
    with pytest.raises(KeyError):
        model_cache.ensemble((name,), "cpu")
    assert cache.keys() == []


@pytest.mark.parametrize(("value", "compiled"), [("1", True), ("0", False), (None, False)])
def test_a_worker_compiles_each_detector_once_when_told_to(cache, monkeypatch, value, compiled):
    from detector.registry import Detector

    calls = []
    monkeypatch.setattr(Detector, "compile", lambda self: calls.append(self.name) or True)
    if value is None:
        monkeypatch.delenv("FORENSICS_COMPILE_DETECTORS", raising=False)
    else:
        monkeypatch.setenv("FORENSICS_COMPILE_DETECTORS", value)
    model_cache.ensemble(("custom_cnn",), "cpu")
    model_cache.ensemble(("custom_cnn", "spectral_lr"), "cpu")
    assert calls == (["custom_cnn", "spectral_lr"] if compiled else [])
