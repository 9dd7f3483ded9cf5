import type { ServerResponse } from 'node:http'
import type { HttpRoute } from '../../../http/index.js'
import { PAGE_HTML } from './assets/page.js'
import { SCRIPT_JS } from './assets/script.js'
import { STYLE_CSS } from './assets/style.js'

/**
 * The page may load its own script, style and event stream and nothing else; no inline script runs, and only a
 * page of the same origin (Home Assistant's own, under ingress) may frame it.
 */
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

/** The page, its script and its style sheet: static text compiled into the package (no files to find at run time). */
export function pageRoutes(): HttpRoute[] {
  return [
    staticRoute('/', 'text/html; charset=utf-8', PAGE_HTML, { 'Content-Security-Policy': PAGE_POLICY }),
    staticRoute('/app.js', 'text/javascript; charset=utf-8', SCRIPT_JS),
    staticRoute('/app.css', 'text/css; charset=utf-8', STYLE_CSS),
  ]
}

function staticRoute(path: string, type: string, text: string, headers: Record<string, string> = {}): HttpRoute {
  const body = Buffer.from(text)
  return {
    method: 'GET',
    path,
    handle: (_request, response: ServerResponse) => {
      response.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, ...headers })
      response.end(body)
    },
  }
}
