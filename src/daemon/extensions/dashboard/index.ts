export { Dashboard, type DashboardOptions } from './dashboard.js'
