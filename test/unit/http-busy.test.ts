import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonRequest, unexpectedAnswer } from '../../src/transport/http.js';

/** A server that answers each path's scripted statuses in turn, then 200; it counts what it was asked. */
describe("a busy Prefect server is asked again, as Prefect's client does, and says so when it stays busy", () => {
  const script: Record<string, { status: number; headers?: Record<string, string> }[]> = {
    '/locked-twice': [{ status: 503 }, { status: 503 }],
    '/too-many': [{ status: 429, headers: { 'retry-after': '0' } }],
    '/always-locked': Array.from({ length: 10 }, () => ({ status: 503 })),
    '/not-found': [{ status: 404 }],
  };
  const asked = new Map<string, number>();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '';
      const n = asked.get(path) ?? 0;
      asked.set(path, n + 1);
      const answer = script[path]?.[n] ?? { status: 200 };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.status === 503 ? { detail: 'database is locked' } : { n }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = (path: string, retries = 5) =>
    jsonRequest('GET', `${base}${path}`, undefined, () => Promise.resolve(undefined), 5000, retries);

  it('retries 503 and 429 until the server answers', async () => {
    expect(await call('/locked-twice')).toMatchObject({ status: 200, body: { n: 2 } });
    expect(asked.get('/locked-twice')).toBe(3);
    expect(await call('/too-many')).toMatchObject({ status: 200 });
    expect(asked.get('/too-many')).toBe(2);
  });

  it('does not retry an answer that is not busy', async () => {
    expect((await call('/not-found')).status).toBe(404);
    expect(asked.get('/not-found')).toBe(1);
  });

  it('gives up after the retries and says how often it asked', async () => {
    const response = await call('/always-locked', 2);
    expect(asked.get('/always-locked')).toBe(3);
    expect(response.gaveUp?.tries).toBe(3);
    expect(unexpectedAnswer('GET', `${base}/always-locked`, response).message).toMatch(
      /HTTP 503 \{"detail":"database is locked"\} \(the server was busy: asked 3 times over \d+\.\d s, as Prefect's own client does, then gave up\)/,
    );
  });
});
