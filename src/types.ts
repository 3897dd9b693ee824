// Shared value types used across the pipeline.

export type Vars = Record<string, unknown>;

/** How to become another user on the target (sudo/su). */
export interface BecomeOptions {
  method: 'sudo' | 'su';
  user: string; // default root
  password?: string;
}
