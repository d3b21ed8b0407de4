import { describe, expect, it } from "vitest";
import { defaultText, detectorLine, type DetectorChoice } from "./detectors";

function choice(overrides: Partial<DetectorChoice>): DetectorChoice {
  return { name: "made_up", recorded: true, kind: "face_swap", kind_name: "face swap / re-enactment", default_for: [], sha256: "", card: {}, ...overrides };
}

describe("the detector checklist", () => {
  it("says what each detector looks for and its card's AUC with the interval, per kind of media measured", () => {
    const card = { video_auc: 0.618, video_auc_ci95: [0.355, 0.855], image_auc: 0.655, image_auc_ci95: [0.605, 0.706] };
    expect(detectorLine(choice({ kind_name: "fully generated face", card }))).toBe(
      "fully generated face · video AUC 0.618 (95 % interval 0.355–0.855) · image AUC 0.655 (95 % interval 0.605–0.706)",
    );
    expect(detectorLine(choice({ card: {} }))).toBe("face swap / re-enactment · no model card");
    expect(detectorLine(choice({ recorded: false, kind_name: "" }))).toBe("not yet described by a worker · card not yet recorded");
  });

  it("names the media a detector runs on by default", () => {
    expect(defaultText(choice({ default_for: ["video", "image"] }))).toBe("default for videos and images");
    expect(defaultText(choice({ default_for: [] }))).toBe("");
  });
});
