import { memoryProtocol } from '../../src/index.js'
import { describeProtocolContract } from './protocol-contract.js'

describeProtocolContract('memory', async () => {
  const protocol = memoryProtocol()
  return {
    protocol,
    revoke: (resource) => protocol.revoke(resource),
    async teardown() {
      if (!protocol.idle) throw new Error(`locks left behind: ${JSON.stringify(protocol.snapshot())}`)
      await protocol.close()
    },
  }
})
