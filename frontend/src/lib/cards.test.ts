import { describe, expect, it } from "vitest";
import { cardFigures, cardSummary } from "./cards";

describe("cardFigures and cardSummary", () => {
  it("reads a card with its AUC interval and both rates at the threshold into the report's words", () => {
    const figures = cardFigures({
      video_auc: 0.618,
      video_auc_ci95: [0.355, 0.855],
      video_fpr: 0,
      video_tpr: 0.1,
      test_videos_real: 11,
      test_videos_fake: 10,
      limits: [],
    });
    expect(figures).toEqual({ mediaKind: "video", auc: 0.618, interval: [0.355, 0.855], fpr: 0, tpr: 0.1, real: 11, fake: 10 });
    expect(cardSummary(figures!)).toBe(
      "held-out video AUC 0.618 (95 % interval 0.355–0.855); at its threshold 0 of 11 real videos flagged (FPR 0.000) " +
        "and 1 of 10 manipulated videos caught (TPR 0.100)",
    );
  });

  it("reads an image detector's held-apart images for an image, and its videos for a video", () => {
    const card = { video_auc: 0.355, video_tpr: 0, test_videos_fake: 10, image_auc: 0.655, image_tpr: 0.155, test_images_fake: 220 };
    expect(cardFigures(card, "image")).toMatchObject({ mediaKind: "image", auc: 0.655, tpr: 0.155, fake: 220 });
    expect(cardFigures(card, "video")).toMatchObject({ mediaKind: "video", auc: 0.355 });
    expect(cardSummary(cardFigures(card, "image")!)).toBe(
      "held-out image AUC 0.655; at its threshold 34 of 220 manipulated images caught (TPR 0.155)",
    );
    // A card that measured no images speaks about videos, and says so.
    expect(cardFigures({ video_auc: 0.6 }, "image")?.mediaKind).toBe("video");
  });

  it("leaves out what an older or partial card does not record", () => {
    const figures = cardFigures({ video_auc: 0.536, video_auc_ci95: null, video_fpr: 0.091 });
    expect(figures?.interval).toBeNull();
    expect(cardSummary(figures!)).toBe("held-out video AUC 0.536; at its threshold real videos flagged (FPR 0.091)");
  });

  it("has nothing to say without a card or without a measured AUC", () => {
    expect(cardFigures(undefined)).toBeNull();
    expect(cardFigures({})).toBeNull();
    expect(cardFigures({ video_auc: "0.6", video_fpr: 0.1 })).toBeNull();
    expect(cardFigures({ video_auc: 0.6, video_auc_ci95: ["a", 0.7] })?.interval).toBeNull();
  });
});
