/**
 * A detector's model card as the worker records it with a result (detector/cards.py): what it scored on
 * videos no training split used. The analyst reads a score next to how far that detector can be trusted.
 */

export interface CardFigures {
  auc: number;
  /** The AUC's 95 % bootstrap interval over the held-out videos; null on cards written before it was measured. */
  interval: [number, number] | null;
  /** Share of the held-out real videos flagged at the detector's threshold. */
  fpr: number | null;
  realVideos: number | null;
  fakeVideos: number | null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The card's held-out figures, or null when the card records no held-out AUC (or there is no card). */
export function cardFigures(card: Record<string, unknown> | null | undefined): CardFigures | null {
  const auc = num(card?.video_auc);
  if (!card || auc === null) return null;
  const raw = card.video_auc_ci95;
  const low = Array.isArray(raw) && raw.length === 2 ? num(raw[0]) : null;
  const high = Array.isArray(raw) && raw.length === 2 ? num(raw[1]) : null;
  return {
    auc,
    interval: low !== null && high !== null ? [low, high] : null,
    fpr: num(card.video_fpr),
    realVideos: num(card.test_videos_real),
    fakeVideos: num(card.test_videos_fake),
  };
}

/** One line, as the HTML/PDF report words it: "held-out video AUC 0.618 (95 % interval 0.355–0.855); ...". */
export function cardSummary(figures: CardFigures): string {
  let text = `held-out video AUC ${figures.auc.toFixed(3)}`;
  if (figures.interval) {
    text += ` (95 % interval ${figures.interval[0].toFixed(3)}–${figures.interval[1].toFixed(3)})`;
  }
  if (figures.realVideos !== null && figures.fakeVideos !== null) {
    text += ` on ${figures.realVideos} real and ${figures.fakeVideos} manipulated videos`;
  }
  if (figures.fpr !== null) {
    text += `; ${(100 * figures.fpr).toFixed(1)} % of the real ones flagged at its threshold`;
  }
  return text;
}
