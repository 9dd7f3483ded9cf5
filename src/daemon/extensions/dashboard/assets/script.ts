/**
 * The dashboard's script: plain browser JavaScript, no framework and no build. It follows one server-sent event
 * stream (`events`: `state` on every change, `timeline` once, `run` per changed row) and draws with the DOM
 * (textContent only: names from files are never parsed as HTML). Buttons POST JSON to relative URLs.
 */
export const SCRIPT_JS = `'use strict';
(function () {
  var state = null;
  var runs = new Map();
  var skew = 0;
  var KEEP = 40;

  function $(id) { return document.getElementById(id); }
  function el(tag, props, children) {
    var node = document.createElement(tag);
    for (var key in props || {}) {
      if (key === 'text') node.textContent = props[key];
      else if (key === 'class') node.className = props[key];
      else if (key === 'onclick') node.addEventListener('click', props[key]);
      else node.setAttribute(key, props[key]);
    }
    (children || []).forEach(function (child) { if (child) node.append(child); });
    return node;
  }
  function party(p) { return p.name + ' (' + p.priority + ')'; }
  function notice(text) { $('notice').textContent = text; }

  function post(path, body, button) {
    button.disabled = true;
    notice('');
    fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (response) {
        if (response.ok) return;
        return response.text().then(function (text) { notice(text.trim() || response.statusText); });
      })
      .catch(function (error) { notice(String(error)); })
      .finally(function () { button.disabled = false; });
  }

  function bulbCard(bulb) {
    var swatch = el('div', { class: 'swatch', 'data-color': bulb.color });
    swatch.style.background = bulb.color;
    swatch.style.opacity = String(0.25 + 0.75 * bulb.brightness / 100);
    var holder;
    if (!bulb.holder) holder = el('div', { class: 'holder', text: 'free' });
    else {
      holder = el('div', { class: 'holder held', text: 'held by ' + party(bulb.holder) + ' ' });
      if (bulb.holder.name === 'manual') {
        holder.append(el('button', {
          text: 'Release', 'aria-label': 'Release ' + bulb.id,
          onclick: function (event) { post('release', { device: bulb.id }, event.currentTarget); }
        }));
      }
    }
    var meta = (bulb.on ? bulb.brightness + '% ' : 'off ') + bulb.adapter + (bulb.reachable ? '' : ' · unreachable');
    return el('li', {
      class: 'bulb' + (bulb.on ? '' : ' off') + (bulb.reachable ? '' : ' unreachable'), 'data-bulb': bulb.id
    }, [
      el('div', { class: 'well' }, [swatch]),
      el('div', {}, [
        el('div', { class: 'name', text: bulb.name }),
        el('div', { class: 'meta', text: meta }),
        holder,
        bulb.waiting.length ? el('div', { class: 'waits', text: 'waiting: ' + bulb.waiting.map(party).join(', ') }) : null
      ])
    ]);
  }

  function automationRow(automation) {
    var button = function (label, command) {
      return el('button', {
        text: label, 'aria-label': label + ' ' + automation.name,
        onclick: function (event) { post('automation', { name: automation.name, command: command }, event.currentTarget); }
      });
    };
    return el('li', { class: 'automation', 'data-automation': automation.name }, [
      el('span', { class: 'name', text: automation.name }),
      el('span', { class: 'meta', text: 'priority ' + automation.priority }),
      el('span', { class: 'badge state state-' + automation.state.split(' ')[0], text: automation.state }),
      button('Start', 'start'),
      button('Stop', 'stop'),
      automation.lastError ? el('span', { class: 'error', text: automation.lastError }) : null
    ]);
  }

  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    return s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h';
  }

  function renderState() {
    $('bulbs').replaceChildren.apply($('bulbs'), state.bulbs.map(bulbCard));
    $('automations').replaceChildren.apply($('automations'), state.automations.map(automationRow));
    var problems = state.problems.length ? state.problems.map(function (problem) {
      return el('li', { class: 'problem-' + problem.severity, text: problem.text });
    }) : [el('li', { text: 'none' })];
    $('problems').replaceChildren.apply($('problems'), problems);
    var h = state.health;
    var rows = [
      ['broker', h.online ? 'online (' + h.baseTopic + ')' : 'offline'],
      ['up for', ago(Date.now() + skew - h.since)],
      ['bulbs reachable', h.reachable + ' of ' + h.devices],
      ['automations running', h.running + ' of ' + h.automations],
      ['locks', h.locks]
    ];
    var items = [];
    rows.forEach(function (row) { items.push(el('dt', { text: row[0] }), el('dd', { text: row[1] })); });
    $('health').replaceChildren.apply($('health'), items);
  }

  function renderTimeline() {
    var now = Date.now() + skew;
    var list = Array.from(runs.values()).sort(function (a, b) { return b.start - a.start; });
    var from = list.reduce(function (min, run) { return Math.min(min, run.start); }, now);
    var span = Math.max(5000, now - from);
    var rows = list.map(function (run) {
      var bar = el('div', { class: 'bar' }, run.segments.map(function (segment) {
        var seg = el('i', { class: 'seg ' + segment.state, title: segment.state });
        var end = segment.to === undefined || segment.to === null ? now : segment.to;
        seg.style.left = (100 * (segment.from - from) / span) + '%';
        seg.style.width = Math.max(0.5, 100 * (end - segment.from) / span) + '%';
        return seg;
      }));
      var notes = el('div', { class: 'notes' }, run.notes.map(function (note, i) {
        return el('span', { class: 'note-' + note.kind, text: (i ? ' · ' : '') + note.text });
      }));
      var when = new Date(run.start - skew).toLocaleTimeString();
      return el('li', { class: 'run', 'data-run': run.name }, [
        el('span', { class: 'name', text: run.name }), bar, el('span', { class: 'meta', text: when }), notes
      ]);
    });
    $('timeline').replaceChildren.apply($('timeline'), rows.length ? rows : [el('li', { text: 'no runs yet' })]);
  }

  var source = new EventSource('events');
  source.addEventListener('open', function () { $('connection').textContent = 'live'; $('connection').className = 'badge live'; });
  source.addEventListener('error', function () { $('connection').textContent = 'reconnecting…'; $('connection').className = 'badge down'; });
  source.addEventListener('state', function (event) { state = JSON.parse(event.data); renderState(); });
  source.addEventListener('timeline', function (event) {
    var data = JSON.parse(event.data);
    skew = data.now - Date.now();
    runs = new Map(data.runs.map(function (run) { return [run.id, run]; }));
    renderTimeline();
  });
  source.addEventListener('run', function (event) {
    var run = JSON.parse(event.data);
    runs.set(run.id, run);
    if (runs.size > KEEP) runs.delete(runs.keys().next().value);
    renderTimeline();
  });
  setInterval(function () {
    var open = Array.from(runs.values()).some(function (run) { return run.end === undefined || run.end === null; });
    if (open) renderTimeline();
  }, 1000);
})();
`
