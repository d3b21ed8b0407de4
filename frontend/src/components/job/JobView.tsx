import { useCallback, useMemo, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { API_ROOT } from "../../api/client";
import { useCase, useFrames } from "../../api/queries";
import type { Job } from "../../api/types";
import { formatTimestamp } from "../../lib/format";
import { qualityPending } from "../../lib/evidence";
import { faceCoverage, qualityWarnings } from "../../lib/quality";
import { originalGone } from "../../lib/retention";
import { buildTimeline, readoutAt, type TimelineMode } from "../../lib/timeline";
import { hasUntrainedDetector, isActive } from "../../lib/verdict";
import { StateBadge } from "../Badges";
import { DetectorComparison } from "../DetectorComparison";
import { ErrorNote } from "../ErrorNote";
import { FaceGallery } from "../FaceGallery";
import { ScoreTimeline } from "../ScoreTimeline";
import { UntrainedWarning } from "./UntrainedWarning";
import { LiveProgress } from "./LiveProgress";
import { FailedPanel } from "./FailedPanel";
import { ReviewPanel } from "./ReviewPanel";
import { VerdictPanel } from "./VerdictPanel";
import { EvidencePanel } from "./EvidencePanel";
import { ModelsPanel } from "./ModelsPanel";
import { CustodyPanel } from "../CustodyPanel";

const TIMELINE_MODES: { mode: TimelineMode; label: string }[] = [
  { mode: "frame", label: "Per frame" },
  { mode: "detector", label: "Per detector" },
  { mode: "track", label: "Per face track" },
];

export function JobView({ job }: { job: Job }) {
  const frames = useFrames(job);
  const caseDetail = useCase(job.case);
  const videoRef = useRef<HTMLVideoElement>(null);
  const [currentTime, setCurrentTime] = useState(0);
  const [mode, setMode] = useState<TimelineMode>("frame");
  const [playable, setPlayable] = useState(true);

  const seek = useCallback((timeS: number) => {
    const video = videoRef.current;
    if (video) video.currentTime = timeS;
    setCurrentTime(timeS);
  }, []);

  const detectorOrder = useMemo(() => job.detector_set.map((d) => d.name), [job.detector_set]);
  const timeline = useMemo(() => buildTimeline(frames.data ?? [], mode, detectorOrder), [frames.data, mode, detectorOrder]);
  const currentFrameIndex = job.media.kind === "video" ? (readoutAt(timeline, currentTime)?.frameIndex ?? null) : null;
  const warnings = useMemo(() => qualityWarnings(job.diagnostics, job.media, frames.data), [job.diagnostics, job.media, frames.data]);
  const contentUrl = job.media.content_url || `${API_ROOT}/media/${job.media.id}/content/`;
  const name = job.media.original_name;

  return (
    <div className="stack">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">Cases</Link> <span aria-hidden="true">/</span> <Link to={`/cases/${job.case}`}>{caseDetail.data?.title ?? `Case #${job.case}`}</Link>{" "}
        <span aria-hidden="true">/</span> <span>{name}</span>
      </nav>
      <div className="page-head">
        <h1 className="filename" title={name} data-testid="job-title">
          {name}
        </h1>
        <StateBadge state={job.state} testId="job-state" />
      </div>

      {isActive(job.state) && <LiveProgress job={job} />}
      {(job.state === "failed" || job.state === "cancelled") && <FailedPanel job={job} />}

      {hasUntrainedDetector(job) && <UntrainedWarning job={job} />}

      <div className="job-grid">
        {job.state === "succeeded" && (
          <div className="stack summary-col">
            <VerdictPanel verdict={job.verdict} mediaKind={job.media.kind} coverage={faceCoverage(job.diagnostics)} />
            <ReviewPanel job={job} teamId={caseDetail.data?.team?.id} />
          </div>
        )}

        <div className="stack main-col">
          <section className="card" aria-labelledby="media-title">
            <h2 id="media-title">{job.media.kind === "video" ? "Video and score timeline" : "Image"}</h2>
            {originalGone(job.media) ? (
              <p className="note" data-testid="player-original-deleted">
                {originalGone(job.media)}
              </p>
            ) : job.media.kind === "video" ? (
              <video
                ref={videoRef}
                className="player"
                src={contentUrl}
                controls
                preload="metadata"
                onTimeUpdate={(e) => setCurrentTime(e.currentTarget.currentTime)}
                onSeeked={(e) => setCurrentTime(e.currentTarget.currentTime)}
                onError={() => setPlayable(false)}
                data-testid="video-player"
              />
            ) : (
              <img className="player" src={contentUrl} alt={name} data-testid="image-viewer" />
            )}
            {!playable && !originalGone(job.media) && (
              <p className="note warn" data-testid="video-unplayable">
                This browser cannot play the original{job.media.codec ? ` (codec ${job.media.codec})` : ""}.
                {job.state === "succeeded" && " The timeline and faces still work."} Download the original to view it in a forensic
                player.
              </p>
            )}
            {job.state === "succeeded" && job.media.kind === "video" && (
              <>
                <div className="toolbar" role="group" aria-label="Timeline series">
                  {TIMELINE_MODES.map((m) => (
                    <button
                      key={m.mode}
                      type="button"
                      className="button segment"
                      aria-pressed={mode === m.mode}
                      onClick={() => setMode(m.mode)}
                      data-testid={`timeline-mode-${m.mode}`}
                    >
                      {m.label}
                    </button>
                  ))}
                  <span className="muted small">Video at {formatTimestamp(currentTime)}</span>
                </div>
                {frames.isPending && <p className="muted">Loading frame scores…</p>}
                {frames.isError && <ErrorNote error={frames.error} title="Frame scores could not be loaded" />}
                {frames.data && (
                  <ScoreTimeline
                    timeline={timeline}
                    durationS={job.media.duration_s}
                    currentTime={currentTime}
                    thresholds={job.verdict?.thresholds}
                    onSeek={seek}
                  />
                )}
              </>
            )}
          </section>

          {job.state === "succeeded" && (
            <section className="card" aria-labelledby="faces-title">
              <h2 id="faces-title">{job.media.kind === "video" ? "Faces by track" : "Faces"}</h2>
              {frames.isPending && <p className="muted">Loading faces…</p>}
              {frames.isError && <ErrorNote error={frames.error} title="Faces could not be loaded" />}
              {frames.data && <FaceGallery
                  frames={frames.data}
                  verdict={job.verdict}
                  onSeek={job.media.kind === "video" ? seek : undefined}
                  currentFrameIndex={currentFrameIndex}
                  mediaKind={job.media.kind}
                  explanations={job.explanations}
                />}
            </section>
          )}
        </div>

        <div className={`stack details-col${job.state === "succeeded" ? "" : " alone"}`}>
          <EvidencePanel job={job} />
          <section className="card" aria-labelledby="quality-title" data-testid="quality-warnings">
            <h2 id="quality-title">Input quality</h2>
            {qualityPending(job) ? (
              <p className="muted" data-testid="quality-pending">
                {qualityPending(job)}
              </p>
            ) : warnings.length ? (
              <ul className="warnings">
                {warnings.map((w) => (
                  <li key={w.code + w.message} className="note warn" data-testid="quality-warning">
                    {w.message}
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">No input-quality concerns were reported.</p>
            )}
          </section>
          <ModelsPanel job={job} />
        </div>
      </div>

      {job.state === "succeeded" && (
        <section className="card" aria-labelledby="compare-title">
          <h2 id="compare-title">Detector comparison</h2>
          {frames.isPending && <p className="muted">Loading detector scores…</p>}
          {frames.data && (
            <DetectorComparison
              frames={frames.data}
              detectorSet={job.detector_set}
              verdict={job.verdict}
              onSeek={job.media.kind === "video" ? seek : undefined}
              mediaKind={job.media.kind}
            />
          )}
        </section>
      )}

      <CustodyPanel custodyUrl={job.custody_url} version={job.custody} />
    </div>
  );
}
