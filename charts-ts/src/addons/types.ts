/**
 * Types of the add-on table (`table.ts`): every controller an environment installs, the chart and
 * version it is installed from, and the CustomResourceDefinitions of exactly that version, each with
 * the place it was copied from and the sha256 of the vendored bytes (`charts-ts/crds/<file>`).
 */

/** A Helm chart in a repository (an https index, or an OCI registry without its `oci://` scheme). */
export interface HelmChart {
  /** Repository URL as Argo CD expects it. @see https://argo-cd.readthedocs.io/en/stable/user-guide/helm/ */
  readonly repoUrl: string;
  /** Chart name in that repository. */
  readonly name: string;
  /** Pinned chart version. */
  readonly version: string;
}

/**
 * Where a vendored CRD file came from.
 * - `go-module`: byte-for-byte from the tagged module zip the Go module proxy serves
 *   (`go mod download -json <module>@<version>`, then the file at `path` inside the zip).
 * - `transcription`: read from the upstream repository at `commit` and reduced to its schema (descriptions
 *   and printer columns dropped). Used only where no registry reachable from the build machines serves
 *   the release; `tagVerified` says whether `commit` is known to be the commit of the pinned release.
 */
export type CrdSource =
  | {
      readonly kind: 'go-module';
      /** Module path, e.g. `github.com/kedacore/keda/v2`. */
      readonly module: string;
      /** Module version, `v` + the add-on's app version. */
      readonly version: string;
      /** Path of the file inside the module. */
      readonly path: string;
    }
  | {
      readonly kind: 'transcription';
      /** `owner/name` on GitHub. */
      readonly repository: string;
      /** Commit the file was read at (40 hex digits). */
      readonly commit: string;
      /** Path of the file in the repository. */
      readonly path: string;
      /** Whether `commit` is known to be the pinned release's tag. */
      readonly tagVerified: boolean;
    };

/** One vendored CRD file of an add-on. */
export interface CrdFile {
  /** Path below `charts-ts/crds/`. */
  readonly file: string;
  /** sha256 of the vendored file's bytes (a test recomputes it). */
  readonly sha256: string;
  readonly source: CrdSource;
}

/** A platform add-on: what Argo CD (or the kind scripts) install, pinned. */
export interface Addon {
  /** Short name, also the Argo CD Application suffix (`<system>-<env>-<name>`). */
  readonly name: string;
  /** Helm chart, or `undefined` for an add-on installed from its release manifest (Argo CD itself). */
  readonly chart?: HelmChart;
  /** Release manifest URL when there is no chart (Argo CD's `install.yaml`). */
  readonly manifestUrl?: string;
  /** Version of the software the chart installs (the chart's `appVersion`). */
  readonly appVersion: string;
  /** Where `appVersion` of `chart.version` was read (the chart's Chart.yaml, a release note). */
  readonly versionSource: string;
  /** Namespace the add-on is installed into. */
  readonly namespace: string;
  /** Where the add-on is installed: EKS environments, kind clusters, or the GitOps bootstrap. */
  readonly platforms: readonly ('eks' | 'kind' | 'bootstrap')[];
  /** CRDs of exactly `appVersion` that the charts' custom resources are validated against. */
  readonly crds: readonly CrdFile[];
}
