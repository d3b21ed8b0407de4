/**
 * What the evidence panel may say about a job's media and sampling at each point of its life: nothing is
 * claimed before the worker has measured it (a queued or running job has not been probed or sampled yet).
 */
import type { Job } from "../api/types";
import { formatTimestamp } from "./format";
import { isActive } from "./verdict";

/** The video line: its probe's figures, or why there are none yet. */
export function videoFacts(job: Pick<Job, "state" | "media">): string {
  const media = job.media;
  if (media.width && media.height) {
    const fps = media.fps ? `${media.fps.toFixed(2)} fps` : "— fps";
    return `${media.width}×${media.height} · ${formatTimestamp(media.duration_s)} · ${fps}${media.codec ? ` · ${media.codec}` : ""}`;
  }
  if (isActive(job.state)) return "not probed yet (the worker reads it when the analysis starts)";
  if (job.state === "cancelled") return "not probed (the analysis was cancelled first)";
  return "not probed (the worker could not read it)";
}

/** The sampling line: frames sampled once the worker says so; until then, how many were asked for. */
export function samplingFacts(job: Pick<Job, "state" | "diagnostics" | "settings">): string {
  const sampled = job.diagnostics?.frames_sampled;
  if (job.state === "succeeded" && typeof sampled === "number") return `${sampled} frames sampled`;
  const asked = job.settings?.frames;
  return typeof asked === "number" ? `${asked} frames requested` : "frames not sampled yet";
}

/** Why the input-quality panel lists nothing, or null when an empty list means "no concerns". */
export function qualityPending(job: Pick<Job, "state">): string | null {
  if (job.state === "succeeded") return null;
  if (isActive(job.state)) return "Input quality is assessed when the analysis ends.";
  return "Input quality was not assessed: the analysis did not finish.";
}
