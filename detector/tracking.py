"""Link faces across sampled frames into tracks by box overlap (no embeddings needed).

Greedy matching against each track's last box: overlapping boxes (IoU) first, then, for
sparsely sampled video where a moving face no longer overlaps its previous box, the nearest
box of a similar size within a short hop. A track survives a few frames without a match so
a missed detection does not split one person into two tracks; a longer run of missed frames is
bridged afterwards when the box where a track ends and the box where a later one starts say it is
the same face (:func:`join_broken_tracks`).
"""

from __future__ import annotations

from detector.faces import Face, box_size_px

IOU_MATCH = 0.3
MAX_GAP_FRAMES = 3
# 32 frames sampled from a 10 s clip are ~0.3 s apart: a walking head moves about one face
# width in that time, so a centre may hop up to 1.5 face sizes and still be the same face.
MAX_CENTRE_HOP_SIZES = 1.5
# Sizes of one face between neighbouring samples stay within this ratio (no cut to a close-up).
MAX_SIZE_RATIO = 2.0


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix1, iy1 = max(a[0], b[0]), max(a[1], b[1])
    ix2, iy2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, ix2 - ix1) * max(0.0, iy2 - iy1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def centre_hop(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float | None:
    """Distance between box centres in units of the larger box's size; None when sizes differ too much."""
    size_a, size_b = box_size_px(a), box_size_px(b)
    if min(size_a, size_b) <= 0 or max(size_a, size_b) / min(size_a, size_b) > MAX_SIZE_RATIO:
        return None
    dx = (a[0] + a[2] - b[0] - b[2]) / 2.0
    dy = (a[1] + a[3] - b[1] - b[3]) / 2.0
    return float((dx * dx + dy * dy) ** 0.5 / max(size_a, size_b))


def match_priority(a: tuple[float, float, float, float], b: tuple[float, float, float, float], iou_match: float):
    """Sort key for a (track box, face box) pair, higher is better; None when they cannot be one face."""
    overlap = iou(a, b)
    if overlap >= iou_match:
        return (1, overlap)
    hop = centre_hop(a, b)
    if hop is not None and hop <= MAX_CENTRE_HOP_SIZES:
        return (0, -hop)
    return None


def assign_tracks(faces_per_frame: list[list[Face]], iou_match: float = IOU_MATCH) -> int:
    """Set ``track_id`` on every face in place; return the number of tracks."""
    tracks: list[dict] = []  # {"id", "box", "last_seen"}
    for step, faces in enumerate(faces_per_frame):
        live = [t for t in tracks if step - t["last_seen"] <= MAX_GAP_FRAMES]
        pairs = sorted(
            (
                (key, ti, fi)
                for ti, t in enumerate(live)
                for fi, f in enumerate(faces)
                if (key := match_priority(t["box"], f.box, iou_match)) is not None
            ),
            reverse=True,
        )
        used_tracks: set[int] = set()
        used_faces: set[int] = set()
        for _key, ti, fi in pairs:
            if ti in used_tracks or fi in used_faces:
                continue
            used_tracks.add(ti)
            used_faces.add(fi)
            live[ti]["box"] = faces[fi].box
            live[ti]["last_seen"] = step
            faces[fi].track_id = live[ti]["id"]
        # New tracks are numbered in reading order (top to bottom, left to right), so ids do not
        # depend on the order the face detector happened to return its boxes in.
        fresh = sorted(
            (fi for fi in range(len(faces)) if fi not in used_faces), key=lambda i: (faces[i].box[1], faces[i].box[0])
        )
        for fi in fresh:
            face = faces[fi]
            track = {"id": len(tracks), "box": face.box, "last_seen": step}
            tracks.append(track)
            face.track_id = track["id"]
    return join_broken_tracks(faces_per_frame, iou_match)


def join_broken_tracks(faces_per_frame: list[list[Face]], iou_match: float = IOU_MATCH) -> int:
    """Join a track to an earlier one that ended before it started when the earlier one's last box and its first
    box are one face by :func:`match_priority` (overlap, or a short hop of a same-sized box), however many frames
    lie between: a person the face detector missed for a while stays one track. Renumbers tracks 0, 1, ... in
    order of first appearance; returns their number.

    Two tracks seen on the same frame are two people and are never joined.
    """
    spans: dict[int, dict] = {}
    for step, faces in enumerate(faces_per_frame):
        for face in faces:
            span = spans.setdefault(face.track_id, {"first": step, "first_box": face.box, "steps": set()})
            span["last"], span["last_box"] = step, face.box
            span["steps"].add(step)
    joined: dict[int, int] = {}  # track id -> the earlier track it continues
    chains: dict[int, dict] = {}  # root track id -> its last step, last box and every step it holds
    for tid in sorted(spans, key=lambda t: (spans[t]["first"], t)):
        span = spans[tid]
        candidates = [
            (chain["last"], key, root)
            for root, chain in chains.items()
            if chain["last"] < span["first"]
            and not chain["steps"] & span["steps"]
            and (key := match_priority(chain["last_box"], span["first_box"], iou_match)) is not None
        ]
        if candidates:
            _, _, root = max(candidates)  # the one that ended last, then the better match
            joined[tid] = root
            chain = chains[root]
            chain["last"], chain["last_box"] = span["last"], span["last_box"]
            chain["steps"] |= span["steps"]
        else:
            chains[tid] = {"last": span["last"], "last_box": span["last_box"], "steps": set(span["steps"])}
    order = {root: new for new, root in enumerate(sorted(chains, key=lambda r: spans[r]["first"]))}
    for faces in faces_per_frame:
        for face in faces:
            face.track_id = order[joined.get(face.track_id, face.track_id)]
    return len(chains)
