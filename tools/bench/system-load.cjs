// What the end-to-end benchmarks share: a process's CPU time and RSS from /proc, the fixtures a
// Baton system is seeded with, and the routes they load.
const { readFileSync } = require('node:fs');
const { HttpClient } = require('@baton/testing');

const rssOf = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};

/** CPU time (user + system) a process has used, in microseconds. */
const cpuOf = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1e6 / CLOCK_TICKS);
  } catch {
    return 0;
  }
};
const CLOCK_TICKS = 100;

async function seed(baseUrl) {
  const http = new HttpClient(baseUrl);
  const user = { email: 'bench@example.test', password: 'bench-password-1' };
  await http.post('/auth/register', user);
  const { accessToken } = (await http.post('/auth/login', user)).body;
  await http.patch('/profile/me', { shippingAddress: '1 Bench Road' }, accessToken);
  const order = await http.post(
    '/orders',
    { items: [{ sku: 'B-1', quantity: 1, unitPrice: 1 }] },
    accessToken,
  );
  return { token: accessToken, orderId: order.body.id };
}

function routesFor({ token, orderId }) {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ items: [{ sku: 'B-1', quantity: 2, unitPrice: 3.5 }] });
  return [
    { name: 'GET /health', request: (u) => ({ url: `${u}/health` }) },
    { name: 'GET /auth/me', request: (u) => ({ url: `${u}/auth/me`, headers: auth }) },
    { name: 'GET /orders/:id', request: (u) => ({ url: `${u}/orders/${orderId}`, headers: auth }) },
    { name: 'GET /orders', request: (u) => ({ url: `${u}/orders?limit=20`, headers: auth }) },
    {
      name: 'POST /orders',
      request: (u) => ({ url: `${u}/orders`, method: 'POST', headers: auth, body }),
    },
  ];
}

module.exports = { cpuOf, routesFor, rssOf, seed };
