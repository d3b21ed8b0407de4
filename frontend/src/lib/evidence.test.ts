import { describe, expect, it } from "vitest";
import type { Job } from "../api/types";
import { qualityPending, samplingFacts, videoFacts } from "./evidence";

const unprobed = { width: null, height: null, fps: null, duration_s: null, codec: "" } as unknown as Job["media"];
const probed = { width: 1920, height: 1080, fps: 30, duration_s: 10, codec: "h264" } as unknown as Job["media"];

describe("what the evidence panel may claim", () => {
  it("claims nothing about the media before the worker probed it", () => {
    expect(videoFacts({ state: "running", media: unprobed })).toMatch(/^not probed yet/);
    expect(videoFacts({ state: "queued", media: unprobed })).toMatch(/^not probed yet/);
    expect(videoFacts({ state: "failed", media: unprobed })).toBe("not probed (the worker could not read it)");
    expect(videoFacts({ state: "succeeded", media: probed })).toBe("1920×1080 · 0:10.00 · 30.00 fps · h264");
  });

  it("says frames were requested until they were sampled", () => {
    const settings = { frames: 32, detectors: [] };
    expect(samplingFacts({ state: "running", diagnostics: {}, settings })).toBe("32 frames requested");
    expect(samplingFacts({ state: "succeeded", diagnostics: { frames_sampled: 30 }, settings } as never)).toBe("30 frames sampled");
  });

  it("does not call a running job's input free of concerns", () => {
    expect(qualityPending({ state: "running" })).toMatch(/assessed when the analysis ends/);
    expect(qualityPending({ state: "failed" })).toMatch(/not assessed/);
    expect(qualityPending({ state: "succeeded" })).toBeNull();
  });
});
