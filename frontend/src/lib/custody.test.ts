import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../api/types";
import { READS, SUBSTANTIVE, actionLabel, custodyActions, filterCustody } from "./custody";

function event(overrides: Partial<AuditEvent>): AuditEvent {
  return {
    id: 1,
    created_at: "2026-11-29T10:00:00Z",
    actor_name: "alice",
    action: "media.uploaded",
    team: 1,
    object_type: "media",
    object_id: "3",
    sha256: "ab".repeat(32),
    ip: "192.0.2.1",
    detail: {},
    is_read: false,
    chain: "team:1",
    seq: 1,
    prev_hash: "0".repeat(64),
    entry_hash: "cd".repeat(32),
    ...overrides,
  } as AuditEvent;
}

const events = [
  event({ id: 1, seq: 1 }),
  event({ id: 2, seq: 2, action: "job.submitted", object_type: "job", object_id: "7" }),
  event({ id: 3, seq: 3, action: "media.downloaded", actor_name: "rita", ip: "198.51.100.4", entry_hash: "ef".repeat(32) }),
];

describe("filterCustody", () => {
  it("keeps everything without a filter", () => {
    expect(filterCustody(events, { text: "", action: "" })).toHaveLength(3);
  });

  it("filters by action and by who, address or hash", () => {
    expect(filterCustody(events, { text: "", action: "job.submitted" }).map((e) => e.id)).toEqual([2]);
    expect(filterCustody(events, { text: "RITA", action: "" }).map((e) => e.id)).toEqual([3]);
    expect(filterCustody(events, { text: "198.51", action: "" }).map((e) => e.id)).toEqual([3]);
    expect(filterCustody(events, { text: "efef", action: "" }).map((e) => e.id)).toEqual([3]);
    expect(filterCustody(events, { text: "job 7", action: "" }).map((e) => e.id)).toEqual([2]);
    expect(filterCustody(events, { text: "rita", action: "job.submitted" })).toEqual([]);
  });
});

describe("custodyActions and actionLabel", () => {
  it("lists each action once and words it", () => {
    expect(custodyActions(events)).toEqual(["media.uploaded", "job.submitted", "media.downloaded"]);
    expect(actionLabel("media.downloaded")).toBe("Media downloaded");
  });
});

describe("substantive events and reads of evidence", () => {
  const withReads = [...events, event({ id: 4, seq: 4, action: "artifact.viewed", is_read: true })];
  it("shows the substantive events by default and the reads on demand", () => {
    expect(filterCustody(withReads, { text: "", action: SUBSTANTIVE }).map((e) => e.id)).toEqual([1, 2, 3]);
    expect(filterCustody(withReads, { text: "", action: READS }).map((e) => e.id)).toEqual([4]);
    expect(filterCustody(withReads, { text: "", action: "" })).toHaveLength(4);
  });
});
