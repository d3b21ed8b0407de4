"""A generated corpus of hostile or broken uploads: small files, made fresh, deterministic (seeded).

Each item says what it is and what the platform must do with it: ``reject`` (a 4xx at upload),
``fail`` (accepted by sniffing, then a failed job with an error code), or ``survive`` (random damage
that may or may not leave the file decodable: any clean end, a failed job with a code or a verdict,
but never a server error, an internal error or a dead worker).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REJECT, FAIL, SURVIVE = "reject", "fail", "survive"


@dataclass(frozen=True)
class HostileInput:
    name: str  # the file name the client claims
    data: bytes
    expect: str  # REJECT | FAIL | SURVIVE
    what: str


def _video(fourcc: str, suffix: str, size=(64, 48), frames=8, fps=8) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"v{suffix}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
        assert writer.isOpened(), f"OpenCV cannot write {fourcc}"
        rng = np.random.default_rng(1)
        for i in range(frames):
            frame = np.full((size[1], size[0], 3), 40 + 20 * i, np.uint8)
            frame[: size[1] // 2] = rng.integers(0, 255, (size[1] // 2, size[0], 3), dtype=np.uint8)
            writer.write(frame)
        writer.release()
        return path.read_bytes()


def _png(width: int, height: int, pixels: bytes = b"\x00" * 64) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _patch_avi(data: bytes, **fields: int) -> bytes:
    """Rewrite AVI header fields: width/height (avih + strf), total_frames (avih + strh length), rate."""
    out = bytearray(data)
    avih, strh = out.find(b"avih") + 8, out.find(b"strh") + 8
    strf = out.find(b"strf") + 8
    if "width" in fields:
        struct.pack_into("<I", out, avih + 32, fields["width"])
        struct.pack_into("<i", out, strf + 4, fields["width"])
    if "height" in fields:
        struct.pack_into("<I", out, avih + 36, fields["height"])
        struct.pack_into("<i", out, strf + 8, fields["height"])
    if "total_frames" in fields:
        struct.pack_into("<I", out, avih + 16, fields["total_frames"])
        struct.pack_into("<I", out, strh + 32, fields["total_frames"])
    if "rate" in fields:  # frames per second = rate / scale
        struct.pack_into("<I", out, strh + 24, fields["rate"])
    return bytes(out)


def _patch_sof(data: bytes, width: int, height: int) -> bytes:
    """Make every JPEG frame's start-of-frame marker declare ``width`` x ``height``."""
    out = bytearray(data)
    at = out.find(b"\xff\xc0")
    while at >= 0:
        struct.pack_into(">HH", out, at + 5, height, width)
        at = out.find(b"\xff\xc0", at + 2)
    return bytes(out)


