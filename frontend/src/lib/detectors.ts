/**
 * The detector checklist of the upload form: one line per detector a job may name (GET /api/v1/detectors/, what
 * a worker recorded), saying what it looks for and how its model card says it did.
 */
import type { components } from "../api/schema.gen";
import { cardFigures, type CardMediaKind } from "./cards";

export type DetectorChoice = components["schemas"]["DetectorChoice"];

function aucText(card: Record<string, unknown>, kind: CardMediaKind): string | null {
  const figures = cardFigures(card, kind);
  if (!figures || figures.mediaKind !== kind) return null;
  const interval = figures.interval ? ` (95 % interval ${figures.interval[0].toFixed(3)}–${figures.interval[1].toFixed(3)})` : "";
  return `${kind} AUC ${figures.auc.toFixed(3)}${interval}`;
}

/** "face swap / re-enactment · video AUC 0.618 (95 % interval 0.355–0.855)"; what is not recorded is said so. */
export function detectorLine(choice: DetectorChoice): string {
  const what = choice.kind_name || "not yet described by a worker";
  const aucs = (["video", "image"] as const).map((kind) => aucText(choice.card ?? {}, kind)).filter(Boolean);
  return [what, ...(aucs.length ? aucs : [choice.recorded ? "no model card" : "card not yet recorded"])].join(" · ");
}

/** "default for videos and images", "default for images", or "" for an opt-in detector. */
export function defaultText(choice: DetectorChoice): string {
  const kinds = (choice.default_for ?? []).map((kind) => `${kind}s`);
  return kinds.length ? `default for ${kinds.join(" and ")}` : "";
}
