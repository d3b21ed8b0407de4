/** TanStack Query hooks over the REST API; job queries poll while a job is queued or running. */
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { ApiError, api } from "./client";
import type { DetectorChoice } from "../lib/detectors";
import type { Case, CaseDetail, CustodyLog, FrameResult, Job, Paginated, Review, User, WebhookDelivery } from "./types";
import { collectPages } from "../lib/pages";
import { isActive } from "../lib/verdict";

export const JOB_POLL_INTERVAL_MS = 1500;

export const keys = {
  me: ["me"] as const,
  cases: (params: CaseListParams) => ["cases", params] as const,
  case: (id: number) => ["case", id] as const,
  job: (id: number) => ["job", id] as const,
  frames: (id: number) => ["frames", id] as const,
  custody: (url: string) => ["custody", url] as const,
};

export function useMe() {
  return useQuery({
    queryKey: keys.me,
    queryFn: async (): Promise<User | null> => {
      try {
        return await api.get<User>("auth/me/");
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
}

/**
 * Another user's cached cases must not survive a sign-in or sign-out. The "me" query stays:
 * App observes it, and clearing it would leave that observer on a dropped query.
 */
function forgetEverythingButMe(client: QueryClient) {
  client.removeQueries({ predicate: (query) => query.queryKey[0] !== keys.me[0] });
}

export function useSignIn() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (credentials: { username: string; password: string }) => api.post<User>("auth/login/", credentials),
    onSuccess: (user) => {
      forgetEverythingButMe(client);
      client.setQueryData(keys.me, user);
    },
  });
}

export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<unknown>("auth/logout/"),
    onSettled: () => {
      forgetEverythingButMe(client);
      client.setQueryData(keys.me, null);
    },
  });
}

export interface CaseListParams {
  search: string;
  ordering: string;
  page: number;
  state: string;
  verdict: string;
}

export function useCases(params: CaseListParams) {
  const query = new URLSearchParams();
  if (params.search) query.set("search", params.search);
  if (params.ordering) query.set("ordering", params.ordering);
  if (params.page > 1) query.set("page", String(params.page));
  if (params.state) query.set("state", params.state);
  if (params.verdict) query.set("verdict", params.verdict);
  return useQuery({
    queryKey: keys.cases(params),
    queryFn: () => api.get<Paginated<Case>>(`cases/?${query}`),
    placeholderData: (previous) => previous,
  });
}

/** The detectors a job may name, for the upload form's checklist (they change only when a worker starts). */
export function useDetectors() {
  return useQuery({
    queryKey: ["detectors"],
    queryFn: () => api.get<DetectorChoice[]>("detectors/"),
    staleTime: 5 * 60_000,
  });
}

export function useCreateCase() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (data: { title: string; notes?: string; tags?: string[] }) => api.post<Case>("cases/", data),
    onSuccess: () => client.invalidateQueries({ queryKey: ["cases"] }),
  });
}

export function useCase(id: number) {
  return useQuery({
    queryKey: keys.case(id),
    queryFn: () => api.get<CaseDetail>(`cases/${id}/`),
  });
}

/** Job detail; `initial` (from the case's job list) shows at once while the first poll runs. */
export function useJob(id: number, initial?: Job) {
  return useQuery({
    queryKey: keys.job(id),
    queryFn: () => api.get<Job>(`jobs/${id}/`),
    initialData: initial,
    // The case page just fetched every job it lists; do not fetch each one again on mount.
    staleTime: 5_000,
    refetchInterval: (query) => (isActive(query.state.data?.state) ? JOB_POLL_INTERVAL_MS : false),
  });
}

export function useFrames(job: Job | undefined) {
  const ready = job?.state === "succeeded";
  return useQuery({
    queryKey: keys.frames(job?.id ?? 0),
    // The timeline, the face gallery and the detector comparison show the whole job: every page.
    queryFn: () => collectPages(job?.frames_url || `jobs/${job?.id}/frames/`, (url) => api.get<Paginated<FrameResult>>(url)),
    enabled: ready,
    staleTime: Infinity,
  });
}

function useJobAction(action: "cancel" | "retry") {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (job: Job) => api.post<Job>(`jobs/${job.id}/${action}/`),
    onSuccess: (result, job) => {
      client.setQueryData(keys.job(result.id), result);
      client.invalidateQueries({ queryKey: keys.case(job.case) });
      client.invalidateQueries({ queryKey: ["cases"] });
    },
  });
}

/** Record a review; the job, its case and the case list then show it (and the case moves up the list). */
export function useReviewJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ job, review }: { job: Job; review: { status: string; override_label: string; reason: string } }) =>
      api.post<Review>(`jobs/${job.id}/review/`, review),
    onSuccess: (_review, { job }) => {
      client.invalidateQueries({ queryKey: keys.job(job.id) });
      client.invalidateQueries({ queryKey: keys.case(job.case) });
      client.invalidateQueries({ queryKey: ["cases"] });
      client.invalidateQueries({ queryKey: ["custody"] });
    },
  });
}

export const useCancelJob = () => useJobAction("cancel");
export const useRetryJob = () => useJobAction("retry");

/**
 * A case's or job's custody log (`custody_url` of either). `version` (the job's custody link or the
 * case's chain head) is part of the key, so the log is fetched again when a new event moves it.
 */
export function useCustody(url: string, version: string) {
  return useQuery({
    queryKey: [...keys.custody(url), version],
    queryFn: () => api.get<CustodyLog>(url),
    placeholderData: (previous) => previous,
  });
}

/** The webhook delivery log of the teams the user administers (newest first, one page). */
export function useWebhookDeliveries(status: string) {
  const query = new URLSearchParams();
  if (status) query.set("status", status);
  return useQuery({
    queryKey: ["webhook-deliveries", status],
    queryFn: () => api.get<Paginated<WebhookDelivery>>(`webhooks/deliveries/?${query}`),
    placeholderData: (previous) => previous,
  });
}
