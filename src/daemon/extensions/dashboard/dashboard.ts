import type { AutomationStatus } from '../../../automation/index.js'
import { EventStreams, HttpListener, type HttpRoute } from '../../../http/index.js'
import type { DaemonContext, Extension } from '../../extension.js'
import type { ReloadOutcome } from '../../reload.js'
import { automationCommandRoute, releaseRoute } from './actions.js'
import { LockBoard } from './lock-board.js'
import { pageRoutes } from './page-routes.js'
import { snapshot, type DashboardSnapshot } from './snapshot.js'
import { Timeline } from './timeline.js'

export interface DashboardOptions {
  /** More routes on the same listener (`/metrics`). */
  readonly routes?: readonly HttpRoute[] | undefined
  /** What the daemon's first load found (the problems it shows until the next reload). */
  readonly outcome?: ReloadOutcome | undefined
}

/**
 * A party changes colour every second and a run is a handful of events: the page gets the state at most this
 * often, however many events changed it meanwhile.
 */
const STATE_EVERY_MS = 100

/**
 * The `http:` listener and the dashboard on it: one page (`/`, `app.js`, `app.css`) kept live over server-sent
 * events (`events`), the JSON state (`state`), and two actions (`POST automation`, `POST release`), plus the
 * routes given in the options. Started only when config.yaml has an `http` section.
 */
export class Dashboard implements Extension {
  readonly name = 'dashboard'
  private listener: HttpListener | undefined
  private readonly streams = new EventStreams()
  private readonly board = new LockBoard()
  private readonly statuses = new Map<string, AutomationStatus>()
  private readonly timeline = new Timeline((run) => this.streams.send('run', run))
  private outcome: ReloadOutcome | undefined
  private online = false
  private readonly since = Date.now()
  private stateDue: NodeJS.Timeout | undefined

  constructor(private readonly options: DashboardOptions = {}) {
    this.outcome = options.outcome
  }

  async start(context: DaemonContext): Promise<void> {
    const settings = context.config.http
    if (!settings) return
    const { events } = context
    for (const status of context.engine.status()) this.statuses.set(status.name, status)
    const changed = () => this.stateChanged(context)
    events.on(this, 'automationStatus', (status) => {
      this.statuses.set(status.name, status)
      changed()
    })
    events.on(this, 'deviceEvent', changed)
    events.on(this, 'devicesChanged', changed)
    events.on(this, 'lock', (event) => {
      this.board.apply(event)
      this.timeline.lock(event, Date.now())
      changed()
    })
    events.on(this, 'run', (event) => this.timeline.run(event))
    events.on(this, 'reloaded', (outcome) => {
      this.outcome = outcome
      changed()
    })
    events.on(this, 'connection', ({ online }) => {
      this.online = online
      changed()
    })

    const state = () => this.state(context)
    const routes: HttpRoute[] = [
      ...pageRoutes(),
      {
        method: 'GET',
        path: '/events',
        handle: (_request, response) =>
          this.streams.open(response, [
            ['state', state()],
            ['timeline', { now: Date.now(), runs: this.timeline.runs }],
          ]),
      },
      {
        method: 'GET',
        path: '/state',
        handle: (_request, response) => {
          response.writeHead(200, { 'Content-Type': 'application/json' })
          response.end(JSON.stringify(state()))
        },
      },
      automationCommandRoute(context),
      releaseRoute(context),
      ...(this.options.routes ?? []),
    ]
    this.listener = new HttpListener(
      {
        host: settings.host,
        port: settings.port,
        token: settings.token,
        ingressProxy: settings.ingressProxy,
        logger: context.logger.child({ component: 'http' }),
      },
      routes,
    )
    try {
      await this.listener.start()
    } catch (error) {
      this.streams.close()
      throw error
    }
  }

  /** The port the listener is bound to (the chosen one for `port: 0`); undefined before start. */
  get port(): number | undefined {
    return this.listener?.port
  }

  async stop(): Promise<void> {
    clearTimeout(this.stateDue)
    this.streams.close()
    await this.listener?.stop()
  }

  private state(context: DaemonContext): DashboardSnapshot {
    return snapshot({
      context,
      board: this.board,
      statuses: this.statuses,
      outcome: this.outcome,
      online: this.online,
      since: this.since,
    })
  }

  private stateChanged(context: DaemonContext): void {
    if (this.stateDue || this.streams.size === 0) return
    this.stateDue = setTimeout(() => {
      this.stateDue = undefined
      this.streams.send('state', this.state(context))
    }, STATE_EVERY_MS)
  }
}
