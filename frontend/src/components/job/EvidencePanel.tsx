import { useState } from "react";
import type { Job } from "../../api/types";
import { samplingFacts, videoFacts } from "../../lib/evidence";
import { formatBytes, formatDateTime } from "../../lib/format";
import { originalGone } from "../../lib/retention";
import { isActive } from "../../lib/verdict";

export function EvidencePanel({ job }: { job: Job }) {
  const media = job.media;
  const [copied, setCopied] = useState(false);
  const gone = originalGone(media);
  async function copyHash() {
    try {
      await navigator.clipboard.writeText(media.sha256);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  }
  return (
    <section className="card" aria-labelledby="evidence-title">
      <h2 id="evidence-title">Evidence</h2>
      <dl className="facts">
        <dt>SHA-256</dt>
        <dd>
          <code className="hash" data-testid="media-sha256">
            {media.sha256}
          </code>{" "}
          <button type="button" className="button ghost small" onClick={copyHash}>
            {copied ? "Copied" : "Copy"}
          </button>
        </dd>
        <dt>Type</dt>
        <dd>
          {media.mime_type} · {formatBytes(media.size_bytes)}
        </dd>
        {media.kind === "video" && (
          <>
            <dt>Video</dt>
            <dd>
              <span data-testid="media-facts">{videoFacts(job)}</span>
            </dd>
          </>
        )}
        {media.kind === "image" && (
          <>
            <dt>Image</dt>
            <dd>{media.width && media.height ? `${media.width}×${media.height}` : videoFacts(job)}</dd>
          </>
        )}
        <dt>Analysed</dt>
        <dd data-testid="analysed-facts">
          {media.kind === "video" && `${samplingFacts(job)} · `}
          {job.started_at ? `started ${formatDateTime(job.started_at)}` : "not started yet"}
          {job.finished_at ? ` · finished ${formatDateTime(job.finished_at)}` : isActive(job.state) ? " · running" : ""}
        </dd>
      </dl>
      <div className="actions">
        {job.state === "succeeded" && (
          <>
            <a className="button primary" href={job.report_url} target="_blank" rel="noopener" data-testid="export-report">
              Open report (HTML)
            </a>
            <a className="button" href={`${job.report_url}?download=1`} data-testid="download-report">
              Download report
            </a>
            <a
              className="button"
              href={job.report_pdf_url}
              title="The report as a PDF, signed by the lab: every download is a custody event"
              data-testid="download-report-pdf"
            >
              Download signed PDF
            </a>
            <a
              className="button"
              href={job.report_signature_url}
              title="The detached signature of the PDF you last downloaded: python -m audit.verify_pdf REPORT.pdf REPORT.pdf.sig"
              data-testid="download-report-signature"
            >
              Signature (.sig)
            </a>
            {job.manifest && (
              <a
                className="button"
                href={job.manifest_url}
                title="Re-run this analysis: python -m detector reproduce MANIFEST ORIGINAL"
                data-testid="download-manifest"
              >
                Download manifest
              </a>
            )}
          </>
        )}
        {gone ? (
          <p className="note" data-testid="original-deleted">
            {gone}
          </p>
        ) : (
          <a className="button" href={media.download_url} download={media.original_name} data-testid="download-original">
            Download original
          </a>
        )}
      </div>
    </section>
  );
}
