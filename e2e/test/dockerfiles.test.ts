/**
 * The service images cannot be built on machines without Docker, so their Dockerfiles are checked as data:
 * the UID/GID the image runs as must equal the one the charts put in every pod's securityContext
 * (SERVICE_UID/SERVICE_GID in the model), and the four Dockerfiles must stay one template.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVICE_GID, SERVICE_UID } from '@flotilla/model';
import { shop } from '../../services/system.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const NODE_LINE = readFileSync(`${repo}.nvmrc`, 'utf8').trim();
const dockerfileOf = (service: string) => readFileSync(`${repo}services/${service}/Dockerfile`, 'utf8');

describe.each(shop.services.map((s) => s.name))('services/%s/Dockerfile', (service) => {
  const text = dockerfileOf(service);

  it('runs as the numeric non-root user and group the charts use', () => {
    expect(text).toMatch(new RegExp(`useradd --uid ${SERVICE_UID} --gid ${SERVICE_GID} `));
    expect(text).toMatch(new RegExp(`groupadd --gid ${SERVICE_GID} `));
    const users = [...text.matchAll(/^USER (.+)$/gm)].map((m) => m[1]);
    expect(users).toEqual([`${SERVICE_UID}:${SERVICE_GID}`]);
  });

  it('is multi-stage, installs production dependencies only, and runs node under an init', () => {
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/npm ci --omit=dev .*--workspace=@shop\/\$\{SERVICE\}/);
    expect(text).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(text).toMatch(
      /^CMD \["node", "--import", "@flotilla\/runtime\/telemetry", "dist\/src\/main\.js"\]$/m,
    );
  });

  it("builds and runs on the project's Node line, the exact version of .nvmrc", () => {
    expect(text).toMatch(
      new RegExp(`^ARG NODE_IMAGE=node:${NODE_LINE.replaceAll('.', '\\.')}-bookworm-slim$`, 'm'),
    );
  });

  it('is the shared template with only the service name changed', () => {
    const template = dockerfileOf('orders').replaceAll('orders', '<service>');
    expect(text.replaceAll(service, '<service>')).toBe(template);
  });
});
