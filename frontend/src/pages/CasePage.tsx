import { Link, useParams } from "react-router-dom";
import { useCase } from "../api/queries";
import { ErrorNote } from "../components/ErrorNote";
import { JobCard } from "../components/JobCard";
import { UploadPanel } from "../components/UploadPanel";
import { CustodyPanel } from "../components/CustodyPanel";
import { ReviewBadge, TagList, VerdictBadge } from "../components/Badges";
import { formatDateTime } from "../lib/format";
import { isActive } from "../lib/verdict";

export function CasePage() {
  const caseId = Number(useParams().caseId);
  const detail = useCase(caseId);

  if (detail.isPending) return <p className="muted">Loading case…</p>;
  if (detail.isError) return <ErrorNote error={detail.error} title="This case could not be loaded" />;
  const c = detail.data;
  // Running and queued analyses first: what is moving is what the analyst is waiting for.
  const jobs = [...(c.jobs ?? [])].sort(
    (a, b) => Number(isActive(b.state)) - Number(isActive(a.state)) || b.created_at.localeCompare(a.created_at),
  );

  return (
    <div className="stack">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">Cases</Link> <span aria-hidden="true">/</span> <span>{c.title}</span>
      </nav>
      <div className="page-head">
        <h1 data-testid="case-title">{c.title}</h1>
        <VerdictBadge verdict={c.latest_verdict} testId="case-verdict" />
        <ReviewBadge status={c.latest_verdict?.review_status} label={c.latest_verdict?.review_label} testId="case-review" />
      </div>
      <p className="muted small">
        {c.team?.name} · created {formatDateTime(c.created_at)} · updated {formatDateTime(c.updated_at)}
      </p>
      <TagList tags={c.tags} />
      {c.notes && <p className="notes">{c.notes}</p>}

      <UploadPanel caseId={c.id} />

      <section aria-labelledby="jobs-title">
        <h2 id="jobs-title">Analyses</h2>
        {jobs.length === 0 ? (
          <p className="empty">No media yet: drop files above to start an analysis.</p>
        ) : (
          <ul className="job-list" data-testid="job-list">
            {jobs.map((job) => (
              <JobCard key={job.id} initial={job} />
            ))}
          </ul>
        )}
        {c.job_count > jobs.length && (
          <p className="muted small" data-testid="jobs-truncated">
            The newest {jobs.length} of {c.job_count} analyses; all of them: <a href={c.jobs_url}>{c.jobs_url}</a>
          </p>
        )}
      </section>

      <CustodyPanel custodyUrl={c.custody_url} version={c.custody_head} />
    </div>
  );
}
