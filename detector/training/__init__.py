"""Training and evaluation of the registered detectors: face-crop datasets with a disk cache,
self-blended pseudo-fakes, the training loop (``python -m detector train``) and the
evaluation report (``python -m detector evaluate``).
"""
