import { ApiError, errorFromResponse, warningsOf } from '../src/cluster.js';
import type { DeployResult } from '../src/deploy.js';
import { countByKind, reasonOf, summary } from '../src/report.js';

// Bodies as kube-apiserver 1.36 answered them in `make conformance`.
const PSA_STATUS = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message:
    'pods "conformance-privileged" is forbidden: violates PodSecurity "restricted:v1.36": privileged (container "root" must not set securityContext.privileged=true)',
  reason: 'Forbidden',
  details: { name: 'conformance-privileged', kind: 'pods' },
  code: 403,
});
const SSA_UNKNOWN_FIELD =
  'failed to create typed patch object (shop/x; apps/v1, Kind=Deployment): .spec.template.spec.containers[name="inventory"].imagePullPolicyy: field not declared in schema';

describe('error reporting', () => {
  it("gives the API server's reason and message for a Status answer", () => {
    const error = errorFromResponse(403, PSA_STATUS);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(403);
    expect(reasonOf(error)).toBe(
      'Forbidden: pods "conformance-privileged" is forbidden: violates PodSecurity "restricted:v1.36": privileged (container "root" must not set securityContext.privileged=true)',
    );
  });

  it('keeps a plain-text answer (server-side apply of an unknown field) whole, with its status', () => {
    expect(reasonOf(errorFromResponse(500, SSA_UNKNOWN_FIELD))).toBe(`HTTP 500: ${SSA_UNKNOWN_FIELD}`);
  });

  it('says when the server could not be reached at all', () => {
    expect(
      reasonOf(
        new ApiError(0, undefined, 'cannot reach the API server at https://127.0.0.1:1: ECONNREFUSED'),
      ),
    ).toBe('cannot reach the API server at https://127.0.0.1:1: ECONNREFUSED');
  });

  it("reads the server's warnings from Warning headers", () => {
    expect(
      warningsOf({
        warning:
          '299 - "would violate PodSecurity \\"restricted:latest\\": runAsNonRoot", 299 - "v1 Endpoints is deprecated"',
      }),
    ).toEqual(['would violate PodSecurity "restricted:latest": runAsNonRoot', 'v1 Endpoints is deprecated']);
    expect(warningsOf({})).toEqual([]);
  });

  it('names every failed object with its reason, after the counts of what was applied', () => {
    const result: DeployResult = {
      system: 'shop',
      environment: 'dev',
      applied: [
        { group: 'apps', kind: 'Deployment', name: 'a', namespace: 'shop' },
        { group: '', kind: 'Service', name: 'a', namespace: 'shop' },
        { group: '', kind: 'Service', name: 'b', namespace: 'shop' },
      ],
      failures: [
        {
          ref: { group: '', kind: 'Pod', name: 'p', namespace: 'shop' },
          reason: reasonOf(errorFromResponse(403, PSA_STATUS)),
        },
        {
          ref: { group: 'apps', kind: 'Deployment', name: 'x', namespace: 'shop' },
          reason: reasonOf(errorFromResponse(500, SSA_UNKNOWN_FIELD)),
        },
      ],
      skipped: [],
      pruneCandidates: [],
      pruned: [],
      warnings: [],
    };
    expect(summary(result, false)).toEqual([
      'applied 3 objects of shop/dev: 2 Service, 1 Deployment',
      'deploy failed: 2 object(s):',
      expect.stringMatching(
        /^ {2}Pod shop\/p: Forbidden: pods "conformance-privileged" is forbidden: violates PodSecurity/,
      ),
      expect.stringMatching(
        /^ {2}Deployment shop\/x: HTTP 500: .*imagePullPolicyy: field not declared in schema$/,
      ),
    ]);
    expect(countByKind([])).toBe('');
  });
});
