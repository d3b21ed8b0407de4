import { useParams } from "react-router-dom";
import { useJob } from "../api/queries";
import { ErrorNote } from "../components/ErrorNote";
import { JobView } from "../components/job/JobView";

export function JobPage() {
  const jobId = Number(useParams().jobId);
  const jobQuery = useJob(jobId);

  if (jobQuery.isPending) return <p className="muted">Loading analysis…</p>;
  if (jobQuery.isError) return <ErrorNote error={jobQuery.error} title="This analysis could not be loaded" />;
  return <JobView job={jobQuery.data} />;
}
