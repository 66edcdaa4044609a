import type { KubeObject } from '../src/objects.js';
import { crdReadiness, isWaitedFor, rolloutReadiness } from '../src/readiness.js';

function deployment(
  spec: { replicas?: number },
  status: Record<string, unknown>,
  generation = 2,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'orders', namespace: 'shop', generation },
    spec,
    status,
  };
}

describe('readiness', () => {
  it('waits for the controller to observe the new spec before reading replicas', () => {
    expect(
      rolloutReadiness(
        deployment({ replicas: 2 }, { observedGeneration: 1, availableReplicas: 2, updatedReplicas: 2 }),
      ),
    ).toEqual({
      state: 'waiting',
      message: 'waiting for the controller to see the new spec',
    });
  });

  it('counts updated, then old, then available replicas, as kubectl rollout status does', () => {
    const at = (status: Record<string, unknown>) =>
      rolloutReadiness(deployment({ replicas: 2 }, { observedGeneration: 2, ...status }));
    expect(at({ updatedReplicas: 1, replicas: 2 }).message).toBe('1/2 replicas updated');
    expect(at({ updatedReplicas: 2, replicas: 3 }).message).toBe('1 old replica(s) terminating');
    expect(at({ updatedReplicas: 2, replicas: 2, availableReplicas: 1 })).toEqual({
      state: 'waiting',
      message: '1/2 replicas available',
    });
    expect(at({ updatedReplicas: 2, replicas: 2, availableReplicas: 2 })).toEqual({
      state: 'ready',
      message: '2/2 replicas available',
    });
  });

  it('fails a rollout past its progress deadline instead of waiting for the timeout', () => {
    const stuck = rolloutReadiness(
      deployment(
        { replicas: 1 },
        {
          observedGeneration: 2,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "orders-1" has timed out progressing.',
            },
          ],
        },
      ),
    );
    expect(stuck).toEqual({
      state: 'failed',
      message: 'rollout exceeded its progress deadline: ReplicaSet "orders-1" has timed out progressing.',
    });
  });

  it('reads a StatefulSet by its ready replicas', () => {
    const sts: KubeObject = {
      ...deployment(
        { replicas: 1 },
        { observedGeneration: 2, updatedReplicas: 1, replicas: 1, readyReplicas: 1 },
      ),
      kind: 'StatefulSet',
    };
    expect(rolloutReadiness(sts)).toEqual({ state: 'ready', message: '1/1 replicas ready' });
    expect(isWaitedFor(sts)).toBe(true);
    expect(isWaitedFor({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } })).toBe(false);
  });

  it('holds custom resources until their CRD is Established, and fails one whose names clash', () => {
    const crd = (conditions: unknown[]): KubeObject => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'queues.sqs.services.k8s.aws' },
      status: { conditions },
    });
    expect(crdReadiness(crd([])).state).toBe('waiting');
    expect(crdReadiness(crd([{ type: 'Established', status: 'True' }])).state).toBe('ready');
    expect(
      crdReadiness(crd([{ type: 'NamesAccepted', status: 'False', message: '"queues" is already in use' }])),
    ).toEqual({
      state: 'failed',
      message: 'names not accepted: "queues" is already in use',
    });
  });
});
