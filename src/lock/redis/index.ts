export { RedisProtocol, redisProtocol } from './protocol.js'
export type { RedisLockLogger, RedisProtocolOptions } from './options.js'
