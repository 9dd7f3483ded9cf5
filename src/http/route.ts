import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * One thing the daemon's HTTP listener (`http: { port, host }` in the config) serves: the dashboard's page and its
 * event stream, `/metrics`, the dashboard's actions. Features hand their routes to the listener when the daemon is
 * built; the listener owns binding, the token check and the ingress rules, so a route only answers its request.
 */
export interface HttpRoute {
  readonly method: 'GET' | 'POST'
  /** Exact path below the listener's root, e.g. `/metrics` (relative links keep working under an ingress prefix). */
  readonly path: string
  /**
   * Answers the request. POST routes change state: the listener has already checked the token (when one is
   * required) and refused cross-site requests before calling them.
   */
  handle(request: IncomingMessage, response: ServerResponse, url: URL): void | Promise<void>
}
