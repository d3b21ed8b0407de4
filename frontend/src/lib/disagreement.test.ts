import { describe, expect, it } from "vitest";
import type { DetectorInfo } from "../api/types";
import { findDisagreements, summarizeDetectors } from "./disagreement";
import { FRAMES, face, frame } from "./fixtures";

describe("findDisagreements", () => {
  it("reports faces whose detectors differ by more than 0.3, in time order", () => {
    const found = findDisagreements(FRAMES);
    expect(found.map((d) => [d.frame_index, d.track_id])).toEqual([
      [10, 1],
      [40, 2],
    ]);
    expect(found[0]).toMatchObject({ high: { name: "effnet_b0", score: 0.9 }, low: { name: "spectral", score: 0.2 } });
    expect(found[0]?.spread).toBeCloseTo(0.7);
  });

  it("does not count a gap of exactly the threshold", () => {
    const frames = [frame(0, 0, [face(1, 0.5, { a: 0.75, b: 0.25 })])];
    expect(findDisagreements(frames, 0.5)).toEqual([]);
    expect(findDisagreements(frames, 0.49)).toHaveLength(1);
  });

  it("skips missing scores and faces with a single detector", () => {
    const frames = [frame(0, 0, [face(1, 0.5, { a: 0.9, b: null }), face(2, 0.5, { a: 0.1 })])];
    expect(findDisagreements(frames)).toEqual([]);
  });

  it("skips unreadable frames", () => {
    const frames = [frame(0, 0, [face(1, 0.5, { a: 0.9, b: 0.1 })], false)];
    expect(findDisagreements(frames)).toEqual([]);
  });
});

describe("summarizeDetectors", () => {
  const detectorSet: DetectorInfo[] = [
    { name: "effnet_b0", architecture: "efficientnet_b0", version: "1", sha256: "ab", trained: true, threshold: 0.6 },
    { name: "spectral", architecture: "spectral_lr", version: "2", sha256: "cd", trained: false, threshold: null },
    { name: "temporal", architecture: "resnext_lstm", version: "1", sha256: "ef", trained: true, threshold: 0.5 },
  ];

  it("summarises each detector's face scores against its own threshold", () => {
    const rows = summarizeDetectors(FRAMES, detectorSet, { effnet_b0: 0.81, temporal: 0.4 });
    expect(rows.map((r) => r.name)).toEqual(["effnet_b0", "spectral", "convnext", "temporal"]);
    const effnet = rows[0]!;
    expect(effnet.videoScore).toBe(0.81);
    expect(effnet.facesScored).toBe(4);
    expect(effnet.meanFaceScore).toBeCloseTo((0.7 + 0.9 + 0.1 + 0.3) / 4);
    expect(effnet.maxFaceScore).toBe(0.9);
    expect(effnet.facesFlagged).toBe(2);
    expect(effnet.disagreements).toBe(2);
    expect(rows[1]).toMatchObject({ facesScored: 3, facesFlagged: 1, videoScore: null });
  });

  it("keeps a detector that scored no faces, with empty statistics", () => {
    const temporal = summarizeDetectors(FRAMES, detectorSet, { temporal: 0.4 }).find((r) => r.name === "temporal");
    expect(temporal).toMatchObject({ videoScore: 0.4, facesScored: 0, meanFaceScore: null, maxFaceScore: null });
  });
});
