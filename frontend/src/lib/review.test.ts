import { describe, expect, it } from "vitest";
import type { Review, Verdict } from "../api/types";
import { canReview, reviewBadgeText, reviewConclusion, reviewDraftProblem, reviewRequest } from "./review";

const verdict = { label: "manipulated" } as Verdict;

function review(overrides: Partial<Review>): Review {
  return {
    id: 1,
    status: "disputed",
    override_label: "",
    reason: "",
    reviewer: "rita",
    created_at: "2026-11-29T10:00:00Z",
    ...overrides,
  } as Review;
}

describe("reviewConclusion", () => {
  it("keeps the machine verdict next to a reviewer's override, with who and why", () => {
    const shown = reviewConclusion(review({ override_label: "authentic", reason: "known source" }), verdict);
    expect(shown?.machine).toMatch(/manipulated/i);
    expect(shown?.conclusion).toMatch(/authentic.*overrides the machine verdict/i);
    expect(shown).toMatchObject({ overridden: true, reviewer: "rita", why: "known source" });
  });

  it("says a confirmation leaves the machine verdict standing", () => {
    const shown = reviewConclusion(review({ status: "confirmed" }), verdict);
    expect(shown).toMatchObject({ overridden: false, why: "—" });
    expect(shown?.conclusion).toMatch(/stands/);
  });

  it("shows nothing for a job nobody reviewed", () => {
    expect(reviewConclusion(null, verdict)).toBeNull();
  });
});

describe("reviewing from the page", () => {
  const me = { teams: [{ id: 1, name: "Alpha", role: "reviewer" as const }, { id: 2, name: "Beta", role: "analyst" as const }] };

  it("lets reviewers and admins of the job's team review, not analysts or strangers", () => {
    expect(canReview(me, 1)).toBe(true);
    expect(canReview(me, 2)).toBe(false);
    expect(canReview(me, 3)).toBe(false);
    expect(canReview(null, 1)).toBe(false);
  });

  it("needs a label and a reason to override, nothing to agree", () => {
    expect(reviewDraftProblem({ agree: true, overrideLabel: "", reason: "" })).toBeNull();
    expect(reviewDraftProblem({ agree: false, overrideLabel: "", reason: "x" })).toMatch(/label/);
    expect(reviewDraftProblem({ agree: false, overrideLabel: "authentic", reason: "  " })).toMatch(/reason/);
    expect(reviewRequest({ agree: false, overrideLabel: "authentic", reason: " camera file " })).toEqual({
      status: "disputed",
      override_label: "authentic",
      reason: "camera file",
    });
    expect(reviewRequest({ agree: true, overrideLabel: "authentic", reason: "" }).status).toBe("confirmed");
  });

  it("badges the reviewer's conclusion beside the machine's", () => {
    expect(reviewBadgeText("disputed", "authentic")).toBe("Reviewed: Authentic");
    expect(reviewBadgeText("confirmed", "")).toBe("Reviewed: confirmed");
    expect(reviewBadgeText("unreviewed", "")).toBeNull();
  });
});
