/** Shapes frames JSON (GET /jobs/{id}/frames/) into aligned series for the score timeline. */
import type { FaceResult, FrameResult } from "../api/types";

export type TimelineMode = "frame" | "detector" | "track";

export interface TimelineSeries {
  key: string;
  label: string;
  /** One value per entry of Timeline.times; null where the frame has nothing to plot (a gap). */
  values: (number | null)[];
}

export interface Timeline {
  times: number[];
  frameIndexes: number[];
  series: TimelineSeries[];
  /** Per entry of `times`: a readable sampled frame on which no face was found (marked on the chart). */
  noFace: boolean[];
}

function maxOrNull(values: (number | null | undefined)[]): number | null {
  let best: number | null = null;
  for (const value of values) {
    if (typeof value === "number" && Number.isFinite(value) && (best === null || value > best)) best = value;
  }
  return best;
}

export function sortFrames(frames: FrameResult[]): FrameResult[] {
  return [...frames].sort((a, b) => a.timestamp_s - b.timestamp_s || a.frame_index - b.frame_index);
}

function facesOf(frame: FrameResult): FaceResult[] {
  return frame.readable ? frame.faces : [];
}

/** Detector names seen in the faces, in `preferredOrder` first (the job's detector set), then by name. */
export function detectorNames(frames: FrameResult[], preferredOrder: string[] = []): string[] {
  const seen = new Set<string>();
  for (const frame of frames) for (const face of frame.faces) for (const name of Object.keys(face.detector_scores)) seen.add(name);
  const ordered = preferredOrder.filter((name) => seen.has(name));
  const rest = [...seen].filter((name) => !preferredOrder.includes(name)).sort();
  return [...ordered, ...rest];
}

export function trackIds(frames: FrameResult[]): number[] {
  const ids = new Set<number>();
  for (const frame of frames) for (const face of frame.faces) ids.add(face.track_id);
  return [...ids].sort((a, b) => a - b);
}

/**
 * A frame is scored by its most suspicious face (max over faces), the same rule as the
 * per-frame step of the video aggregation: one manipulated face makes the frame manipulated.
 * Unreadable frames and frames without faces become gaps, never zeros, so the chart does not
 * show "authentic" where nothing was measured.
 */
export function buildTimeline(frames: FrameResult[], mode: TimelineMode, detectorOrder: string[] = []): Timeline {
  const sorted = sortFrames(frames);
  const times = sorted.map((frame) => frame.timestamp_s);
  const frameIndexes = sorted.map((frame) => frame.frame_index);

  let series: TimelineSeries[];
  if (mode === "frame") {
    series = [
      {
        key: "ensemble",
        label: "Ensemble (most suspicious face)",
        values: sorted.map((frame) => maxOrNull(facesOf(frame).map((face) => face.score))),
      },
    ];
  } else if (mode === "detector") {
    series = detectorNames(sorted, detectorOrder).map((name) => ({
      key: `detector:${name}`,
      label: name,
      values: sorted.map((frame) => maxOrNull(facesOf(frame).map((face) => face.detector_scores[name]))),
    }));
  } else {
    series = trackIds(sorted).map((id) => ({
      key: `track:${id}`,
      label: `Track ${id}`,
      values: sorted.map((frame) =>
        maxOrNull(facesOf(frame).filter((face) => face.track_id === id).map((face) => face.score)),
      ),
    }));
  }
  const noFace = sorted.map((frame) => frame.readable && frame.faces.length === 0);
  return { times, frameIndexes, series, noFace };
}

/** "15 of 32 sampled frames without a face" (readable frames only), or null when every frame had one. */
export function noFaceText(timeline: Timeline): string | null {
  const missing = timeline.noFace.filter(Boolean).length;
  return missing ? `${missing} of ${timeline.times.length} sampled frames without a face` : null;
}

/** Index into `times` (sorted ascending) of the sampled frame nearest to `t`, or -1 when empty. */
export function nearestIndex(times: number[], t: number): number {
  if (!times.length) return -1;
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs((times[lo - 1] as number) - t) <= Math.abs((times[lo] as number) - t)) return lo - 1;
  return lo;
}

export interface TimelineReadout {
  /** Position in Timeline.times of the sampled frame nearest the video time. */
  index: number;
  frameIndex: number;
  timeS: number;
  values: { key: string; label: string; value: number | null }[];
  /** No face was found on this (readable) frame. */
  noFace: boolean;
}

/**
 * The sampled frame the video is showing and every series' value there: what the chart's
 * cursor points at as the video plays (the video → chart half of the sync).
 */
export function readoutAt(timeline: Timeline, timeS: number): TimelineReadout | null {
  const index = nearestIndex(timeline.times, timeS);
  if (index < 0) return null;
  return {
    index,
    frameIndex: timeline.frameIndexes[index] as number,
    timeS: timeline.times[index] as number,
    values: timeline.series.map((s) => ({ key: s.key, label: s.label, value: s.values[index] ?? null })),
    noFace: timeline.noFace[index] ?? false,
  };
}
