/** `prod`: production on EKS. Account ids and ARNs are placeholders to replace. */
import { otlpEndpoint } from './names.js';
import { eksEnvironment } from './define.js';
import type { EksEnvironment } from './types.js';

const namespace = 'shop';
const region = 'eu-west-1';
const accountId = '210987654321';
const tag = '0.1.0';

export const prod: EksEnvironment = eksEnvironment(
  {
    name: 'prod',
    namespace,
    accountId,
    region,
    clusterName: 'flotilla-prod',
    vpcId: 'vpc-0a1b2c3d4e5f60002',
    vpcCidr: '10.20.0.0/16',
    domain: 'shop.example.com',
    image: { registry: `${accountId}.dkr.ecr.${region}.amazonaws.com/shop`, tag },
    // Replica bounds: each service's own, from the model.
    identity: 'pod-identity',
    alb: {
      // The public subnets of two zones the ALB lives in (ids and CIDRs from the VPC).
      subnets: [
        { id: 'subnet-0a1b2c3d4e5f62001', cidr: '10.20.0.0/24' },
        { id: 'subnet-0a1b2c3d4e5f62002', cidr: '10.20.1.0/24' },
      ],
      certificateArns: [
        `arn:aws:acm:${region}:${accountId}:certificate/00000000-0000-4000-8000-000000000002`,
      ],
      sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      wafv2AclArn: `arn:aws:wafv2:${region}:${accountId}:regional/webacl/shop-prod/00000000-0000-4000-8000-000000000003`,
    },
  },
  {
    discovery: { method: 'cloudmap', namespace: 'shop.internal' },
    telemetry: { otlpEndpoint: otlpEndpoint(namespace), samplingRatio: 0.1 },
    database: { kind: 'secret' },
    logLevel: 'info',
  },
);
