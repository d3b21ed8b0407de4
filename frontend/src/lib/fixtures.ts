/** Frames JSON shaped like GET /api/v1/jobs/{id}/frames/, for unit tests. */
import type { FaceResult, FrameResult } from "../api/types";

export function face(track_id: number, score: number | null, detector_scores: Record<string, number | null> = {}): FaceResult {
  return {
    id: track_id,
    track_id,
    box: [10, 10, 60, 60],
    flags: [],
    det_prob: 0.99,
    score,
    detector_scores,
    crop_url: `/media/crops/${track_id}.jpg`,
    heatmap_url: null,
  };
}

export function frame(frame_index: number, timestamp_s: number, faces: FaceResult[], readable = true): FrameResult {
  const scores = faces.map((f) => f.score).filter((s): s is number => typeof s === "number");
  return {
    frame_index,
    timestamp_s,
    readable,
    error: "",
    face_count: faces.length,
    max_score: scores.length ? Math.max(...scores) : null,
    faces,
  };
}

/** Two tracks over four frames; frame 30 unreadable; frame 20 has no faces; listed out of order. */
export const FRAMES: FrameResult[] = [
  frame(10, 0.4, [face(1, 0.8, { effnet_b0: 0.9, spectral: 0.2 }), face(2, 0.1, { effnet_b0: 0.1, spectral: 0.15 })]),
  frame(0, 0, [face(1, 0.6, { effnet_b0: 0.7, spectral: 0.5 })]),
  frame(30, 1.2, [], false),
  frame(20, 0.8, []),
  frame(40, 1.6, [face(2, 0.3, { effnet_b0: 0.3, spectral: null, convnext: 0.65 })]),
];
