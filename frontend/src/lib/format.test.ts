import { describe, expect, it } from "vitest";
import { formatBytes, formatTimestamp, shortHash } from "./format";

describe("formatTimestamp", () => {
  it("tells apart neighbouring frames of a 15 fps clip", () => {
    expect(formatTimestamp(1 / 15)).toBe("0:00.07");
    expect(formatTimestamp(2 / 15)).toBe("0:00.13");
  });

  it("carries minutes and takes fewer decimals for axis ticks", () => {
    expect(formatTimestamp(61.5, 1)).toBe("1:01.5");
    expect(formatTimestamp(null)).toBe("—");
  });
});

describe("formatBytes and shortHash", () => {
  it("reads sizes and shortens hashes", () => {
    expect(formatBytes(624_524)).toBe("610 KB");
    expect(shortHash("4f1c00000000abcdef", 4)).toBe("4f1c");
    expect(shortHash(null)).toBe("—");
  });
});
