/** The setup as a whole (config file, devices/, automations/), checked together: `validate`, `simulate`. */
export { automationSetting, checkSetup, type CheckedSetup } from './check-setup.js'
