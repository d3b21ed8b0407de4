import { describe, expect, it } from "vitest";
import { faceCoverage, qualityWarnings } from "./quality";
import { frame } from "./fixtures";

const codes = (...args: Parameters<typeof qualityWarnings>) => qualityWarnings(...args).map((w) => w.code);

/** Diagnostics as detector/pipeline.py writes them for a clean 720p clip. */
const CLEAN = {
  width: 1280,
  height: 720,
  frames_unreadable: 0,
  unreadable_frame_indices: [],
  faces_per_frame: [1, 1, 1, 1],
  blur_laplacian_var: { median: 420, min: 300 },
};

describe("qualityWarnings", () => {
  it("has nothing to say about a clean clip", () => {
    expect(qualityWarnings({ ...CLEAN, warnings: [] })).toEqual([]);
    expect(qualityWarnings(CLEAN)).toEqual([]);
  });

  it("shows the worker's warnings verbatim and does not repeat them", () => {
    const diagnostics = { ...CLEAN, width: 320, height: 240, warnings: ["low resolution (320x240): detectors are less reliable"] };
    expect(qualityWarnings(diagnostics)).toEqual([
      { code: "worker", message: "low resolution (320x240): detectors are less reliable" },
    ]);
  });

  it("accepts worker warnings with codes and ignores malformed ones", () => {
    expect(qualityWarnings({ warnings: [{ code: "vfr", message: "Variable frame rate" }, 7, null] })).toEqual([
      { code: "vfr", message: "Variable frame rate" },
    ]);
  });

  it("measures resolution itself when the worker wrote no warnings, from media if need be", () => {
    expect(codes({}, { width: 320, height: 240 })).toEqual(["low_resolution"]);
  });

  it("measures blur from the Laplacian statistics or a plain number", () => {
    expect(codes({ blur_laplacian_var: { median: 12 } })).toEqual(["blurred"]);
    expect(codes({ blur: 12 })).toEqual(["blurred"]);
  });

  it("counts unreadable frames from diagnostics, or from the frames when diagnostics are silent", () => {
    expect(qualityWarnings({ frames_unreadable: 2 })[0]?.message).toBe("2 sampled frames could not be decoded.");
    expect(qualityWarnings({ unreadable_frame_indices: [4] })[0]?.message).toBe("1 sampled frame could not be decoded.");
    expect(qualityWarnings({}, null, [frame(0, 0, [], false), frame(1, 1, [])])[0]?.message).toBe(
      "1 sampled frame could not be decoded.",
    );
  });

  it("always adds what the worker does not say about face counts", () => {
    expect(codes({ warnings: [], faces_per_frame: [0, 0, 0, 2] })).toEqual(["few_faces", "several_faces"]);
  });

  it("tolerates missing diagnostics", () => {
    expect(qualityWarnings(null)).toEqual([]);
  });
});

describe("faceCoverage", () => {
  it("counts the sampled frames with a face, and says nothing before they are measured", () => {
    expect(faceCoverage({ faces_per_frame: [1, 0, 2, 0], frames_with_faces: 2 })).toBe("Faces in 2 of 4 sampled frames");
    expect(faceCoverage({})).toBeNull();
    expect(faceCoverage(null)).toBeNull();
  });
});
