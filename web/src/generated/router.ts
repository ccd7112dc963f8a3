// Code generated from the Go tRPC router (transformer: superjson). DO NOT EDIT.

import type {
  TRPCBuiltRouter,
  TRPCDefaultErrorShape,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCSubscriptionProcedure,
} from '@trpc/server';

/** A tracked subscription event as onData receives it; id is sent back as lastEventId on resubscribe. */
export interface TrackedData<T> {
  id: string;
  data: T;
}

/** zod's error.flatten(): messages about the whole input, and per top-level field. */
export interface ZodFlattenedError {
  formErrors: string[];
  fieldErrors: { [field: string]: string[] | undefined };
}

/** The error shape: tRPC's default, plus what create-t3-app's errorFormatter adds and packshot's extras. */
export interface ErrorShape extends TRPCDefaultErrorShape {
  data: TRPCDefaultErrorShape['data'] & {
    /** An input validation error's messages as zod's flatten() gives them (as a T3 app sends them); null for any other error. */
    zodError: ZodFlattenedError | null;
    /** The same field messages, one per field (dotted paths for nested fields). */
    fieldErrors?: Record<string, string>;
    /** When to retry, in seconds (TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE); also the HTTP Retry-After header. */
    retryAfterSeconds?: number;
  };
}

/** The Go router's type, for createTRPCClient<AppRouter>. */
export type AppRouter = TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: ErrorShape; transformer: true },
  {
    admin: {
      failedJobs: TRPCQueryProcedure<{ input: failedJobsInput; output: Job[]; meta: object }>;
      jobStats: TRPCQueryProcedure<{ input: void; output: JobStats; meta: object }>;
      onJobsUpdate: TRPCSubscriptionProcedure<{ input: void; output: AsyncIterable<JobsUpdate, void, any>; meta: object }>;
    };
    image: {
      generate: TRPCMutationProcedure<{ input: GenerateInput; output: Jobs; meta: object }>;
      generateCompletePack: TRPCMutationProcedure<{ input: PackInput; output: Jobs; meta: object }>;
      list: TRPCQueryProcedure<{ input: projectIDInput; output: GeneratedImage[]; meta: object }>;
      upload: TRPCMutationProcedure<{ input: FormData; output: Snapshot; meta: object }>;
    };
    job: {
      cancel: TRPCMutationProcedure<{ input: idInput; output: Job; meta: object }>;
      get: TRPCQueryProcedure<{ input: idInput; output: Job; meta: object }>;
      list: TRPCQueryProcedure<{ input: JobListInput; output: Job[]; meta: object }>;
      retry: TRPCMutationProcedure<{ input: idInput; output: Job; meta: object }>;
      watch: TRPCQueryProcedure<{ input: idInput; output: AsyncIterable<Job, void, any>; meta: object }>;
    };
    project: {
      create: TRPCMutationProcedure<{ input: CreateInput; output: Snapshot; meta: object }>;
      delete: TRPCMutationProcedure<{ input: idInput; output: okOutput; meta: object }>;
      get: TRPCQueryProcedure<{ input: idInput; output: Snapshot; meta: object }>;
      list: TRPCQueryProcedure<{ input: projectListInput; output: Page; meta: object }>;
      onListUpdate: TRPCSubscriptionProcedure<{ input: void; output: AsyncIterable<Summary, void, any>; meta: object }>;
      onUpdate: TRPCSubscriptionProcedure<{ input: onUpdateInput; output: AsyncIterable<TrackedData<Snapshot>, void, any>; meta: object }>;
      update: TRPCMutationProcedure<{ input: UpdateInput; output: Snapshot; meta: object }>;
    };
  }
>;

/**
 * AppRouter's streaming queries typed as the subscriptions they also are over wsLink and
 * httpSubscriptionLink (a tRPC procedure has one type, so AppRouter types them as queries):
 * createTRPCClient<AppStreamRouter>(sameOptions).job.watch.subscribe(input, { onData }).
 */
export type AppStreamRouter = TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: ErrorShape; transformer: true },
  {
    job: {
      watch: TRPCSubscriptionProcedure<{ input: idInput; output: AsyncIterable<Job, void, any>; meta: object }>;
    };
  }
>;

/** A project's status: from its photo and the latest job of each image type. */
export type ProjectStatus = "draft" | "ready" | "generating" | "completed" | "partial" | "failed";

/** Every ProjectStatus, in the server's order. */
export const projectStatuses: readonly ProjectStatus[] = ["draft", "ready", "generating", "completed", "partial", "failed"];

/** A job's status, as job_queue stores it. */
export type JobStatus = "pending" | "processing" | "completed" | "failed" | "cancelled";

/** Every JobStatus, in the server's order. */
export const jobStatuses: readonly JobStatus[] = ["pending", "processing", "completed", "failed", "cancelled"];

/** An image slot's status: its latest job's, or "none" before the first job. */
export type SlotStatus = "none" | "pending" | "processing" | "completed" | "failed" | "cancelled";

