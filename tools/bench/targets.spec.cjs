// The targets check: each target's verdict from results shaped as the suites write them.
const { checkTargets, targetsMarkdown } = require('./targets.cjs');

/** One route's result on one system: its req/s in each round. */
const rounds = (...rps) => ({ rounds: rps.map((r) => ({ rps: r })) });

function httpResults({ floorOrders = [100, 100, 100], soakSeconds = 120, growth = 0.01 } = {}) {
  const routes = (batonRps, otherRps) => ({
    'GET /health': rounds(...batonRps),
    'GET /auth/me': rounds(...batonRps),
    'GET /orders/:id': rounds(...batonRps),
    'GET /orders': rounds(...otherRps),
  });
  return {
    date: '2026-12-07T00:00:00.000Z',
    rounds: 3,
    durationSeconds: 4,
    baton: {
      results: routes([70, 65, 75], [70, 65, 75]),
      soak: { seconds: soakSeconds, processes: { gateway: { growth }, orders: { growth: 0 } } },
    },
    noAuth: { results: routes([72, 70, 74], [72, 70, 74]) },
    floor: {
      results: {
        ...routes([100, 100, 100], [100, 100, 100]),
        'GET /orders': rounds(...floorOrders),
      },
    },
    sideBySide: {
      byRoute: { 'GET /auth/me': { batonOverNoAuth: { median: 0.85, min: 0.8, max: 0.9 } } },
    },
  };
}

const verification = {
  date: '2026-12-07T00:00:00.000Z',
  rows: [
    { alg: 'RS256', verifierHitNs: 140, verifierColdOverRaw: 1.21 },
    { alg: 'ES256', verifierHitNs: 1250, verifierColdOverRaw: 1.1 },
  ],
};

const find = (rows, target, subject) =>
  rows.find((r) => r.target.startsWith(target) && r.subject === subject);

describe('checkTargets', () => {
  it('takes the floor ratio as the median of the per-round ratios', () => {
    const rows = checkTargets({ http: httpResults(), verification });
    // 70/100, 65/100, 75/100
    expect(find(rows, 'every read route', 'GET /auth/me')).toMatchObject({
      measured: '0.70 (0.65–0.75)',
      met: true,
    });
  });

  it('misses a read route whose median falls under 0.60 of its floor', () => {
    const rows = checkTargets({
      http: httpResults({ floorOrders: [120, 110, 130] }),
      verification,
    });
    // 70/120 = 0.58, 65/110 = 0.59, 75/130 = 0.58
    expect(find(rows, 'every read route', 'GET /orders')).toMatchObject({ met: false });
    expect(find(rows, 'every read route', 'GET /orders/:id')).toMatchObject({ met: true });
  });

  it('judges the cost of auth side by side where it was measured so, back to back elsewhere', () => {
    const rows = checkTargets({ http: httpResults(), verification });
    const me = find(rows, 'auth costs', 'GET /auth/me');
    expect(me).toMatchObject({ met: false });
    expect(me.measured).toContain('side by side');
    const orders = find(rows, 'auth costs', 'GET /orders');
    // 70/72, 65/70, 75/74: median 0.97
    expect(orders).toMatchObject({ measured: '0.97 (0.93–1.01), back to back', met: true });
    expect(find(rows, 'auth costs', 'GET /health')).toBeUndefined();
  });

  it('checks the cached rate per algorithm and the cold RS256 ratio', () => {
    const rows = checkTargets({ http: httpResults(), verification });
    expect(find(rows, 'cached verification', 'RS256')).toMatchObject({ met: true });
    // 1250 ns a hit is 800,000 a second
    expect(find(rows, 'cached verification', 'ES256')).toMatchObject({
      measured: '800,000/s',
      met: false,
    });
    expect(find(rows, 'cold RS256', 'RS256 verifier cold ÷ raw')).toMatchObject({
      measured: '1.21x',
      met: true,
    });
  });

  it('misses memory that grew more than 10% or a soak under 2 minutes; cannot judge an unrecorded one', () => {
    const grew = checkTargets({ http: httpResults({ growth: 0.12 }), verification });
    expect(find(grew, 'RSS flat', 'gateway')).toMatchObject({ met: false });
    expect(find(grew, 'RSS flat', 'orders')).toMatchObject({ met: true });
    const short = checkTargets({ http: httpResults({ soakSeconds: 30 }), verification });
    expect(find(short, 'RSS flat', 'orders')).toMatchObject({
      measured: '0.0 % over 30 s',
      met: false,
    });
    const http = httpResults();
    delete http.baton.soak.seconds;
    const unrecorded = checkTargets({ http, verification });
    expect(find(unrecorded, 'RSS flat', 'orders')).toMatchObject({ met: null });
  });

  it('says what a run did not measure instead of calling it met', () => {
    const rows = checkTargets({ http: undefined, verification: undefined });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.met === null)).toBe(true);
    const md = targetsMarkdown(rows, {});
    expect(md).toContain('not measured');
    expect(md).toContain('0 of 7 met, 0 missed, 7 not measured');
  });
});
