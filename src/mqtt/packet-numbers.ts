/**
 * mqtt-packet (the packet writer of both mqtt.js and aedes) by default builds, at its first packet, a cache of
 * 65,536 two-byte Buffers, one for every packet id and length it may write: 6.5 MB of heap that stays for the
 * life of the process and ~40 ms of start-up (issue 18: a third of the heap a ready daemon holds beyond node's
 * own). Without it each such number is a 2-byte Buffer made as it is written, which costs no measurable CPU per
 * trigger (paired runs, 10,000 triggers). The switch is the module's own (`writeToStream.cacheNumbers`), global
 * to the process: set here, before the first packet, it holds for the client and the embedded broker alike.
 */
import mqttPacket from 'mqtt-packet'

mqttPacket.writeToStream.cacheNumbers = false
