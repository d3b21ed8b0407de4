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
  if (typeof verdict.score !== "number") {
    return verdict.untrained
      ? `${verdictLabelText(verdict.label)}: not scored, no detector has trained weights.`
      : `${verdictLabelText(verdict.label)}: no probability was produced.`;
  }
  const probability = formatProbability(verdict.score);
  const base = `${verdictLabelText(verdict.label)}: ${probability} probability of manipulation.`;
  return verdict.untrained ? `${base} Only the trained detectors voted.` : base;
}

export function untrainedDetectors(job: Pick<Job, "detector_set" | "verdict">): string[] {
  return job.detector_set.filter((d) => !d.trained).map((d) => d.name);
}

export function hasUntrainedDetector(job: Pick<Job, "detector_set" | "verdict">): boolean {
  return Boolean(job.verdict?.untrained) || untrainedDetectors(job).length > 0;
}

// Every stage of the generated JobStage type, in the order a job passes them (the compiler checks the set).
export const STAGE_TEXT: Record<JobStage, string> = {
  queued: "Queued",
  decoding: "Decoding frames",
  faces: "Finding faces",
  scoring: "Scoring faces",
  aggregating: "Aggregating",
  done: "Done",
};

export const STAGES = Object.keys(STAGE_TEXT) as JobStage[];

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

/** What each aggregation rule in detector/aggregate.py does, in an analyst's words. */
const AGGREGATION_TEXT: Record<string, string> = {
  confident:
    "confident frames (the mean of the confidently manipulated frames when there are enough, else of the confidently authentic ones, else of all frames)",
  topk_mean: "mean of the most suspicious quarter of frames",
  mean: "mean over all frames",
};

export function aggregationText(name: string | null | undefined): string {
  if (!name) return "not reported";
  return AGGREGATION_TEXT[name] ?? name.replace(/_/g, " ");
}

export type VerdictStatus = "scored" | "untrained" | "no_faces" | "no_score";

export interface VerdictDisplay {
  label: string;
  status: VerdictStatus;
  /** The calibrated probability of manipulation as a percentage, "—" without one. */
  probability: string;
  /** Why there is no probability; empty when there is one. */
  statusText: string;
  /** Null when there is no score to be confident about. */
  confidence: ConfidenceBand | null;
}

/**
 * How the verdict panel reads. Without trained weights the worker still answers (label
 * "inconclusive", score null, untrained true): the panel must say "not scored", never show a
 * probability or a confidence for it.
 */
export function verdictDisplay(verdict: Verdict): VerdictDisplay {
  const label = verdictLabelText(verdict.label);
  const hasScore = typeof verdict.score === "number" && Number.isFinite(verdict.score);
  if (verdict.label === "no_faces") {
    return { label, status: "no_faces", probability: "—", statusText: "No face was found, so nothing could be scored.", confidence: null };
  }
  if (!hasScore && verdict.untrained) {
    return {
      label,
      status: "untrained",
      probability: "—",
      statusText: "Not scored: no detector with trained weights took part, so there is no probability of manipulation.",
      confidence: null,
    };
  }
  if (!hasScore) {
    return { label, status: "no_score", probability: "—", statusText: "No calibrated probability was produced.", confidence: null };
  }
  // Detectors without weights are left out of the ensemble: a score comes from trained ones only.
  return {
    label,
    status: "scored",
    probability: formatProbability(verdict.score),
    statusText: verdict.untrained ? "Scored by the trained detectors only; those without weights did not vote." : "",
    confidence: confidenceBand(verdict.confidence),
  };
}

/**
 * What a detector looks for ("face swap / re-enactment", "fully generated face"), as the verdict's own
 * per-kind summary names it (detector/contract.py KIND_NAMES); null when the verdict does not list it.
 */
export function detectorKindName(verdict: Pick<Verdict, "per_kind"> | null | undefined, detector: string): string | null {
  return verdict?.per_kind?.find((k) => (k.detectors ?? []).includes(detector))?.name ?? null;
}
