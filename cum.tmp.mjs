import fs from 'node:fs'
import { createRequire } from 'node:module'
const req = createRequire(import.meta.url)
const r=()=>+fs.readFileSync('/proc/self/status','utf8').match(/VmRSS:\s+(\d+)/)[1]/1024
let prev = r()
for (const m of process.argv.slice(2)) { const c0=process.cpuUsage(); if (m.startsWith('req:')) req(m.slice(4)); else await import(m); const c=process.cpuUsage(c0); const now=r(); console.log(m.padEnd(30), (now-prev).toFixed(1).padStart(6),'MB', String(((c.user+c.system)/1000)|0).padStart(4),'ms'); prev=now }
