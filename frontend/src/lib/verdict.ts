/** How a verdict reads to an analyst: label words, probabilities, confidence band, zones. */
import type { Job, JobStage, JobState, Verdict, VerdictLabel } from "../api/types";

const LABEL_TEXT: Record<VerdictLabel, string> = {
  manipulated: "Manipulated",
  authentic: "Authentic",
  inconclusive: "Inconclusive",
  no_faces: "No faces found",
};

export function verdictLabelText(label: string | null | undefined): string {
  if (!label) return "No verdict";
  return LABEL_TEXT[label as VerdictLabel] ?? label.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

/**
 * A calibrated probability as a percentage. Whole percents are as precise as calibration
 * allows; the extremes read "<1%" / ">99%" rather than a misleading "0%" / "100%".
 */
export function formatProbability(score: number | null | undefined): string {
  if (typeof score !== "number" || !Number.isFinite(score)) return "—";
  const percent = score * 100;
  if (percent <= 0) return "0%";
  if (percent >= 100) return "100%";
  if (percent < 1) return "<1%";
  if (percent > 99) return ">99%";
  return `${Math.round(percent)}%`;
}

export type ConfidenceLevel = "high" | "medium" | "low" | "unknown";

export interface ConfidenceBand {
  level: ConfidenceLevel;
  text: string;
}

export function confidenceBand(confidence: number | string | null | undefined): ConfidenceBand {
  if (typeof confidence === "number" && Number.isFinite(confidence)) {
    const level: ConfidenceLevel = confidence >= 0.8 ? "high" : confidence >= 0.5 ? "medium" : "low";
    return { level, text: `${verdictLabelText(level)} confidence (${formatProbability(confidence)})` };
  }
  if (typeof confidence === "string" && confidence.trim()) {
    const word = confidence.trim().toLowerCase();
    const level: ConfidenceLevel = word === "high" || word === "medium" || word === "low" ? word : "unknown";
    return { level, text: `${verdictLabelText(word)} confidence` };
  }
  return { level: "unknown", text: "Confidence not reported" };
}

export type ScoreZone = "authentic" | "inconclusive" | "manipulated";

/** Which side of the verdict thresholds a score falls on (the band between them is inconclusive). */
export function scoreZone(score: number, thresholds: Verdict["thresholds"]): ScoreZone {
  if (score >= thresholds.manipulated) return "manipulated";
  if (score <= thresholds.authentic) return "authentic";
  return "inconclusive";
}

/** One sentence for the top of the verdict page. */
export function verdictHeadline(verdict: Verdict | null): string {
  if (!verdict) return "No verdict yet.";
  if (verdict.label === "no_faces") return "No faces were found, so nothing could be scored.";
  const probability = formatProbability(verdict.score);
  const base = `${verdictLabelText(verdict.label)}: ${probability} probability of manipulation.`;
  return verdict.untrained ? `${base} Untrained detectors took part; do not rely on this score.` : base;
}

export function untrainedDetectors(job: Pick<Job, "detector_set" | "verdict">): string[] {
  return job.detector_set.filter((d) => !d.trained).map((d) => d.name);
}

export function hasUntrainedDetector(job: Pick<Job, "detector_set" | "verdict">): boolean {
  return Boolean(job.verdict?.untrained) || untrainedDetectors(job).length > 0;
}

export const STAGES: JobStage[] = ["queued", "decoding", "faces", "scoring", "aggregating", "done"];

export const STAGE_TEXT: Record<JobStage, string> = {
  queued: "Queued",
  decoding: "Decoding frames",
  faces: "Finding faces",
  scoring: "Scoring faces",
  aggregating: "Aggregating",
  done: "Done",
};

export const STATE_TEXT: Record<JobState, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function isActive(state: JobState | undefined): boolean {
  return state === "queued" || state === "running";
}
