/**
 * `make collector-check`'s first step: builds the collector (or reuses the cached build) and says what
 * it holds. Usage: `node --import tsx e2e/src/collector/cli.ts build`.
 */
import { COLLECTOR_COMPONENTS, COLLECTOR_RELEASE } from '@flotilla/charts';
import { buildCollector, componentId } from './build.js';

const [command] = process.argv.slice(2);
if (command !== 'build') {
  process.stderr.write('usage: cli.ts build   (builds the collector into the cache, or reuses it)\n');
  process.exit(2);
}
const build = await buildCollector();
const { builder, resolve, compile } = build.seconds;
process.stdout.write(
  [
    `collector ${build.binary}`,
    `  release ${COLLECTOR_RELEASE.version} (core ${COLLECTOR_RELEASE.core.beta} / ${COLLECTOR_RELEASE.core.stable}, contrib ${COLLECTOR_RELEASE.contrib.beta} / ${COLLECTOR_RELEASE.contrib.stable})`,
    `  ${build.reused ? 'reused' : `built in ${builder + resolve + compile} s (builder ${builder} s, resolve ${resolve} s, compile ${compile} s)`}`,
    `  components: ${build.components.join(', ')}`,
    ...(build.replaced.length > 0
      ? [
          `  modules built at another version than the release requires (the proxy refuses it; COLLECTOR_REPLACES):`,
          ...build.replaced.map((r) => `    ${r}`),
        ]
      : []),
    ...(build.unavailable.length > 0
      ? [
          `  NOT BUILT HERE (${build.unavailable.length} of ${COLLECTOR_COMPONENTS.length}): ${build.unavailable.map(componentId).join(', ')}`,
          '    the Go module proxy refuses modules they compile in:',
          ...build.unavailable.flatMap((u) =>
            u.missing.map((m) => `      ${componentId(u)}: ${m.module} (${m.reason})`),
          ),
        ]
      : []),
    '',
  ].join('\n'),
);
