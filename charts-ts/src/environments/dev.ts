/** `dev`: the shared development cluster on EKS. Account ids and ARNs are placeholders to replace. */
import { otlpEndpoint } from './names.js';
import { eksEnvironment } from './define.js';
import type { EksEnvironment } from './types.js';

const namespace = 'shop';
const region = 'eu-west-1';
const accountId = '123456789012';
const tag = '0.1.0';

export const dev: EksEnvironment = eksEnvironment(
  {
    name: 'dev',
    namespace,
    accountId,
    region,
    clusterName: 'flotilla-dev',
    vpcId: 'vpc-0a1b2c3d4e5f60001',
    vpcCidr: '10.10.0.0/16',
    domain: 'shop.dev.example.com',
    image: { registry: `${accountId}.dkr.ecr.${region}.amazonaws.com/shop`, tag },
    replicas: { min: 1, max: 3 },
    identity: 'pod-identity',
    alb: {
      // The public subnets of two zones the ALB lives in (ids and CIDRs from the VPC).
      subnets: [
        { id: 'subnet-0a1b2c3d4e5f61001', cidr: '10.10.0.0/24' },
        { id: 'subnet-0a1b2c3d4e5f61002', cidr: '10.10.1.0/24' },
      ],
      certificateArns: [
        `arn:aws:acm:${region}:${accountId}:certificate/00000000-0000-4000-8000-000000000001`,
      ],
    },
  },
  {
    discovery: { method: 'dns' },
    telemetry: { otlpEndpoint: otlpEndpoint(namespace), samplingRatio: 1 },
    database: { kind: 'secret' },
    logLevel: 'debug',
  },
);
