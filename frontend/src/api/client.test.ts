import { describe, expect, it } from "vitest";
import { errorMessage } from "./client";

describe("errorMessage", () => {
  it("shows a rejected file's reason without the field name or the machine code", () => {
    const body = { file: ["Not a supported video or image (its content is text/plain)."], code: "unsupported_type" };
    expect(errorMessage(body, 400)).toBe("Not a supported video or image (its content is text/plain).");
  });

  it("reads detail as a string or a list", () => {
    expect(errorMessage({ detail: "The upload exceeds the size limit.", code: "too_large" }, 413)).toBe(
      "The upload exceeds the size limit.",
    );
    expect(errorMessage({ detail: ["Wrong username or password."], code: "bad_credentials" }, 400)).toBe(
      "Wrong username or password.",
    );
  });

  it("names other fields", () => {
    expect(errorMessage({ frames: ["Ensure this value is greater than or equal to 1."] }, 400)).toBe(
      "frames: Ensure this value is greater than or equal to 1.",
    );
  });

  it("falls back to a sentence for HTML error pages", () => {
    expect(errorMessage("<html><body>413 Request Entity Too Large</body></html>", 413)).toBe("The file is too large for the server.");
    expect(errorMessage(null, 502)).toBe("The server answered 502.");
  });
});
