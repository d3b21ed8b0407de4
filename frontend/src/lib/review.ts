import type { Review, User, Verdict } from "../api/types";
import { formatDateTime } from "./format";
import { verdictLabelText, verdictWords } from "./verdict";

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
    machine: verdict ? verdictWords(verdict) : "No verdict",
    conclusion: overridden
      ? `${verdictLabelText(review.override_label)} (overrides the machine verdict)`
      : STATUS_TEXT[review.status],
    overridden,
    reviewer: review.reviewer,
    when: formatDateTime(review.created_at),
    why: review.reason || "—",
  };
}

/** Reviewers and admins of the job's team may record a review (accounts.permissions.IsTeamReviewer). */
export function canReview(me: Pick<User, "teams"> | null | undefined, teamId: number | null | undefined): boolean {
  const role = me?.teams.find((t) => t.id === teamId)?.role;
  return role === "reviewer" || role === "admin";
}

/**
 * The reviewer's conclusion in a badge beside the machine's (job cards, the case list, the case's badge): the
 * override label, or whether the verdict was confirmed or disputed; null while nobody reviewed it.
 */
export function reviewBadgeText(status: string | null | undefined, overrideLabel: string | null | undefined): string | null {
  if (overrideLabel) return `Reviewed: ${verdictLabelText(overrideLabel)}`;
  switch (status) {
    case "confirmed":
      return "Reviewed: confirmed";
    case "disputed":
      return "Reviewed: disputed";
    case "in_review":
      return "In review";
    default:
      return null;
  }
}

/** What a review form sends: agreeing confirms the verdict; an override needs a label and a reason. */
export interface ReviewDraft {
  agree: boolean;
  overrideLabel: string;
  reason: string;
}

/** Why the form cannot be sent yet, or null when it can. */
export function reviewDraftProblem(draft: ReviewDraft): string | null {
  if (draft.agree) return null;
  if (!draft.overrideLabel) return "Choose the label you conclude instead.";
  if (!draft.reason.trim()) return "An override needs a reason.";
  return null;
}

export function reviewRequest(draft: ReviewDraft): { status: string; override_label: string; reason: string } {
  return draft.agree
    ? { status: "confirmed", override_label: "", reason: draft.reason.trim() }
    : { status: "disputed", override_label: draft.overrideLabel, reason: draft.reason.trim() };
}