def build_corpus() -> list[HostileInput]:
    rng = np.random.default_rng(7)
    mp4 = _video("mp4v", ".mp4")
    avi = _video("MJPG", ".avi")
    jpeg = _jpeg()
    items: list[HostileInput] = []
    add = items.append

    # Nothing, or not media at all, whatever the name says.
    add(HostileInput("empty.mp4", b"", REJECT, "zero bytes"))
    texts = {
        "text.mp4": b"just some text, not a video\n" * 20,
        "page.mp4": b"<!doctype html><html><script>alert(1)</script></html>",
        "data.mp4": b'{"video": true}',
        "script.mp4": b"#!/bin/sh\nrm -rf /\n",
        "svg.png": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "nul.mp4": b"\x00" * 4096,
    }
    for name, data in texts.items():
        add(HostileInput(name, data, REJECT, f"not media: {name}"))
    # Playlists that would make FFmpeg open other files or the network.
    add(HostileInput("hls.mp4", b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n",
                     REJECT, "HLS playlist pointing at /etc/passwd"))  # fmt: skip
    add(HostileInput("hls-file.m3u8", b"#EXTM3U\n#EXTINF:1,\nfile:///etc/shadow\n", REJECT, "HLS with a file URL"))
    add(HostileInput("hls-http.mp4", b"#EXTM3U\n#EXTINF:1,\nhttp://169.254.169.254/latest/meta-data/\n",
                     REJECT, "HLS reaching the network"))  # fmt: skip
    add(HostileInput("concat.mp4", b"ffconcat version 1.0\nfile '/etc/passwd'\n", REJECT, "concat playlist"))
    add(HostileInput("concat2.mkv", b"file /etc/hostname\nfile /proc/self/environ\n", REJECT, "concat list"))
    # Archives, nested, and other real formats that are not allowed.
    inner = _zip({"clip.mp4": mp4})
    add(HostileInput("archive.mp4", inner, REJECT, "zip holding a video"))
    add(HostileInput("nested.mp4", _zip({"inner.zip": inner}), REJECT, "zip in zip"))
    add(HostileInput("deep.zip", _zip({"a.zip": _zip({"b.zip": inner})}), REJECT, "zip in zip in zip"))
    add(HostileInput("bomb.mp4", _zip({"zeros.bin": b"\x00" * 5_000_000}), REJECT, "zip bomb (5 MB of zeros)"))
    add(HostileInput("gz.mp4", zlib.compress(mp4), REJECT, "zlib stream"))
    add(HostileInput("anim.gif", b"GIF89a" + bytes(200), REJECT, "GIF (not an allowed type)"))
    add(HostileInput("doc.mp4", b"%PDF-1.7\n" + bytes(300), REJECT, "PDF"))
    add(HostileInput("elf.mp4", b"\x7fELF\x02\x01\x01" + bytes(300), REJECT, "ELF executable"))
    # Random bytes under media names.
    for i in range(25):
        add(HostileInput(f"random{i}.mp4", rng.integers(0, 256, 64 + 97 * i, dtype=np.uint8).tobytes(),
                         REJECT, "random bytes"))  # fmt: skip

    # Passes sniffing (right magic bytes), but is not decodable media.
    magic = {
        "ftyp.mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
        "ebml.mkv": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82"
        b"\x88matroska",
        "riff.avi": b"RIFF\x00\x10\x00\x00AVI LIST",
        "soi.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        "sig.png": b"\x89PNG\r\n\x1a\n",
        "bm.bmp": b"BM" + struct.pack("<IHHI", 5000, 0, 0, 54),
    }
    for name, head in magic.items():
        for j in range(5):
            body = rng.integers(0, 256, 200 + 300 * j, dtype=np.uint8).tobytes()
            add(HostileInput(f"{j}-{name}", head + body, FAIL, f"{name.split('.')[0]} magic + garbage"))
    # Truncated videos: MP4 from OpenCV keeps its index (moov) at the end, so every cut loses it.
    for k in range(30):
        cut = 40 + (len(mp4) - 200) * k // 30
        add(HostileInput(f"truncated{k}.mp4", mp4[:cut], FAIL, f"MP4 cut at byte {cut} of {len(mp4)}"))
    for k in range(10):
        cut = 300 + (len(avi) // 2) * k // 10
        add(HostileInput(f"truncated{k}.avi", avi[:cut], SURVIVE, f"AVI cut at byte {cut} of {len(avi)}"))
    # Bit flips: in the headers (structure) and anywhere.
    for k in range(40):
        data = bytearray(mp4)
        for _ in range(1 + k % 4):
            pos = int(rng.integers(0, len(data)))
            data[pos] ^= 1 << int(rng.integers(0, 8))
        add(HostileInput(f"flipped{k}.mp4", bytes(data), SURVIVE, "MP4 with random bit flips"))
    for k in range(20):
        data = bytearray(avi)
        for _ in range(3):
            pos = int(rng.integers(12, 400))
            data[pos] ^= 1 << int(rng.integers(0, 8))
        add(HostileInput(f"hflipped{k}.avi", bytes(data), SURVIVE, "AVI with bit flips in its headers"))
    for k in range(10):
        data = bytearray(jpeg)
        for _ in range(4):
            pos = int(rng.integers(2, len(data)))
            data[pos] ^= 1 << int(rng.integers(0, 8))
        add(HostileInput(f"flipped{k}.jpg", bytes(data), SURVIVE, "JPEG with bit flips"))

    # Declared sizes and lengths far past the limits (a few hundred bytes each).
    for w, h in [(100_000, 100_000), (30_000, 30_000), (65_535, 1), (8_000, 8_000), (1, 65_535)]:
        add(HostileInput(f"huge{w}x{h}.png", _png(w, h), FAIL, f"PNG declaring {w}x{h}"))
    for w, h in [(60_000, 60_000), (20_000, 20_000), (40_000, 48)]:
        add(HostileInput(f"huge{w}x{h}.avi", _patch_sof(avi, w, h), FAIL, f"MJPEG frames declaring {w}x{h}"))
    # The container's header lies but the frames are 64x48: the decoder goes by the frames.
    add(HostileInput("lying-header.avi", _patch_avi(avi, width=60_000, height=60_000), SURVIVE,
                     "AVI header declaring 60000x60000 over 64x48 frames"))  # fmt: skip
    add(HostileInput("ten-hours.avi", _patch_avi(avi, total_frames=10 * 3600 * 8), FAIL, "AVI declaring 10 hours"))
    add(HostileInput("ten-hours-slow.avi", _patch_avi(avi, total_frames=288_000, rate=1), FAIL,
                     "AVI declaring 80 hours at 1 fps"))  # fmt: skip
    # Too small to hold a face.
    add(HostileInput("one-pixel.png", _png(1, 1, b"\x00\x00\x00\x00"), FAIL, "1x1 PNG"))
    add(HostileInput("tiny.mp4", _video("mp4v", ".mp4", size=(2, 2)), FAIL, "2x2 video"))
    add(HostileInput("onebyone.avi", _video("MJPG", ".avi", size=(1, 1)), FAIL, "1x1 video"))
    add(HostileInput("sliver.mp4", _video("mp4v", ".mp4", size=(640, 8)), FAIL, "640x8 video"))
    # Polyglots: a real image with something else riding along. The image part is valid: analysing
    # it is harmless, so these may succeed; the payload must never be acted on.
    add(HostileInput("polyglot.jpg", jpeg + _zip({"payload.sh": b"#!/bin/sh\n"}), SURVIVE, "JPEG + ZIP polyglot"))
    add(HostileInput("polyglot-html.jpg", jpeg + b"<script>alert(1)</script>", SURVIVE, "JPEG + HTML"))
    add(HostileInput("polyglot.png", _png(64, 48) + b"#EXTM3U\n/etc/passwd\n", SURVIVE, "PNG + HLS trailer"))
    add(HostileInput("mp4-hls.mp4", mp4[:64] + b"\n#EXTM3U\n#EXTINF:1,\n/etc/passwd\n", FAIL,
                     "MP4 header then an HLS playlist"))  # fmt: skip
    add(HostileInput("jpeg-in-mp4.mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + jpeg, FAIL,
                     "MP4 header + JPEG"))  # fmt: skip
    return items


def build_generated_media(seed: int = 12, count: int = 110) -> list[HostileInput]:
    """More of the same kinds, drawn at random (seeded): cuts at any byte, header lies of any size,
    bytes flipped anywhere, garbage behind every allowed type's magic. Outcomes vary; all are SURVIVE."""
    rng = np.random.default_rng(seed)
    mp4, avi = _video("mp4v", ".mp4"), _video("MJPG", ".avi")
    jpeg = _jpeg()
    magic = [b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", b"RIFF\x00\x10\x00\x00AVI LIST",
             b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\x89PNG\r\n\x1a\n", b"\x1a\x45\xdf\xa3"]  # fmt: skip
    items: list[HostileInput] = []
    for i in range(count):
        kind = i % 6
        if kind == 0:
            source, suffix = (mp4, "mp4") if i % 12 == 0 else (avi, "avi")
            cut = int(rng.integers(16, len(source)))
            items.append(HostileInput(f"gen{i}-cut.{suffix}", source[:cut], SURVIVE, f"{suffix} cut at byte {cut}"))
        elif kind == 1:
            w, h = (int(v) for v in rng.integers(1, 65_536, 2))
            items.append(HostileInput(f"gen{i}-{w}x{h}.png", _png(w, h), SURVIVE, f"PNG declaring {w}x{h}"))
        elif kind == 2:
            w, h = (int(v) for v in rng.integers(1, 65_536, 2))
            items.append(HostileInput(f"gen{i}-{w}x{h}.avi", _patch_sof(avi, w, h), SURVIVE, f"MJPEG frames {w}x{h}"))
        elif kind == 3:
            fields = {"width": int(rng.integers(0, 2**31)), "height": int(rng.integers(0, 2**31)),
                      "total_frames": int(rng.integers(0, 2**32)), "rate": int(rng.integers(0, 2**32))}  # fmt: skip
            items.append(HostileInput(f"gen{i}-lies.avi", _patch_avi(avi, **fields), SURVIVE, f"AVI header {fields}"))
        elif kind == 4:
            data = bytearray((mp4, avi, jpeg)[i % 3])
            for _ in range(int(rng.integers(1, 40))):
                pos = int(rng.integers(0, len(data)))
                data[pos] = int(rng.integers(0, 256))
            items.append(HostileInput(f"gen{i}-bytes.{('mp4', 'avi', 'jpg')[i % 3]}", bytes(data), SURVIVE,
                                      "random bytes overwritten"))  # fmt: skip
        else:
            head = magic[i % len(magic)]
            body = rng.integers(0, 256, int(rng.integers(10, 20_000)), dtype=np.uint8).tobytes()
            items.append(HostileInput(f"gen{i}-magic.bin", head + body, SURVIVE, "allowed magic, then garbage"))
    return items
