/**
 * The shutdown timeline of a pod, shared by the Deployment (preStop, grace period) and the ALB Ingress
 * (deregistration delay) so that the numbers always agree:
 *
 *   deletion ─► preStop sleep ─► SIGTERM ─► drain (readyz fails, still serving) ─► shutdown ─► SIGKILL
 *
 * The preStop sleep keeps the pod serving while the endpoint removal reaches kube-proxy and the ALB
 * (which deregisters the target); the ALB's deregistration delay is shorter than that sleep so the ALB
 * has stopped sending before the process even hears SIGTERM.
 * @see https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination
 */
import { shutdownTiming, type RuntimeEnvironment } from '@flotilla/model';

export interface PodShutdownTiming {
  /** Seconds the `preStop` sleep action waits before SIGTERM. */
  readonly preStopSleepSeconds: number;
  /** `terminationGracePeriodSeconds`: preStop + drain + shutdown timeout + a margin. */
  readonly terminationGracePeriodSeconds: number;
  /** ALB target group `deregistration_delay.timeout_seconds`; shorter than the preStop sleep. */
  readonly deregistrationDelaySeconds: number;
}

/** Seconds between the end of the runtime's own shutdown timeout and SIGKILL. */
const MARGIN_SECONDS = 5;
/** Long enough for endpoint removal to reach every node and the ALB controller on a busy cluster. */
const PRE_STOP_SLEEP_SECONDS = 15;
/** Long enough to finish in-flight requests on the ALB, shorter than the preStop sleep. */
const DEREGISTRATION_DELAY_SECONDS = 10;

/** The shutdown timeline of a pod in an environment. */
export function podShutdownTiming(runtime: RuntimeEnvironment): PodShutdownTiming {
  const { drainSeconds, timeoutSeconds } = shutdownTiming(runtime);
  return {
    preStopSleepSeconds: PRE_STOP_SLEEP_SECONDS,
    terminationGracePeriodSeconds: PRE_STOP_SLEEP_SECONDS + drainSeconds + timeoutSeconds + MARGIN_SECONDS,
    deregistrationDelaySeconds: DEREGISTRATION_DELAY_SECONDS,
  };
}
