/** Where detectors disagree about the same face, and a per-detector summary for comparison. */
import type { DetectorInfo, FrameResult } from "../api/types";
import { detectorNames, sortFrames } from "./timeline";

/** Scores are calibrated probabilities, so a gap above 0.3 means one detector leans the other way. */
export const DISAGREEMENT_THRESHOLD = 0.3;

export interface Disagreement {
  frame_index: number;
  timestamp_s: number;
  track_id: number;
  high: { name: string; score: number };
  low: { name: string; score: number };
  spread: number;
}

/** Every face whose highest and lowest detector scores differ by more than `threshold`. */
export function findDisagreements(frames: FrameResult[], threshold = DISAGREEMENT_THRESHOLD): Disagreement[] {
  const found: Disagreement[] = [];
  for (const frame of sortFrames(frames)) {
    if (!frame.readable) continue;
    const faces = [...frame.faces].sort((a, b) => a.track_id - b.track_id);
    for (const face of faces) {
      let high: { name: string; score: number } | null = null;
      let low: { name: string; score: number } | null = null;
      for (const [name, score] of Object.entries(face.detector_scores)) {
        if (typeof score !== "number" || !Number.isFinite(score)) continue;
        if (!high || score > high.score) high = { name, score };
        if (!low || score < low.score) low = { name, score };
      }
      if (!high || !low) continue;
      const spread = high.score - low.score;
      if (spread > threshold) {
        found.push({ frame_index: frame.frame_index, timestamp_s: frame.timestamp_s, track_id: face.track_id, high, low, spread });
      }
    }
  }
  return found;
}

export interface DetectorSummary {
  name: string;
  info: DetectorInfo | null;
  /** The detector's video-level score from verdict.per_detector. */
  videoScore: number | null;
  meanFaceScore: number | null;
  maxFaceScore: number | null;
  facesScored: number;
  /** Faces at or above the detector's own threshold (0.5 when it has none). */
  facesFlagged: number;
  /** Faces where this detector was the high or low end of a disagreement. */
  disagreements: number;
}

export function summarizeDetectors(
  frames: FrameResult[],
  detectorSet: DetectorInfo[],
  perDetector: Record<string, number | null> = {},
  threshold = DISAGREEMENT_THRESHOLD,
): DetectorSummary[] {
  const order = detectorSet.map((d) => d.name);
  const names = detectorNames(frames, order);
  for (const name of [...order, ...Object.keys(perDetector)]) if (!names.includes(name)) names.push(name);
  const disagreements = findDisagreements(frames, threshold);

  return names.map((name) => {
    const info = detectorSet.find((d) => d.name === name) ?? null;
    const cutoff = info?.threshold ?? 0.5;
    const scores: number[] = [];
    for (const frame of frames) {
      if (!frame.readable) continue;
      for (const face of frame.faces) {
        const score = face.detector_scores[name];
        if (typeof score === "number" && Number.isFinite(score)) scores.push(score);
      }
    }
    const videoScore = perDetector[name];
    return {
      name,
      info,
      videoScore: typeof videoScore === "number" ? videoScore : null,
      meanFaceScore: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
      maxFaceScore: scores.length ? Math.max(...scores) : null,
      facesScored: scores.length,
      facesFlagged: scores.filter((s) => s >= cutoff).length,
      disagreements: disagreements.filter((d) => d.high.name === name || d.low.name === name).length,
    };
  });
}
