import { describe, expect, it } from "vitest";
import { CASE_TITLE_MAX_CHARS, fileSha256, jobErrorText, titleCount } from "./wrongMoves";

describe("wrong moves", () => {
  it("counts a title's characters and says by how much it is too long, instead of cutting it", () => {
    expect(titleCount("Harbour")).toEqual({ text: `7 / ${CASE_TITLE_MAX_CHARS}`, over: false });
    expect(titleCount("x".repeat(728))).toEqual({ text: "728 / 200: 528 characters too long", over: true });
  });

  it("names the uploaded file in an error instead of its stored sha256 name", () => {
    const sha = "ab".repeat(32);
    const job = { error_message: `${sha}: no frame could be decoded`, media: { sha256: sha, original_name: "harbour.mp4" } };
    expect(jobErrorText(job as never)).toBe("harbour.mp4: no frame could be decoded");
    expect(jobErrorText({ error_message: "", media: job.media } as never)).toBe("no reason given.");
  });

  it("hashes a file as the server names it", async () => {
    expect(await fileSha256(new Blob(["abc"]))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
