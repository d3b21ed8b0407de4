"""The command-line options the benchmarks share: where they run, and how the detectors score there."""

from __future__ import annotations

import argparse
import sys

import torch

from detector.registry import resolve_device


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", default="cpu", help="cpu or cuda (default cpu); on cuda the detectors score in bf16 autocast"
    )


def add_compile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compile", action="store_true", help="score through torch.compile (a worker's FORENSICS_COMPILE_DETECTORS)"
    )


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    """``--device`` and ``--compile``: where the pipeline runs and whether its detectors are compiled."""
    add_device_option(parser)
    add_compile_option(parser)


def parse_on_device(parser: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, str | None]:
    """The parsed arguments and :func:`chosen_device` (None: the caller exits 2)."""
    args = parser.parse_args(argv)
    return args, chosen_device(args)


def chosen_device(args: argparse.Namespace) -> str | None:
    """The device ``--device`` names, or None after saying why it cannot be used here (the caller exits 2)."""
    device = str(resolve_device(args.device))
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("error: --device cuda but CUDA is not available on this machine", file=sys.stderr)
        return None
    return device


def hardware(device: str) -> str:
    """The accelerator's name on a GPU, else the CPU count, for the benchmark's first line."""
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(torch.device(device))}, {torch.get_num_threads()} CPU threads"
    return f"CPU, {torch.get_num_threads()} threads"
