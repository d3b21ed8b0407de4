import { describe, expect, it } from "vitest";
import type { Review, Verdict } from "../api/types";
import { reviewConclusion } from "./review";

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
