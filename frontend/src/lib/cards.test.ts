import { describe, expect, it } from "vitest";
import { cardFigures, cardSummary } from "./cards";

describe("cardFigures and cardSummary", () => {
  it("reads a card with its AUC interval into the report's words", () => {
    const figures = cardFigures({
      video_auc: 0.618,
      video_auc_ci95: [0.355, 0.855],
      video_fpr: 0,
      test_videos_real: 11,
      test_videos_fake: 10,
      limits: [],
    });
    expect(figures).toEqual({ auc: 0.618, interval: [0.355, 0.855], fpr: 0, realVideos: 11, fakeVideos: 10 });
    expect(cardSummary(figures!)).toBe(
      "held-out video AUC 0.618 (95 % interval 0.355–0.855) on 11 real and 10 manipulated videos; " +
        "0.0 % of the real ones flagged at its threshold",
    );
  });

  it("leaves out what an older or partial card does not record", () => {
    const figures = cardFigures({ video_auc: 0.536, video_auc_ci95: null, video_fpr: 0.091 });
    expect(figures?.interval).toBeNull();
    expect(cardSummary(figures!)).toBe("held-out video AUC 0.536; 9.1 % of the real ones flagged at its threshold");
  });

  it("has nothing to say without a card or without a measured AUC", () => {
    expect(cardFigures(undefined)).toBeNull();
    expect(cardFigures({})).toBeNull();
    expect(cardFigures({ video_auc: "0.6", video_fpr: 0.1 })).toBeNull();
    expect(cardFigures({ video_auc: 0.6, video_auc_ci95: ["a", 0.7] })?.interval).toBeNull();
  });
});
