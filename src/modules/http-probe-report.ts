// What http_probe hands back when the run ends: the requests it sent through the load balancer
// while the run worked (reported in the probe-report event, the roll summary and the HTML report).

/** Requests sent through a load balancer while the run worked (the http_probe module). */
export interface ProbeReport {
  url: string;
  requests: number;
  failed: number;
  /** Failures by kind: `HTTP 503`, `ECONNREFUSED`, `timeout` ... */
  failures: Record<string, number>;
  /** Sticky clients whose LB cookie changed (their session went to another node). */
  sessionsMoved: number;
  /** Requests answered per backend node (from the LB cookie or a node header), when it can be told. */
  perNode: Record<string, number>;
  durationMs: number;
  /** Requests and failures per second of the probe (epoch ms of each second's start), for the HTML report. */
  samples?: ProbeSample[];
}

export interface ProbeSample {
  t: number;
  requests: number;
  failed: number;
}
