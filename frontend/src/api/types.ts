/** Shapes of the REST API (/api/v1/) as the dashboard reads them. */

export interface TeamMembership {
  id: number;
  name: string;
  role: string;
}

export interface User {
  id: number;
  username: string;
  teams: TeamMembership[];
}

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export type VerdictLabel = "manipulated" | "authentic" | "inconclusive" | "no_faces";
export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type JobStage = "queued" | "decoding" | "faces" | "scoring" | "aggregating" | "done";

export interface VerdictBrief {
  label: VerdictLabel;
  score: number | null;
  /** True when detectors without trained weights were in the set (none scored when score is null). */
  untrained?: boolean;
  /** The job that produced it (case list only). */
  job?: number;
}

export interface Case {
  id: number;
  title: string;
  notes: string;
  tags: string[];
  team: { id: number; name: string };
  is_inbox?: boolean;
  created_by: string | number | { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
  media_count: number;
  job_count: number;
  latest_verdict: VerdictBrief | null;
}

export interface CaseDetail extends Case {
  jobs: Job[];
}

export interface Media {
  id: number;
  original_name: string;
  sha256: string;
  size_bytes: number;
  mime_type: string;
  kind: "video" | "image";
  duration_s: number | null;
  fps: number | null;
  width: number | null;
  height: number | null;
  frame_count: number | null;
  codec: string | null;
  download_url: string;
  /** Inline, Range-capable stream for the player; /api/v1/media/{id}/content/ when absent. */
  content_url?: string;
}

export interface DetectorInfo {
  name: string;
  architecture: string;
  version: string;
  /** Checkpoint hash; null for a detector without trained weights. */
  sha256: string | null;
  checkpoint?: string | null;
  trained: boolean;
  threshold: number | null;
}

export interface TrackSummary {
  track_id: number;
  score: number | null;
  label: VerdictLabel | string;
  /** Scored faces in the track. */
  faces?: number;
  /** Frame indices of the track (detector/aggregate.py TrackScore.to_dict). */
  frames: number[] | number;
}

export interface Verdict {
  label: VerdictLabel;
  score: number | null;
  /** A number in 0..1 or a word such as "high"; the API leaves it open. */
  confidence: number | string | null;
  aggregation: string;
  thresholds: { manipulated: number; authentic: number };
  untrained: boolean;
  reason: string;
  per_track: TrackSummary[];
  per_detector: Record<string, number | null>;
}

export interface Job {
  id: number;
  case: number;
  media: Media;
  state: JobState;
  stage: JobStage;
  progress: number;
  attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error_code: string | null;
  error_message: string | null;
  cancel_requested?: boolean;
  retry_of?: number | null;
  settings: { frames: number; detectors: string[] };
  detector_set: DetectorInfo[];
  verdict: Verdict | null;
  diagnostics: Record<string, unknown> | null;
  frames_url: string;
  report_url: string;
}

export interface FaceResult {
  track_id: number;
  box: [number, number, number, number];
  det_prob: number;
  score: number | null;
  detector_scores: Record<string, number | null>;
  crop_url: string | null;
  heatmap_url: string | null;
}

export interface FrameResult {
  frame_index: number;
  timestamp_s: number;
  readable: boolean;
  error?: string;
  faces: FaceResult[];
}
