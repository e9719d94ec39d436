import { request } from 'undici';

/**
 * The bench's HTTP client where it sends many small requests (the gateway stages' POSTs, the
 * e2e probe's timeline reads): undici's `request` over its keep-alive connections. With the
 * global `fetch` (undici's too, behind WHATWG streams and Response objects) the bench process
 * took 3.9–5.0 ms of CPU an e2e probe event, against 2.6–2.9 with this, on the same two cores
 * as the apps it measures (bench README, "The bench's own load").
 */
export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

export async function httpRequest(
  url: string,
  options: {
    readonly method?: 'GET' | 'POST';
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string;
  } = {},
): Promise<HttpAnswer> {
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
  });
  return { status: response.statusCode, text: await response.body.text() };
}
