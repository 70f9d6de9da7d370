import { ServiceUnreachable, unexpectedAnswer, type HttpCall } from '../transport/http.js';

/** One object read from a server's API: what was found (nothing on a 404), or that the server did not answer. */
export type ServerRead<T> = { unreachable: string } | { found?: T };

/**
 * GET of one object by its URL, for kinds kept through an API (a work pool, a variable). A server
 * that does not answer yet (a fresh host) is a fact to plan with, not an error; any other answer
 * than 200 or 404 is.
 */
export async function readServerObject<T>(http: HttpCall, url: string): Promise<ServerRead<T>> {
  let response;
  try {
    response = await http('GET', url);
  } catch (error) {
    if (error instanceof ServiceUnreachable) return { unreachable: error.message };
    throw error;
  }
  if (response.status === 404) return {};
  if (response.status !== 200) throw unexpectedAnswer('GET', url, response);
  return { found: response.body as T };
}
