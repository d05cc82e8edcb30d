// The benchmarks' own arithmetic: what decides when the memory soak starts, and how busy a load
// kept the cores.
const { busyCores, rssSettled } = require('./bench-utils.cjs');

const MB = 2 ** 20;
const stretches = (...rows) =>
  rows.map(([gateway, profile]) => ({ gateway: gateway * MB, profile: profile * MB }));

describe('rssSettled', () => {
  it('is true when every process held within the tolerance over the last three stretches', () => {
    expect(rssSettled(stretches([120, 100], [130, 127], [132, 128], [131, 129]))).toBe(true);
  });

  it('is false while any one process still grows, even by steps', () => {
    // profile: flat between two steps of its heap, then up again
    expect(rssSettled(stretches([130, 110], [131, 118], [130, 118], [131, 125]))).toBe(false);
    expect(rssSettled(stretches([130, 110], [131, 118], [130, 118]))).toBe(false);
  });

  it('is false while any one process shrinks', () => {
    expect(rssSettled(stretches([140, 120], [133, 120], [130, 120]))).toBe(false);
  });

  it('takes the number of stretches and the tolerance it is given', () => {
    const history = stretches([100, 100], [104, 100]);
    expect(rssSettled(history, { stretches: 2, tolerance: 0.05 })).toBe(true);
    expect(rssSettled(history, { stretches: 2, tolerance: 0.03 })).toBe(false);
    expect(rssSettled(history, { stretches: 3, tolerance: 0.05 })).toBe(false);
  });

  it('is false before there are enough stretches, or with a process not measured', () => {
    expect(rssSettled([])).toBe(false);
    expect(rssSettled(stretches([130, 120], [130, 120]))).toBe(false);
    expect(rssSettled([{ auth: 190 * MB }, { auth: 0 }, { auth: 190 * MB }])).toBe(false);
  });
});

describe('busyCores', () => {
  it('is the CPU time per request times the requests per second, in cores', () => {
    expect(busyCores({ total: 170, rps: 8000 })).toBeCloseTo(1.36, 10);
    expect(busyCores({ total: 250, rps: 8000 })).toBe(2);
    expect(busyCores({ total: 170, rps: 0 })).toBe(0);
  });
});
