import { connect, ErrorCode, headers as natsHeaders, NatsError } from 'nats';
import type { Msg, NatsConnection } from 'nats';
import { startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { ReplyMux } from './reply-mux';

const text = (s: string) => new TextEncoder().encode(s);
const read = (m: Msg) => new TextDecoder().decode(m.data);

describe(ReplyMux.name, () => {
  let nats: NatsServerHandle;
  let server: NatsConnection;
  let nc: NatsConnection;
  const held: Msg[] = [];
  const replySubjects: string[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    server = await connect({ servers: nats.url });
    // echoes at once
    server.subscribe('echo', {
      callback: (_err, m) => {
        replySubjects.push(m.reply ?? '');
        m.respond(m.data);
      },
    });
    // answers only when the test says so
    server.subscribe('held', { callback: (_err, m) => held.push(m) });
    server.subscribe('silent', { callback: () => undefined });
    await server.flush();
    nc = await connect({ servers: nats.url, inboxPrefix: '_INBOX.orders' });
  });

  afterAll(async () => {
    await nc?.close();
    await server?.close();
    await nats?.stop();
  });

  beforeEach(() => {
    held.length = 0;
    replySubjects.length = 0;
  });

  it("should answer each request with its own reply, under one inbox of the connection's prefix", async () => {
    const sut = new ReplyMux(nc);

    const answers = await Promise.all(
      ['a', 'b', 'c'].map((s) => sut.request('echo', text(s), natsHeaders(), 2000)),
    );

    expect(answers.map(read)).toEqual(['a', 'b', 'c']);
    const inboxes = new Set(replySubjects.map((r) => r.slice(0, r.lastIndexOf('.'))));
    expect(inboxes.size).toBe(1);
    expect([...inboxes][0]).toMatch(/^_INBOX\.orders\.\w+$/);
    expect(sut.size).toBe(0);
  });

  it('should match answers that come back in another order than the requests went out', async () => {
    const sut = new ReplyMux(nc);
    const first = sut.request('held', text('first'), natsHeaders(), 2000);
    const second = sut.request('held', text('second'), natsHeaders(), 2000);
    await waitFor(() => held.length === 2);

    held[1].respond(text('to second'));
    held[0].respond(text('to first'));

    expect(read(await second)).toBe('to second');
    expect(read(await first)).toBe('to first');
  });

  it('should carry the headers it is given', async () => {
    const sut = new ReplyMux(nc);
    const h = natsHeaders();
    h.set('x-request-id', 'req-1');
    const pending = sut.request('held', text('x'), h, 2000);
    await waitFor(() => held.length === 1);

    expect(held[0].headers?.get('x-request-id')).toBe('req-1');
    held[0].respond(text('ok'));
    await pending;
  });

  it('should reject at once with NoResponders when nobody subscribes to the subject', async () => {
    const sut = new ReplyMux(nc);

    const error = await sut
      .request('nobody.home', text('x'), natsHeaders(), 60_000)
      .catch((e) => e);

    expect(error).toBeInstanceOf(NatsError);
    // only NATS's no-responders status gives this code; a timeout would give Timeout
    expect((error as NatsError).code).toBe(ErrorCode.NoResponders);
    expect(sut.size).toBe(0);
  });

  it('should reject with Timeout when no answer comes in time, and drop the late answer', async () => {
    const sut = new ReplyMux(nc);

    const error = await sut.request('held', text('x'), natsHeaders(), 100).catch((e) => e);

    expect((error as NatsError).code).toBe(ErrorCode.Timeout);
    expect(sut.size).toBe(0);
    held[0].respond(text('too late'));
    await server.flush();
    // the mux is still good for the next request
    expect(read(await sut.request('echo', text('next'), natsHeaders(), 2000))).toBe('next');
  });

  it('should reject what is pending when its connection closes, and say it is no longer usable', async () => {
    const own = await connect({ servers: nats.url });
    const sut = new ReplyMux(own);
    const pending = sut.request('silent', text('x'), natsHeaders(), 60_000).catch((e) => e);
    await own.flush();

    await own.close();

    expect(await pending).toBeInstanceOf(NatsError);
    expect(sut.usable).toBe(false);
    expect(sut.size).toBe(0);
  });

  it('should hand what it is given in one turn to the connection together, in order, after it', async () => {
    const sut = new ReplyMux(nc);
    const publish = jest.spyOn(nc, 'publish');
    try {
      const answers = [
        sut.request('echo', text('one'), natsHeaders(), 2000),
        sut.publish('held', text('event'), natsHeaders()),
        sut.request('echo', text('two'), natsHeaders(), 2000),
      ];

      // nothing yet: the batch goes when this turn is over (setImmediate, ahead of this one)
      expect(publish).not.toHaveBeenCalled();
      await new Promise((resolve) => setImmediate(resolve));
      expect(publish.mock.calls.map(([subject, data]) => [subject, read({ data } as Msg)])).toEqual(
        [
          ['echo', 'one'],
          ['held', 'event'],
          ['echo', 'two'],
        ],
      );
      const [one, event, two] = await Promise.all(answers);
      expect([read(one as Msg), event, read(two as Msg)]).toEqual(['one', undefined, 'two']);
      await waitFor(() => held.length === 1);
      expect(held[0].reply).toBeFalsy();
    } finally {
      publish.mockRestore();
    }
  });

  it('should hand the batch over at once on flush()', () => {
    const sut = new ReplyMux(nc);
    const publish = jest.spyOn(nc, 'publish');
    try {
      const answer = sut.request('echo', text('now'), natsHeaders(), 2000);
      sut.flush();

      expect(publish).toHaveBeenCalledTimes(1);
      return expect(answer.then(read)).resolves.toBe('now');
    } finally {
      publish.mockRestore();
    }
  });

  it('should reject a request and an event that the connection refuses', async () => {
    const own = await connect({ servers: nats.url });
    const sut = new ReplyMux(own);
    const request = sut.request('echo', text('x'), natsHeaders(), 60_000).catch((e) => e);
    const event = sut.publish('held', text('x'), natsHeaders()).catch((e) => e);
    // closed before the batch goes: publishing on a closed connection throws
    await own.close();

    expect(((await request) as NatsError).code).toBe(ErrorCode.ConnectionClosed);
    expect(((await event) as NatsError).code).toBe(ErrorCode.ConnectionClosed);
    expect(sut.size).toBe(0);
    expect(held).toEqual([]);
  });
});
