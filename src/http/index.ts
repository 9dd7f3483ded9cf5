/** The daemon's HTTP listener: routes, access rules, event streams. Imports nothing else in src. */
export type { HttpRoute } from './route.js'
export { HttpListener, type HttpListenerOptions, type HttpLogger } from './listener.js'
export { EventStreams } from './event-stream.js'
export { BodyError, readJsonBody } from './body.js'
export { TOKEN_COOKIE, type AccessRules } from './access.js'
