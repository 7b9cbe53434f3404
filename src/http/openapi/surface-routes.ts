import type { TSchema } from "@sinclair/typebox";

/** Who may call a route of another system's API. */
export type SurfaceCaller = "user" | "step" | "api-key" | "signed-url" | "anyone";

/**
 * One route of another system's API served here (MRMS, Prediction One), as the OpenAPI document
 * shows it. Each surface keeps its table beside its router; a test holds the two to each other.
 */
export interface SurfaceRoute {
  method: "get" | "post" | "put";
  /** With `{name}` path parameters. */
  path: string;
  summary: string;
  caller: SurfaceCaller;
  query?: Record<string, { required: boolean; description: string }>;
  /** A JSON body's schema, or the raw bytes of a file. */
  body?: TSchema | "binary";
  answer: { kind: "text" | "json" | "file"; description: string };
}

export interface Surface {
  name: string;
  description: string;
  routes: SurfaceRoute[];
}
