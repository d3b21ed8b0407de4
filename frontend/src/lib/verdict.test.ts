import { describe, expect, it } from "vitest";
import type { Verdict } from "../api/types";
import {
  aggregationText,
  detectorKindName,
  confidenceBand,
  bandText,
  formatPManipulated,
  hasUntrainedDetector,
  scoreZone,
  verdictDisplay,
  verdictHeadline,
  verdictLabelText,
  verdictTone,
  verdictWords,
} from "./verdict";

const verdict: Verdict = {
  label: "manipulated",
  score: 0.873,
  confidence: 0.9,
  aggregation: "top_k_mean",
  thresholds: { manipulated: 0.7, authentic: 0.3 },
  untrained: false,
  reason: "",
  per_track: [],
  per_detector: {},
  per_kind: [],
  label_text: "Manipulated",
  abstained: {},
  authentic_supported: false,
  caveat: "",
  created_at: "2026-01-01T00:00:00Z",
};

describe("verdict display", () => {
  it.each([
    ["manipulated", "Manipulated"],
    ["no_faces", "No faces found"],
    ["something_new", "Something new"],
    [null, "No verdict"],
  ])("labels %s as %s", (label, text) => {
    expect(verdictLabelText(label)).toBe(text);
  });

  it.each([
    [0.873, "P(manipulated) 0.87"],
    [0.004, "P(manipulated) 0.00"],
    [0.46, "P(manipulated) 0.46"],
    [null, "—"],
  ])("shows score %s in the one unit as %s, never a bare percentage", (score, text) => {
    expect(formatPManipulated(score)).toBe(text);
  });

  it("words an authentic verdict as no manipulation found unless the API says the cards support it", () => {
    expect(verdictWords({ label: "authentic", label_text: "No manipulation found" })).toBe("No manipulation found");
    expect(verdictWords({ label: "authentic", label_text: "Authentic" })).toBe("Authentic");
    expect(verdictWords({ label: "authentic" })).toBe("No manipulation found");
    expect(verdictWords({ label: "manipulated" })).toBe("Manipulated");
    expect(verdictWords(null)).toBe("No verdict");
  });

  it("colours no finding neutral, not in the green of a supported authentic verdict", () => {
    expect(verdictTone({ label: "authentic", label_text: "No manipulation found" })).toBe("no_finding");
    expect(verdictTone({ label: "authentic", label_text: "Authentic" })).toBe("authentic");
    expect(verdictTone({ label: "manipulated", label_text: "Manipulated" })).toBe("manipulated");
  });

  it("writes the band in the one unit, in the verdict's own words", () => {
    const thresholds = { manipulated: 0.833, authentic: 0.519 };
    expect(bandText({ thresholds, authentic_supported: false })).toBe(
      "Manipulated at P(manipulated) ≥ 0.83, no manipulation found at ≤ 0.52, inconclusive between.",
    );
    expect(bandText({ thresholds, authentic_supported: true })).toMatch(/authentic at ≤ 0.52/);
  });

  it("bands numeric confidence into high, medium and low", () => {
    expect(confidenceBand(0.9)).toEqual({ level: "high", text: "High confidence (0.90)" });
    expect(confidenceBand(0.6).level).toBe("medium");
    expect(confidenceBand(0.2).level).toBe("low");
  });

  it("accepts confidence as a word and says when it is missing", () => {
    expect(confidenceBand("Medium")).toEqual({ level: "medium", text: "Medium confidence" });
    expect(confidenceBand(null)).toEqual({ level: "unknown", text: "Confidence not reported" });
  });

  it("places scores on the verdict thresholds, inclusive at both ends", () => {
    const thresholds = verdict.thresholds;
    expect(scoreZone(0.7, thresholds)).toBe("manipulated");
    expect(scoreZone(0.5, thresholds)).toBe("inconclusive");
    expect(scoreZone(0.3, thresholds)).toBe("authentic");
  });

  it("writes a headline that warns when untrained detectors took part", () => {
    expect(verdictHeadline(verdict)).toBe("Manipulated: P(manipulated) 0.87.");
    expect(verdictHeadline({ ...verdict, untrained: true })).toMatch(/Only the trained detectors voted/);
    expect(verdictHeadline({ ...verdict, label: "inconclusive", label_text: "Inconclusive", score: null, untrained: true })).toBe(
      "Inconclusive: not scored, no detector has trained weights.",
    );
    expect(verdictHeadline({ ...verdict, label: "no_faces", score: null })).toMatch(/No faces/);
    expect(verdictHeadline(null)).toBe("No verdict yet.");
    expect(verdictHeadline({ ...verdict, label: "inconclusive", label_text: "Inconclusive", score: null, abstained: { b0: "chance" } })).toMatch(
      /^Inconclusive: not decided/,
    );
  });

  it("flags untrained detectors from the verdict or from the detector set", () => {
    const trained = { name: "a", architecture: "x", version: "1", sha256: "", trained: true, threshold: 0.5 };
    expect(hasUntrainedDetector({ detector_set: [trained], verdict })).toBe(false);
    expect(hasUntrainedDetector({ detector_set: [trained], verdict: { ...verdict, untrained: true } })).toBe(true);
    expect(hasUntrainedDetector({ detector_set: [{ ...trained, trained: false }], verdict: null })).toBe(true);
  });
});

