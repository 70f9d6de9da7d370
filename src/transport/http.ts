import { request as httpRequest, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { trace } from '../model/trace.js';

export interface HttpResponse {
  status: number;
  /** Parsed JSON, or the text when the body is not JSON, or null when empty. */
  body: unknown;
  /** A busy answer (429, 503) asked again until the retries ran out: how often, over how long. */
  gaveUp?: { tries: number; seconds: number };
  /** The Retry-After header, in seconds, when the server sent one. */
  retryAfter?: number;
}

/** Nothing answered at the address (connection refused, no route): a service that is down. */
export class ServiceUnreachable extends Error {
  override name = 'ServiceUnreachable';
}

/** An HTTP call from the host's point of view: over SSH it is tunnelled, so nothing is needed on the host. */
export type HttpCall = (method: string, url: string, body?: unknown, timeoutMs?: number) => Promise<HttpResponse>;

/** -v: an HTTP call, its answer and how long it took. */
export async function traced(host: string, method: string, url: string, call: () => Promise<HttpResponse>): Promise<HttpResponse> {
  const started = performance.now();
  try {
    const response = await call();
    trace(1, host, `${method} ${url}: HTTP ${response.status} in ${Math.round(performance.now() - started)} ms`);
    return response;
  } catch (error) {
    trace(1, host, `${method} ${url}: ${(error as Error).message}`);
    throw error;
  }
}

/** An answer the caller did not expect, as an error that says what was asked and what came back. */
export function unexpectedAnswer(method: string, url: string, response: HttpResponse): Error {
  const busy = response.gaveUp
    ? ` (the server was busy: asked ${response.gaveUp.tries} times over ${response.gaveUp.seconds.toFixed(1)} s, as Prefect's own client does, then gave up)`
    : '';
  return new Error(`${method} ${url}: HTTP ${response.status} ${JSON.stringify(response.body)}${busy}`);
}

/** What Prefect's client retries (client/base.py): too many requests, and a busy server (SQLite's "database is locked"). */
const BUSY = new Set([429, 503]);

/**
 * One JSON request over a given connection. A busy answer (503: the Prefect server's SQLite is locked;
 * 429) is retried with backoff or after the Retry-After it asks for, at most `retries` times, as
 * Prefect's own client does; an answer still busy then says so.
 */
export async function jsonRequest(
  method: string,
  url: string,
  body: unknown,
  connect: (host: string, port: number) => Promise<Duplex | undefined>,
  timeoutMs = 15_000,
  retries = 5,
): Promise<HttpResponse> {
  const target = new URL(url);
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  if (target.protocol !== 'http:') throw new Error(`${url}: only http:// is supported`);
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    const socket = await connect(target.hostname, port).catch((error: unknown) => {
      throw new ServiceUnreachable(`${target.host}: ${(error as Error).message.replace(/^\(SSH\) Channel open failure: /, '')}`);
    });
    const response = await send(method, target, port, body, socket, timeoutMs);
    if (!BUSY.has(response.status)) return response;
    if (attempt >= retries) return { ...response, gaveUp: { tries: attempt + 1, seconds: (performance.now() - started) / 1000 } };
    const backoff = Math.min(200 * 2 ** attempt, 3000);
    await new Promise((r) => setTimeout(r, response.retryAfter !== undefined ? Math.min(response.retryAfter * 1000, 10_000) : backoff));
  }
}

function send(
  method: string,
  target: URL,
  port: number,
  body: unknown,
  socket: Duplex | undefined,
  timeoutMs: number,
): Promise<HttpResponse> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const options: ClientRequestArgs = {
    method,
    host: target.hostname,
    port,
    path: `${target.pathname}${target.search}`,
    headers: { 'content-type': 'application/json', connection: 'close', ...(payload ? { 'content-length': payload.length } : {}) },
    ...(socket ? { createConnection: () => socket } : {}),
  };
  return new Promise((resolve, reject) => {
    // Our own timer: a tunnelled SSH channel has no socket timeout, and a hung service must not hang us.
    const timer = setTimeout(() => req.destroy(new ServiceUnreachable(`${target.host}: no answer within ${timeoutMs / 1000}s`)), timeoutMs);
    const req = httpRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text === '' ? null : text;
        try {
          parsed = text === '' ? null : JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        const retryAfter = Number(res.headers['retry-after']);
        resolve({ status: res.statusCode ?? 0, body: parsed, ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfter } : {}) });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'].includes(error.code ?? '')
          ? new ServiceUnreachable(`${target.host}: ${error.message}`)
          : error,
      );
    });
    req.end(payload);
  });
}
