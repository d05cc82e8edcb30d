import { join } from 'node:path';
import { serviceNodeOptions, workspaceRoot } from './system';

// tools/scripts/node-options.cjs: what `npm start` and the harness give every service.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const script = require(join(workspaceRoot(), 'tools/scripts/node-options.cjs')) as {
  serviceNodeOptions(own?: string): string;
};

describe('serviceNodeOptions', () => {
  it('should give the services a 512 MB heap limit when NODE_OPTIONS is empty', () => {
    expect(serviceNodeOptions()).toBe('--max-old-space-size=512');
    expect(script.serviceNodeOptions('')).toBe('--max-old-space-size=512');
    expect(script.serviceNodeOptions('  ')).toBe('--max-old-space-size=512');
  });

  it("should keep an operator's own options, and their own heap limit instead of ours", () => {
    expect(script.serviceNodeOptions('--enable-source-maps')).toBe(
      '--enable-source-maps --max-old-space-size=512',
    );
    expect(script.serviceNodeOptions('--max-old-space-size=2048 --inspect')).toBe(
      '--max-old-space-size=2048 --inspect',
    );
  });

  it('should give none for a checkout without the script (an older build compared against)', () => {
    expect(serviceNodeOptions('/nonexistent')).toBeUndefined();
  });
});
