import { join } from 'node:path';
import { serviceNodeOptions, workspaceRoot } from './system';

// tools/scripts/node-options.cjs: what `npm start` and the harness give every service.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const script = require(join(workspaceRoot(), 'tools/scripts/node-options.cjs')) as {
  serviceNodeOptions(own?: string): string;
};

describe('serviceNodeOptions', () => {
  const ours = '--max-old-space-size=512 --max-semi-space-size=16';

  it('should give the services a 512 MB heap limit and 16 MB semi-spaces when NODE_OPTIONS is empty', () => {
    expect(serviceNodeOptions()).toBe(ours);
    expect(script.serviceNodeOptions('')).toBe(ours);
    expect(script.serviceNodeOptions('  ')).toBe(ours);
  });

  it("should keep an operator's own options, and each limit of their own instead of ours", () => {
    expect(script.serviceNodeOptions('--enable-source-maps')).toBe(`--enable-source-maps ${ours}`);
    expect(script.serviceNodeOptions('--max-old-space-size=2048 --inspect')).toBe(
      '--max-old-space-size=2048 --inspect --max-semi-space-size=16',
    );
    expect(script.serviceNodeOptions('--max-semi-space-size=64')).toBe(
      '--max-semi-space-size=64 --max-old-space-size=512',
    );
  });

  it('should give none for a checkout without the script (an older build compared against)', () => {
    expect(serviceNodeOptions('/nonexistent')).toBeUndefined();
  });
});
