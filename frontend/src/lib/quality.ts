/** Input-quality warnings read from a job's diagnostics (and its frames, when loaded). */
import type { FrameResult, Media } from "../api/types";

export interface QualityWarning {
  code: string;
  message: string;
}

/** Same cut-off as detector/pipeline.py: below it detectors are less reliable. */
export const MIN_SHORT_SIDE_PX = 360;
/** Same cut-off as detector/pipeline.py: median variance of the Laplacian of face crops. */
export const MIN_SHARPNESS = 50;

type Diagnostics = Record<string, unknown>;

function asNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Warnings the worker already phrased (diagnostics.warnings), or null when it wrote none. */
function workerWarnings(d: Diagnostics): QualityWarning[] | null {
  if (!Array.isArray(d.warnings)) return null;
  const warnings: QualityWarning[] = [];
  for (const item of d.warnings) {
    if (typeof item === "string") warnings.push({ code: "worker", message: item });
    else if (item && typeof item === "object" && typeof (item as QualityWarning).message === "string") {
      const w = item as Partial<QualityWarning>;
      warnings.push({ code: w.code ?? "worker", message: w.message as string });
    }
  }
  return warnings;
}

/** Resolution, blur and undecodable frames: what the worker's own warnings cover when present. */
function measuredWarnings(d: Diagnostics, media?: Pick<Media, "width" | "height"> | null, frames?: FrameResult[] | null) {
  const warnings: QualityWarning[] = [];
  const width = asNumber(d.width) ?? media?.width ?? null;
  const height = asNumber(d.height) ?? media?.height ?? null;
  if (width !== null && height !== null && Math.min(width, height) < MIN_SHORT_SIDE_PX) {
    warnings.push({ code: "low_resolution", message: `Low resolution (${width}×${height}): detectors are less reliable.` });
  }

  const blurStats = d.blur_laplacian_var as { median?: unknown } | undefined;
  const sharpness = asNumber(blurStats?.median) ?? asNumber(d.blur);
  if (sharpness !== null && sharpness < MIN_SHARPNESS) {
    warnings.push({ code: "blurred", message: `Faces are blurred (sharpness ${sharpness.toFixed(0)}, under ${MIN_SHARPNESS}).` });
  }

  const unreadable =
    asNumber(d.frames_unreadable) ??
    (Array.isArray(d.unreadable_frame_indices) ? d.unreadable_frame_indices.length : null) ??
    (frames ? frames.filter((f) => !f.readable).length : null);
  if (unreadable !== null && unreadable > 0) {
    warnings.push({
      code: "unreadable_frames",
      message: `${unreadable} sampled frame${unreadable === 1 ? "" : "s"} could not be decoded.`,
    });
  }
  return warnings;
}

/** How many faces the sampled frames held: none in most, or several in one. */
function faceCountWarnings(d: Diagnostics): QualityWarning[] {
  const counts = Array.isArray(d.faces_per_frame) ? d.faces_per_frame.map((n) => asNumber(n) ?? 0) : [];
  if (!counts.length) return [];
  const warnings: QualityWarning[] = [];
  const empty = counts.filter((n) => n === 0).length;
  const most = Math.max(...counts);
  if (empty > counts.length / 2) {
    warnings.push({ code: "few_faces", message: `No face found in ${empty} of ${counts.length} sampled frames.` });
  }
  if (most > 1) {
    warnings.push({ code: "several_faces", message: `Up to ${most} faces in one frame: read the scores per face track.` });
  }
  return warnings;
}

/**
 * The worker's own warnings come first and verbatim; the dashboard measures resolution, blur
 * and unreadable frames itself only when the worker wrote no warnings list (so nothing is said
 * twice), and always adds what the worker does not say about face counts.
 */
export function qualityWarnings(
  diagnostics: Diagnostics | null | undefined,
  media?: Pick<Media, "width" | "height"> | null,
  frames?: FrameResult[] | null,
): QualityWarning[] {
  const d = diagnostics ?? {};
  const fromWorker = workerWarnings(d);
  return [...(fromWorker ?? measuredWarnings(d, media, frames)), ...faceCountWarnings(d)];
}

/** "Faces in 17 of 32 sampled frames" of a video's diagnostics (readable frames), or null before it is measured. */
export function faceCoverage(diagnostics: Record<string, unknown> | null | undefined): string | null {
  const perFrame = diagnostics?.faces_per_frame;
  const withFaces = asNumber(diagnostics?.frames_with_faces);
  if (!Array.isArray(perFrame) || !perFrame.length || withFaces === null) return null;
  return `Faces in ${withFaces} of ${perFrame.length} sampled frames`;
}
