/**
 * Shapes of the REST API (/api/v1/) as the dashboard reads them: names for the types generated
 * from the API's OpenAPI schema (schema.gen.ts, `make api-types`; never edit that file by hand).
 * The JSON the worker stores (detector set, diagnostics, tracks, thresholds) is typed there from
 * detector/contract.py, so a change on the server without regenerated types fails `tsc`.
 */
import type { components } from "./schema.gen";

type Schemas = components["schemas"];

export type User = Schemas["User"];
export type TeamMembership = Schemas["TeamMembership"];
export type VerdictLabel = Schemas["VerdictLabelEnum"];
export type JobState = Schemas["JobStateEnum"];
export type JobStage = Schemas["JobStageEnum"];
export type VerdictBrief = Schemas["LatestVerdict"];
export type Case = Schemas["Case"];
export type CaseDetail = Schemas["CaseDetail"];
export type Media = Schemas["Media"];
export type DetectorInfo = Schemas["DetectorInfo"];
export type TrackSummary = Schemas["TrackScore"];
export type Verdict = Schemas["Verdict"];
export type KindVerdict = Schemas["KindVerdict"];
export type Job = Schemas["Job"];
export type FaceResult = Schemas["Face"];
export type FrameResult = Schemas["Frame"];
export type Review = Schemas["Review"];
export type AuditEvent = Schemas["AuditEvent"];
export type ChainLink = Schemas["ChainLink"];
export type CustodyLog = Schemas["CustodyLog"];
export type WebhookDelivery = Schemas["WebhookDelivery"];

export interface Paginated<T> {
  count: number;
  next?: string | null;
  previous?: string | null;
  results: T[];
}
