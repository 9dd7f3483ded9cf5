/** The dashboard's style sheet: phone width first, two columns of bulbs from 30em up. */
export const STYLE_CSS = `:root{--bg:#15171a;--card:#1f2227;--line:#33373e;--text:#e8e8e8;--dim:#9aa0a6;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--wait:#6e7681;font:15px/1.4 system-ui,sans-serif}
@media (prefers-color-scheme:light){:root{--bg:#f4f5f7;--card:#fff;--line:#d0d4da;--text:#1b1f24;--dim:#5c6570}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5em;padding:.6em 1em;border-bottom:1px solid var(--line)}
h1{font-size:1.2em;margin:0}
h2{font-size:1em;margin:1.2em 0 .5em;color:var(--dim);text-transform:uppercase;letter-spacing:.05em}
main{padding:0 1em 2em;max-width:60em;margin:auto}
ul,ol{list-style:none;margin:0;padding:0}
.badge{font-size:.8em;padding:.1em .6em;border-radius:1em;background:var(--line)}
.badge.live,.state-running{background:var(--ok);color:#000}
.badge.down,.state-failed{background:var(--bad);color:#000}
.state-waiting{background:var(--wait);color:#fff}
.state-suspended,.state-held{background:var(--warn);color:#000}
#notice{font-size:.85em;color:var(--bad)}
.bulbs{display:grid;gap:.6em}
@media (min-width:30em){.bulbs{grid-template-columns:1fr 1fr}}
.bulb,.automation,.run,.problems li{background:var(--card);border:1px solid var(--line);border-radius:.6em;padding:.6em}
.bulb{display:flex;gap:.8em;align-items:center}
.well{flex:none;width:3.2em;height:3.2em;border-radius:50%;background:#000;overflow:hidden;border:1px solid var(--line)}
.swatch{width:100%;height:100%}
.bulb.off .swatch{visibility:hidden}
.bulb.unreachable{opacity:.6}
.name{font-weight:600}
.meta,.waits,.holder{font-size:.85em;color:var(--dim)}
.holder.held{color:var(--text)}
.automations{display:grid;gap:.4em}
.automation{display:flex;flex-wrap:wrap;align-items:center;gap:.5em}
.automation .name{flex:1}
.error{flex-basis:100%;font-size:.85em;color:var(--bad)}
button{font:inherit;font-size:.9em;padding:.3em .9em;border-radius:.4em;border:1px solid var(--line);background:var(--bg);color:var(--text);cursor:pointer}
button:disabled{opacity:.5;cursor:default}
.timeline{display:grid;gap:.3em}
.run{display:grid;grid-template-columns:7em 1fr;gap:.2em .6em;padding:.4em .6em}
.bar{position:relative;height:1em;background:var(--bg);border-radius:.2em;overflow:hidden}
.seg{position:absolute;top:0;bottom:0;display:inline-block}
.legend .seg{position:static;width:1em;height:.8em;margin:0 .3em 0 .8em;vertical-align:middle}
.seg.waiting{background:var(--wait)}
.seg.running{background:var(--ok)}
.seg.suspended{background:repeating-linear-gradient(45deg,var(--warn) 0 4px,transparent 4px 8px)}
.notes{font-size:.8em;color:var(--dim)}
.note-preempted{color:var(--warn)}
.note-resumed,.note-restarted{color:var(--ok)}
.note-failed{color:var(--bad)}
.legend{font-size:.8em;color:var(--dim)}
.problems{display:grid;gap:.3em;font-family:ui-monospace,monospace;font-size:.85em;word-break:break-word}
.problems .problem-warning{border-color:var(--warn)}
.problems .problem-error{border-color:var(--bad)}
.health{display:grid;grid-template-columns:auto 1fr;gap:.2em 1em;margin:0}
.health dt{color:var(--dim)}
.health dd{margin:0}
`
