import {
  APPLYSET,
  ApplySetError,
  applySetFor,
  applySetId,
  asMember,
  inventoryFromParent,
  inventoryOf,
  parentObject,
  pruneCandidates,
  unionOf,
} from '../src/applyset.js';
import { describe as describeRef, type KubeObject, type ObjectRef } from '../src/objects.js';

const set = applySetFor('shop', 'dev', 'shop');
const deployment = (name: string, id = set.id): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', labels: { [APPLYSET.partOf]: id } },
});
const ref = (kind: string, name: string, group = '', namespace: string | undefined = 'shop'): ObjectRef => ({
  group,
  kind,
  name,
  ...(namespace ? { namespace } : {}),
});

describe('ApplySet', () => {
  it("computes kubectl's id for a parent (the value in kubectl's own apply tests for Secret test/my-set)", () => {
    expect(applySetId({ group: '', kind: 'Secret', name: 'my-set', namespace: 'test' })).toBe(
      'applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1',
    );
  });

  it('gives each system and environment its own set', () => {
    expect(set.parent).toEqual({ group: '', kind: 'Secret', name: 'flotilla-shop-dev', namespace: 'shop' });
    expect(applySetFor('shop', 'prod', 'shop').id).not.toBe(set.id);
  });

  it('labels members without changing the manifest', () => {
    const object = deployment('orders', 'x');
    const member = asMember(object, set);
    expect(member.metadata.labels?.[APPLYSET.partOf]).toBe(set.id);
    expect(object.metadata.labels?.[APPLYSET.partOf]).toBe('x');
  });

  it('records the sorted group-kinds and the namespaces other than its own on the parent, as kubectl does', () => {
    const inventory = inventoryOf([
      ref('Service', 'a'),
      ref('Deployment', 'a', 'apps'),
      ref('ClusterRole', 'r', 'rbac.authorization.k8s.io', undefined),
      ref('Role', 'r', 'rbac.authorization.k8s.io', 'keda'),
    ]);
    const parent = parentObject(set, inventory);
    expect(parent.metadata.labels?.[APPLYSET.id]).toBe(set.id);
    expect(parent.metadata.annotations).toEqual({
      [APPLYSET.tooling]: 'flotilla/v1',
      [APPLYSET.groupKinds]:
        'ClusterRole.rbac.authorization.k8s.io,Deployment.apps,Role.rbac.authorization.k8s.io,Service',
      [APPLYSET.namespaces]: 'keda',
    });
    expect(inventoryFromParent(set, parent)).toEqual(inventory);
  });

  it('keeps looking where an earlier deploy put members until they are pruned (the union of both inventories)', () => {
    const before = inventoryOf([
      ref('Deployment', 'old', 'apps'),
      ref('Queue', 'q', 'sqs.services.k8s.aws', 'other'),
    ]);
    const now = inventoryOf([ref('Service', 'a')]);
    expect(unionOf(before, now)).toEqual({
      groupKinds: [
        { group: 'apps', kind: 'Deployment' },
        { group: 'sqs.services.k8s.aws', kind: 'Queue' },
        { group: '', kind: 'Service' },
      ],
      namespaces: ['other', 'shop'],
    });
  });

  it('refuses a parent that another tool manages or that carries another id', () => {
    const parent = parentObject(set, inventoryOf([]));
    const byKubectl = {
      ...parent,
      metadata: { ...parent.metadata, annotations: { [APPLYSET.tooling]: 'kubectl/v1.36' } },
    };
    expect(() => inventoryFromParent(set, byKubectl)).toThrow(ApplySetError);
    expect(() => inventoryFromParent(set, byKubectl)).toThrow(
      /not an ApplySet parent managed by flotilla.*kubectl\/v1\.36/,
    );
    const otherId = {
      ...parent,
      metadata: { ...parent.metadata, labels: { [APPLYSET.id]: 'applyset-x-v1' } },
    };
    expect(() => inventoryFromParent(set, otherId)).toThrow(/another ApplySet id/);
    expect(inventoryFromParent(set, undefined)).toEqual({ groupKinds: [], namespaces: [] });
  });

  it('prunes exactly the members no longer applied: never the parent, never objects of other sets', () => {
    const found: KubeObject[] = [
      deployment('orders'),
      deployment('legacy'),
      deployment('someone-elses', applySetFor('shop', 'prod', 'shop').id),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unlabelled', namespace: 'shop' } },
      {
        ...parentObject(set, inventoryOf([])),
        metadata: { ...parentObject(set, inventoryOf([])).metadata, labels: { [APPLYSET.partOf]: set.id } },
      },
    ];
    const candidates = pruneCandidates(set, found, [ref('Deployment', 'orders', 'apps')]);
    expect(candidates.map(describeRef)).toEqual(['Deployment shop/legacy']);
  });
});
