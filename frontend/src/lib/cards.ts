/**
 * A detector's model card as the worker records it with a result (detector/cards.py): what it scored on
 * test items no training split used. The analyst reads a score next to how far that detector can be trusted.
 * A card measures a detector on videos and, for an image detector, on held-apart images
 * (detector/contract.py card_figures: keys "video_auc", "image_tpr", "test_videos_real", ...).
 */

export type CardMediaKind = "video" | "image";

export interface CardFigures {
  /** What the figures were measured on. */
  mediaKind: CardMediaKind;
  auc: number;
  /** The AUC's 95 % bootstrap interval over the test items; null on cards written before it was measured. */
  interval: [number, number] | null;
  /** Share of the real test items flagged at the detector's threshold. */
  fpr: number | null;
  /** Share of the manipulated test items caught at the detector's threshold. */
  tpr: number | null;
  real: number | null;
  fake: number | null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function figuresOn(card: Record<string, unknown>, kind: CardMediaKind): CardFigures | null {
  const auc = num(card[`${kind}_auc`]);
  if (auc === null) return null;
  const raw = card[`${kind}_auc_ci95`];
  const low = Array.isArray(raw) && raw.length === 2 ? num(raw[0]) : null;
  const high = Array.isArray(raw) && raw.length === 2 ? num(raw[1]) : null;
  return {
    mediaKind: kind,
    auc,
    interval: low !== null && high !== null ? [low, high] : null,
    fpr: num(card[`${kind}_fpr`]),
    tpr: num(card[`${kind}_tpr`]),
    real: num(card[`test_${kind}s_real`]),
    fake: num(card[`test_${kind}s_fake`]),
  };
}

/**
 * The card's held-out figures on `mediaKind` where it measured that kind of media, else on videos; null when the
 * card records no held-out AUC (or there is no card).
 */
export function cardFigures(card: Record<string, unknown> | null | undefined, mediaKind: CardMediaKind = "video"): CardFigures | null {
  if (!card) return null;
  return figuresOn(card, mediaKind) ?? figuresOn(card, "video");
}

function rate(share: number, count: number | null, items: string, verb: string): string {
  const counted = count !== null ? `${Math.round(share * count)} of ${count} ` : "";
  return `${counted}${items} ${verb}`;
}

/**
 * One line, as the HTML/PDF report words it: the AUC with its interval and both rates at the threshold,
 * "held-out video AUC 0.618 (95 % interval 0.355–0.855); at its threshold 0 of 11 real videos flagged (FPR 0.000)
 * and 0 of 10 manipulated videos caught (TPR 0.000)".
 */
export function cardSummary(figures: CardFigures): string {
  const items = `${figures.mediaKind}s`;
  let text = `held-out ${figures.mediaKind} AUC ${figures.auc.toFixed(3)}`;
  if (figures.interval) {
    text += ` (95 % interval ${figures.interval[0].toFixed(3)}–${figures.interval[1].toFixed(3)})`;
  }
  const rates: string[] = [];
  if (figures.fpr !== null) rates.push(`${rate(figures.fpr, figures.real, `real ${items}`, "flagged")} (FPR ${figures.fpr.toFixed(3)})`);
  if (figures.tpr !== null) {
    rates.push(`${rate(figures.tpr, figures.fake, `manipulated ${items}`, "caught")} (TPR ${figures.tpr.toFixed(3)})`);
  }
  if (rates.length) text += `; at its threshold ${rates.join(" and ")}`;
  return text;
}
