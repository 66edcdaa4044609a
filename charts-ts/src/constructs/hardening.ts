/**
 * The hardening every platform component of the system namespace shares (OTel collector, messaging
 * emulator, Postgres): the namespace enforces Pod Security `restricted`, so each pod runs as a fixed
 * non-root user with the runtime's seccomp profile, and each container drops every capability, cannot
 * escalate and has a read-only root filesystem. The services get the same through cdk8s-plus
 * (`Microservice`).
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */

/**
 * Pod `securityContext` of a component whose image runs as `uid` (used as its group too).
 * @param fsGroup also own mounted volumes by that group (a component that writes to a volume)
 */
export function componentPodSecurityContext(uid: number, fsGroup = false) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    ...(fsGroup ? { fsGroup: uid } : {}),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container `securityContext` of a component: writable paths are mounted volumes only. */
export function componentContainerSecurityContext() {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  };
}

/**
 * Readiness and liveness probes of a component from one check: liveness tolerates six failures, so a
 * busy component is taken out of its Service long before it is restarted.
 * @see https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-probes
 */
export function componentProbes<P extends object>(probe: P) {
  return { readinessProbe: probe, livenessProbe: { ...probe, failureThreshold: 6 } };
}
