import { describe, expect, it } from "vitest";
import { originalGone } from "./retention";

describe("originalGone", () => {
  it("is null while the original is kept", () => {
    expect(originalGone({ original_deleted_at: null, original_deleted_reason: "" })).toBeNull();
  });
  it("says when and why the original was deleted", () => {
    expect(originalGone({ original_deleted_at: "2026-11-29T15:00:00Z", original_deleted_reason: "team retention: 7 days" })).toBe(
      "Original deleted on 2026-11-29 (team retention: 7 days). Its hashes, results and custody log are kept.",
    );
  });
});
