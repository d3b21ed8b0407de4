/** How a verdict reads to an analyst: label words, probabilities, confidence band, zones. */
import type { Job, JobStage, JobState, Verdict, VerdictLabel } from "../api/types";

const LABEL_TEXT: Record<VerdictLabel | "no_finding", string> = {
  manipulated: "Manipulated",
  authentic: "Authentic",
  inconclusive: "Inconclusive",
  no_faces: "No faces found",
  no_finding: "No manipulation found",
};

export function verdictLabelText(label: string | null | undefined): string {
  if (!label) return "No verdict";
  return LABEL_TEXT[label as VerdictLabel | "no_finding"] ?? label.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

/**
 * The one unit every score is shown in: "P(manipulated) 0.46", a calibrated probability that the faces were
 * manipulated, to two decimals (detector/contract.py p_manipulated_text writes the report's the same way).
 * Never a bare percentage: beside "No manipulation found", "46%" reads as the opposite of what it is.
 */
export function formatPManipulated(score: number | null | undefined): string {
  if (typeof score !== "number" || !Number.isFinite(score)) return "—";
  return `P(manipulated) ${score.toFixed(2)}`;
}

/**
 * A verdict's label in an analyst's words, as the API gives it (label_text: "No manipulation found" for an
 * authentic verdict unless the detectors' cards show they catch most test fakes), else from the label.
 */
export function verdictWords(verdict: { label: string; label_text?: string | null } | null | undefined): string {
  if (!verdict) return "No verdict";
  return verdict.label_text || verdictLabelText(verdict.label === "authentic" ? "no_finding" : verdict.label);
}

export type ConfidenceLevel = "high" | "medium" | "low" | "unknown";

export interface ConfidenceBand {
  level: ConfidenceLevel;
  text: string;
}

export function confidenceBand(confidence: number | string | null | undefined): ConfidenceBand {
  if (typeof confidence === "number" && Number.isFinite(confidence)) {
    const level: ConfidenceLevel = confidence >= 0.8 ? "high" : confidence >= 0.5 ? "medium" : "low";
    return { level, text: `${verdictLabelText(level)} confidence (${confidence.toFixed(2)})` };
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
  if (typeof verdict.score !== "number" && Object.keys(verdict.abstained ?? {}).length) {
    return `${verdictWords(verdict)}: not decided, no detector that ran is shown by its model card to beat chance here.`;
  }
  if (typeof verdict.score !== "number") {
    return verdict.untrained
      ? `${verdictWords(verdict)}: not scored, no detector has trained weights.`
      : `${verdictWords(verdict)}: no probability was produced.`;
  }
  const base = `${verdictWords(verdict)}: ${formatPManipulated(verdict.score)}.`;
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

export type VerdictStatus = "scored" | "untrained" | "no_faces" | "no_score" | "abstained";

export interface VerdictDisplay {
  label: string;
  status: VerdictStatus;
  /** The calibrated probability of manipulation, "P(manipulated) 0.46"; "—" without one. */
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
  const label = verdictWords(verdict);
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
  if (!hasScore && Object.keys(verdict.abstained ?? {}).length) {
    return {
      label,
      status: "abstained",
      probability: "—",
      statusText:
        "Not decided: no detector that ran is shown by its model card to do better than chance on this kind of media. " +
        "Their scores below are evidence to read, not a verdict.",
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
    probability: formatPManipulated(verdict.score),
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

/**
 * The verdict's band in the one unit: "Manipulated at P(manipulated) ≥ 0.83, no manipulation found at ≤ 0.52,
 * inconclusive between." (the authentic side is worded as the verdict would word it).
 */
export function bandText(verdict: Pick<Verdict, "thresholds" | "authentic_supported">): string {
  const { manipulated, authentic } = verdict.thresholds;
  const low = verdict.authentic_supported ? "authentic" : "no manipulation found";
  return `Manipulated at P(manipulated) ≥ ${manipulated.toFixed(2)}, ${low} at ≤ ${authentic.toFixed(2)}, inconclusive between.`;
}

/**
 * The class a verdict is coloured by: an authentic verdict that its detectors' cards do not support
 * ("No manipulation found") is "no_finding", shown neutral rather than in the reassuring green of "Authentic".
 */
export function verdictTone(verdict: { label: string; label_text?: string | null }): string {
  return verdict.label === "authentic" && verdictWords(verdict) !== "Authentic" ? "no_finding" : verdict.label;
}