/** Every SlotStatus, in the server's order. */
export const slotStatuses: readonly SlotStatus[] = ["none", "pending", "processing", "completed", "failed", "cancelled"];

/** An image type; a job of kind "image.<type>" makes it. */
export type ImageType = "main" | "lifestyle" | "infographic" | "dimensions" | "detail" | "custom";

/** Every ImageType, in the server's order. */
export const imageTypes: readonly ImageType[] = ["main", "lifestyle", "infographic", "dimensions", "detail", "custom"];

/** A marketplace whose rules a project's images follow; the first is the default. */
export type Marketplace = "amazon" | "etsy" | "shopify";

/** Every Marketplace, in the server's order. */
export const marketplaces: readonly Marketplace[] = ["amazon", "etsy", "shopify"];

/** Whether a compliance violation gets an image rejected (error) or is advice (warning). */
export type Severity = "error" | "warning";

/** Every Severity, in the server's order. */
export const severities: readonly Severity[] = ["error", "warning"];

/** Every image type in imageTypes' order, named and explained for people. */
export const imageTypeInfo: ReadonlyArray<ImageTypeInfo> = [
  {
    "type": "main",
    "title": "Main image",
    "about": "The product alone on pure white."
  },
  {
    "type": "lifestyle",
    "title": "Lifestyle",
    "about": "The product in a real-looking scene."
  },
  {
    "type": "infographic",
    "title": "Infographic",
    "about": "Your title and features as callouts.",
    "needs": "features"
  },
  {
    "type": "dimensions",
    "title": "Dimensions",
    "about": "The product with its measurements.",
    "needs": "dimensions"
  },
  {
    "type": "detail",
    "title": "Detail close-up",
    "about": "A crop that shows materials and finish."
  },
  {
    "type": "custom",
    "title": "Custom image",
    "about": "Your own scene, made by the AI image service."
  }
];

/** The longest inputs the server accepts, in characters, and the most features a project has. */
export const inputLimits: InputLimits = {
  "name": 200,
  "title": 200,
  "features": 5,
  "feature": 120,
  "dimensions": 100,
  "prompt": 1000
};

export interface failedJobsInput {
  limit?: number | null;
}

export interface Job {
  id: string;
  kind: string;
  type: ImageType | "";
  projectId: string | null;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  progress: number;
  stage: string;
  lastError: string | null;
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

export interface JobStats {
  stats: StatusStat[];
}

export interface StatusStat {
  status: JobStatus;
  count: number;
  avgDurationSeconds: number | null;
}

export interface JobsUpdate {
  stats: StatusStat[];
  failed: Job[];
}

export interface GenerateInput {
  projectId: string;
  type: ImageType;
  prompt?: string | null;
  idempotencyKey?: string | null;
}

export interface Jobs {
  jobs: Job[];
}

export interface PackInput {
  projectId: string;
  idempotencyKey?: string | null;
}

export interface projectIDInput {
  projectId: string;
}

export interface GeneratedImage {
  id: string;
  type: ImageType;
  url: string;
  width: number;
  height: number;
  bytes: number;
  provider: string;
  prompt: string;
  compliance: Compliance;
  costUsd: number;
  createdAt: Date;
}

export interface Compliance {
  ok: boolean;
  violations: Violation[];
}

export interface Violation {
  code: string;
  message: string;
  severity?: Severity;
}

export interface Snapshot {
  id: string;
  name: string;
  marketplace: Marketplace;
  status: ProjectStatus;
  version: number;
  title: string;
  features: string[];
  dimensions: string;
  progress: number;
  costUsd: number;
  createdAt: Date;
  updatedAt: Date;
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
  type: ImageType;
  status: SlotStatus;
  progress: number;
  stage: string;
  jobId: string | null;
  error: string | null;
  image: GeneratedImage | null;
}

export interface idInput {
  id: string;
}

export interface JobListInput {
  projectId?: string | null;
  status?: JobStatus | null;
}

export interface CreateInput {
  name: string;
  marketplace?: Marketplace | null;
  title?: string | null;
  features?: string[];
  dimensions?: string | null;
}

export interface okOutput {
  ok: boolean;
}

export interface projectListInput {
  cursor?: string | null;
  limit?: number | null;
}

export interface Page {
  items: Summary[];
  nextCursor: string | null;
}

export interface Summary {
  id: string;
  name: string;
  marketplace: Marketplace;
  status: ProjectStatus;
  progress: number;
  version: number;
  thumbnailUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface onUpdateInput {
  id: string;
}

export interface UpdateInput {
  id: string;
  name?: string | null;
  title?: string | null;
  features?: string[];
  dimensions?: string | null;
}

export interface ImageTypeInfo {
  type: ImageType;
  title: string;
  about: string;
  needs?: "features" | "dimensions";
}

export interface InputLimits {
  name: number;
  title: number;
  features: number;
  feature: number;
  dimensions: number;
  prompt: number;
}
