import type { Review, Verdict } from "../api/types";
import { formatDateTime } from "./format";
import { verdictLabelText } from "./verdict";

/** The machine's verdict and the reviewer's conclusion, side by side, with who, when and why. */
export interface ReviewConclusion {
  machine: string;
  conclusion: string;
  overridden: boolean;
  reviewer: string;
  when: string;
  why: string;
}

const STATUS_TEXT: Record<Review["status"], string> = {
  unreviewed: "Not reviewed",
  in_review: "In review",
  confirmed: "Confirmed: the machine verdict stands",
  disputed: "Disputed",
};

export function reviewConclusion(review: Review | null | undefined, verdict: Verdict | null): ReviewConclusion | null {
  if (!review) return null;
  const overridden = Boolean(review.override_label);
  return {
    machine: verdict ? verdictLabelText(verdict.label) : "No verdict",
    conclusion: overridden
      ? `${verdictLabelText(review.override_label)} (overrides the machine verdict)`
      : STATUS_TEXT[review.status],
    overridden,
    reviewer: review.reviewer,
    when: formatDateTime(review.created_at),
    why: review.reason || "—",
  };
}
