// Stand-in for the generated AppRouter (packshot gen ts), written from the
// lead's contract until the Go router exists. Replaced by the real output.

import type {
  TRPCBuiltRouter,
  TRPCDefaultErrorShape,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCSubscriptionProcedure,
  TrackedEnvelope,
} from '@trpc/server';

/** The error shape: tRPC's default plus the field messages of a failed validation. */
export interface ErrorShape extends TRPCDefaultErrorShape {
  data: TRPCDefaultErrorShape['data'] & { fieldErrors?: Record<string, string> };
}

/** The Go router's type, for createTRPCClient<AppRouter>. */
export type AppRouter = TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: ErrorShape; transformer: false },
  {
    admin: {
      failedJobs: TRPCQueryProcedure<{ input: { limit?: number }; output: Job[]; meta: object }>;
      jobStats: TRPCQueryProcedure<{ input: void; output: JobStats; meta: object }>;
    };
    image: {
      generate: TRPCMutationProcedure<{ input: ImageGenerateInput; output: JobsOutput; meta: object }>;
      generateCompletePack: TRPCMutationProcedure<{ input: PackInput; output: JobsOutput; meta: object }>;
      list: TRPCQueryProcedure<{ input: { projectId: string }; output: GeneratedImage[]; meta: object }>;
      upload: TRPCMutationProcedure<{ input: FormData; output: ProjectSnapshot; meta: object }>;
    };
    job: {
      cancel: TRPCMutationProcedure<{ input: { id: string }; output: Job; meta: object }>;
      get: TRPCQueryProcedure<{ input: { id: string }; output: Job; meta: object }>;
      list: TRPCQueryProcedure<{ input: { projectId?: string; status?: string }; output: Job[]; meta: object }>;
      retry: TRPCMutationProcedure<{ input: { id: string }; output: Job; meta: object }>;
    };
    project: {
      create: TRPCMutationProcedure<{ input: ProjectCreateInput; output: ProjectSnapshot; meta: object }>;
      delete: TRPCMutationProcedure<{ input: { id: string }; output: { ok: boolean }; meta: object }>;
      get: TRPCQueryProcedure<{ input: { id: string }; output: ProjectSnapshot; meta: object }>;
      list: TRPCQueryProcedure<{ input: { cursor?: string; limit?: number }; output: ProjectPage; meta: object }>;
      onListUpdate: TRPCSubscriptionProcedure<{ input: void; output: AsyncIterable<TrackedEnvelope<ProjectSummary>, void, any>; meta: object }>;
      onUpdate: TRPCSubscriptionProcedure<{ input: { id: string }; output: AsyncIterable<TrackedEnvelope<ProjectSnapshot>, void, any>; meta: object }>;
      update: TRPCMutationProcedure<{ input: ProjectUpdateInput; output: ProjectSnapshot; meta: object }>;
    };
  }
>;

export interface ProjectCreateInput {
  name: string;
  marketplace?: string;
  title?: string;
  features?: string[];
  dimensions?: string;
}

export interface ProjectUpdateInput {
  id: string;
  name?: string;
  title?: string;
  features?: string[];
  dimensions?: string;
}

export interface ImageGenerateInput {
  projectId: string;
  type: string;
  prompt?: string;
  idempotencyKey?: string;
}

export interface PackInput {
  projectId: string;
  idempotencyKey?: string;
}

export interface JobsOutput {
  jobs: Job[];
}

export interface JobStats {
  stats: { status: string; count: number; avgDurationSeconds: number | null }[];
}

export interface ProjectPage {
  items: ProjectSummary[];
  nextCursor: string | null;
}

export interface ProjectSnapshot {
  id: string;
  name: string;
  marketplace: string;
  status: 'draft' | 'ready' | 'generating' | 'completed' | 'partial' | 'failed';
  version: number;
  title: string;
  features: string[];
  dimensions: string;
  progress: number;
  costUsd: number;
  createdAt: string;
  updatedAt: string;
  source: SourceImage | null;
  images: ImageSlot[];
  packUrl: string | null;
}

export interface SourceImage {
  url: string;
  width: number;
  height: number;
  bytes: number;
  mime: string;
}

export interface ImageSlot {
  type: string;
  status: 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled' | 'none';
  progress: number;
  stage: string;
  jobId: string | null;
  error: string | null;
  image: GeneratedImage | null;
}

export interface GeneratedImage {
  id: string;
  type: string;
  url: string;
  width: number;
  height: number;
  bytes: number;
  provider: string;
  prompt: string;
  compliance: { ok: boolean; violations: { code: string; message: string }[] };
  costUsd: number;
  createdAt: string;
}

export interface ProjectSummary {
  id: string;
  name: string;
  marketplace: string;
  status: string;
  progress: number;
  version: number;
  thumbnailUrl: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Job {
  id: string;
  kind: string;
  type: string;
  projectId: string | null;
  status: string;
  attempts: number;
  maxAttempts: number;
  progress: number;
  stage: string;
  lastError: string | null;
  runAt: string;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}
