/**
 * The Kubernetes versions the charts support. The charts are written with cdk8s-plus-34, the newest
 * cdk8s-plus line published: its objects are valid for every cluster from 1.34 on, and `make test`
 * validates every object of every environment against the 1.34 and the 1.36 API schemas (the oldest and
 * newest version here). Amazon EKS: 1.36 is the newest standard-support version; 1.34's standard support
 * ended on 2026-12-02 (extended support continues).
 * @see https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html
 */
export const SUPPORTED_KUBERNETES_VERSIONS = ['1.34', '1.35', '1.36'] as const;

/** A Kubernetes minor version the charts support. */
export type KubernetesVersion = (typeof SUPPORTED_KUBERNETES_VERSIONS)[number];

/** The version an environment targets unless it says otherwise. */
export const DEFAULT_KUBERNETES_VERSION: KubernetesVersion = '1.36';

/**
 * The versions whose API schemas every object is validated against: the oldest and newest supported (a
 * test keeps them so).
 */
export const VALIDATED_KUBERNETES_VERSIONS = ['1.34', '1.36'] as const satisfies readonly KubernetesVersion[];
