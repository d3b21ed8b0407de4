import { describe, expect, it } from "vitest";
import { buildTimeline, detectorNames, nearestIndex, readoutAt, trackIds, noFaceText } from "./timeline";
import { FRAMES, face, frame } from "./fixtures";

describe("buildTimeline", () => {
  it("orders frames by time whatever order the API lists them in", () => {
    const timeline = buildTimeline(FRAMES, "frame");
    expect(timeline.times).toEqual([0, 0.4, 0.8, 1.2, 1.6]);
    expect(timeline.frameIndexes).toEqual([0, 10, 20, 30, 40]);
  });

  it("scores a frame by its most suspicious face and leaves gaps where nothing was measured", () => {
    const [ensemble] = buildTimeline(FRAMES, "frame").series;
    expect(ensemble?.values).toEqual([0.6, 0.8, null, null, 0.3]);
  });

  it("gives one series per detector, the job's detector order first", () => {
    const timeline = buildTimeline(FRAMES, "detector", ["spectral", "effnet_b0"]);
    expect(timeline.series.map((s) => s.label)).toEqual(["spectral", "effnet_b0", "convnext"]);
    expect(timeline.series[0]?.values).toEqual([0.5, 0.2, null, null, null]);
    expect(timeline.series[1]?.values).toEqual([0.7, 0.9, null, null, 0.3]);
    expect(timeline.series[2]?.values).toEqual([null, null, null, null, 0.65]);
  });

  it("gives one series per face track", () => {
    const timeline = buildTimeline(FRAMES, "track");
    expect(timeline.series.map((s) => s.key)).toEqual(["track:1", "track:2"]);
    expect(timeline.series[0]?.values).toEqual([0.6, 0.8, null, null, null]);
    expect(timeline.series[1]?.values).toEqual([null, 0.1, null, null, 0.3]);
  });

  it("ignores faces reported on a frame marked unreadable", () => {
    const frames = [frame(0, 0, [face(1, 0.9)], false)];
    expect(buildTimeline(frames, "frame").series[0]?.values).toEqual([null]);
  });

  it("returns empty series for a job without frames", () => {
    expect(buildTimeline([], "track")).toEqual({ times: [], frameIndexes: [], series: [], noFace: [] });
  });
});

describe("detectorNames and trackIds", () => {
  it("lists every detector that scored a face", () => {
    expect(detectorNames(FRAMES)).toEqual(["convnext", "effnet_b0", "spectral"]);
  });

  it("lists track ids ascending", () => {
    expect(trackIds(FRAMES)).toEqual([1, 2]);
  });
});

describe("nearestIndex", () => {
  const times = [0, 0.4, 0.8, 1.2];

  it("finds the sampled frame closest to a video time", () => {
    expect(nearestIndex(times, 0.55)).toBe(1);
    expect(nearestIndex(times, 0.65)).toBe(2);
  });

  it("clamps before the first and after the last frame", () => {
    expect(nearestIndex(times, -3)).toBe(0);
    expect(nearestIndex(times, 99)).toBe(3);
  });

  it("returns -1 when there are no frames", () => {
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe("readoutAt", () => {
  it("reads every detector's score at the sampled frame nearest the video time", () => {
    const timeline = buildTimeline(FRAMES, "detector", ["effnet_b0", "spectral"]);
    expect(readoutAt(timeline, 0.45)).toEqual({
      index: 1,
      frameIndex: 10,
      timeS: 0.4,
      values: [
        { key: "detector:effnet_b0", label: "effnet_b0", value: 0.9 },
        { key: "detector:spectral", label: "spectral", value: 0.2 },
        { key: "detector:convnext", label: "convnext", value: null },
      ],
      noFace: false,
    });
  });

  it("follows the video past the last sampled frame and reports gaps as null", () => {
    const timeline = buildTimeline(FRAMES, "track");
    const readout = readoutAt(timeline, 1.3);
    expect(readout?.frameIndex).toBe(30);
    expect(readout?.values.map((v) => v.value)).toEqual([null, null]);
    expect(readoutAt(timeline, 60)?.frameIndex).toBe(40);
  });

  it("has nothing to read on a job without frames", () => {
    expect(readoutAt(buildTimeline([], "frame"), 1)).toBeNull();
  });
});

describe("an analysis without trained weights", () => {
  // The worker's shape while detectors are untrained: faces found, every score null.
  const unscored = [frame(0, 0, [face(0, null, { spectral_lr: null })]), frame(15, 1, [face(0, null, { spectral_lr: null })])];

  it("keeps the sampled frames for seeking but plots no value", () => {
    const timeline = buildTimeline(unscored, "frame");
    expect(timeline.times).toEqual([0, 1]);
    expect(timeline.series[0]?.values).toEqual([null, null]);
  });

  it("still lists the detector so the per-detector view says it did not score", () => {
    const timeline = buildTimeline(unscored, "detector");
    expect(timeline.series.map((s) => s.label)).toEqual(["spectral_lr"]);
    expect(timeline.series[0]?.values).toEqual([null, null]);
  });
});

describe("frames without a face", () => {
  it("marks readable sampled frames where no face was found, and says how many", () => {
    const timeline = buildTimeline(FRAMES, "frame");
    expect(timeline.noFace).toEqual([false, false, true, false, false]); // frame 20; frame 30 is unreadable
    expect(noFaceText(timeline)).toBe("1 of 5 sampled frames without a face");
    expect(readoutAt(timeline, 0.8)?.noFace).toBe(true);
  });
});