describe("verdictDisplay", () => {
  // What the worker writes today while no detector has weights (detector/pipeline.py).
  const unscored: Verdict = {
    ...verdict,
    label: "inconclusive",
    label_text: "Inconclusive",
    score: null,
    confidence: null,
    untrained: true,
    aggregation: "confident",
    reason: "no trained detector ran (without trained weights: spectral_lr, custom_cnn); random weights are not evidence",
  };

  it("says an untrained analysis is not scored and offers no probability or confidence", () => {
    const display = verdictDisplay(unscored);
    expect(display.status).toBe("untrained");
    expect(display.label).toBe("Inconclusive");
    expect(display.probability).toBe("—");
    expect(display.confidence).toBeNull();
    expect(display.statusText).toMatch(/^Not scored/);
  });

  it("shows a scored verdict's probability and confidence band", () => {
    const display = verdictDisplay(verdict);
    expect(display).toMatchObject({ status: "scored", probability: "P(manipulated) 0.87", statusText: "" });
    expect(display.confidence).toEqual({ level: "high", text: "High confidence (0.90)" });
  });

  it("notes when only the trained part of a mixed ensemble voted", () => {
    const display = verdictDisplay({ ...verdict, untrained: true });
    expect(display.status).toBe("scored");
    expect(display.statusText).toMatch(/trained detectors only/);
  });

  it("says a verdict no detector voted on is not decided, without a probability", () => {
    const display = verdictDisplay({ ...verdict, label: "inconclusive", label_text: "Inconclusive", score: null, confidence: null, abstained: { b0: "chance" } });
    expect(display).toMatchObject({ status: "abstained", probability: "—", confidence: null });
    expect(display.statusText).toMatch(/^Not decided: no detector that ran is shown by its model card/);
  });

  it("treats no faces and a missing score as their own states", () => {
    expect(verdictDisplay({ ...verdict, label: "no_faces", score: null }).status).toBe("no_faces");
    expect(verdictDisplay({ ...verdict, score: null, untrained: false }).status).toBe("no_score");
  });
});

describe("aggregationText", () => {
  it.each([
    ["confident", /confidently manipulated frames/],
    ["topk_mean", /most suspicious quarter/],
    ["mean", /mean over all frames/],
    ["median_of_tracks", /median of tracks/],
    ["", /not reported/],
  ])("explains %s", (name, text) => {
    expect(aggregationText(name)).toMatch(text);
  });
});

describe("detector kinds", () => {
  const twoKinds: Verdict = {
    ...verdict,
    per_kind: [
      { kind: "face_swap", name: "face swap / re-enactment", label: "authentic", score: 0.1, detectors: ["efficientnet_b0"], threshold: 0.5 },
      { kind: "fully_generated", name: "fully generated face", label: "manipulated", score: 0.9, detectors: ["genface_spectral"], threshold: 0.6 },
    ],
  };
  it("names what each detector looks for from the verdict's own kinds", () => {
    expect(detectorKindName(twoKinds, "genface_spectral")).toBe("fully generated face");
    expect(detectorKindName(twoKinds, "efficientnet_b0")).toBe("face swap / re-enactment");
    expect(detectorKindName(twoKinds, "custom_cnn")).toBeNull();
    expect(detectorKindName(null, "custom_cnn")).toBeNull();
  });
});
