/**
 * /ui/app.js, the web UI's only script, served by the daemon (never inline: the pages' CSP allows
 * scripts from 'self' only). Two jobs the server cannot do for a plain HTML form: POST JSON (the
 * guard takes only `application/json`, so a cross-site form can never reach a state-changing route),
 * and draw a backtest's timeline from /api/v1/backtest's answer. Plain ES2017, no dependencies.
 */
export const CLIENT_JS = String.raw`'use strict';
(function () {
  function $(id) { return document.getElementById(id); }
  function text(el, s) { el.textContent = s; }
  function postJson(url, body) {
    return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' })
      .then(function (res) { return res.json().then(function (j) { return { status: res.status, body: j }; }); });
  }
  function errorText(r) { return (r.body && r.body.error && (r.body.error.message || r.body.error)) || ('HTTP ' + r.status); }

  var accept = $('accept-form');
  if (accept) accept.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var out = $('accept-result');
    var reason = $('accept-reason').value.trim();
    if (!reason) { out.className = 'notice err'; text(out, 'A reason is required.'); return; }
    $('accept-button').disabled = true;
    postJson('/api/v1/accept', { alertname: accept.dataset.alertname, match: JSON.parse(accept.dataset.labels), reason: reason })
      .then(function (r) {
        if (r.status !== 200) { out.className = 'notice err'; text(out, 'Not accepted: ' + errorText(r)); $('accept-button').disabled = false; return; }
        out.className = 'notice ok';
        text(out, 'Accepted ' + r.body.accepted.length + ' series: resolved. Reloading…');
        setTimeout(function () { location.reload(); }, 600);
      })
      .catch(function (e) { out.className = 'notice err'; text(out, String(e)); $('accept-button').disabled = false; });
  });

  var NS = 'http://www.w3.org/2000/svg';
  function svgEl(name, attrs, parent) {
    var el = document.createElementNS(NS, name);
    for (var k in attrs) el.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(el);
    return el;
  }
  function labelText(labels) { return Object.keys(labels).map(function (k) { return k + '=' + labels[k]; }).join(' '); }

  function drawTimeline(result, out) {
    var from = Date.parse(result.from), to = Date.parse(result.to);
    var rows = result.timeline, rowH = 22, left = 330, width = 1000, top = 24;
    var svg = svgEl('svg', { class: 'timeline', id: 'backtest-timeline', viewBox: '0 0 ' + width + ' ' + (top + rows.length * rowH + 10), width: '100%', role: 'img', 'aria-label': 'backtest timeline' });
    var x = function (t) { return left + (Math.min(Math.max(t, from), to) - from) / (to - from) * (width - left - 10); };
    for (var d = Math.ceil(from / 864e5) * 864e5; d <= to; d += 864e5) {
      svgEl('line', { x1: x(d), x2: x(d), y1: top - 4, y2: top + rows.length * rowH, stroke: '#eef0f4' }, svg);
      if (x(d) > width - 40) continue;
      var t = svgEl('text', { x: x(d) + 2, y: top - 8 }, svg); t.textContent = new Date(d).toISOString().slice(5, 10);
    }
    rows.forEach(function (row, i) {
      var y = top + i * rowH;
      var name = svgEl('text', { x: 0, y: y + 15 }, svg); name.textContent = row.alertname + ' ' + labelText(row.labels);
      row.spans.forEach(function (s) {
        var r = svgEl('rect', { class: s.state, x: x(Date.parse(s.from)), y: y + 4, width: Math.max(1.5, x(Date.parse(s.to)) - x(Date.parse(s.from))), height: rowH - 8 }, svg);
        var title = svgEl('title', {}, r); title.textContent = s.state + ' ' + s.from + ' – ' + s.to;
      });
    });
    out.appendChild(svg);
  }

  var bt = $('backtest-form');
  if (bt) bt.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var out = $('backtest-result');
    out.className = 'notice'; text(out, 'Running…');
    var body = { days: Number($('backtest-days').value), step: $('backtest-step').value.trim() };
    var rules = $('backtest-rules').value;
    if (rules.trim()) body.rules = rules;
    postJson('/api/v1/backtest', body).then(function (r) {
      out.textContent = '';
      if (r.status !== 200) { out.className = 'notice err'; var pre = document.createElement('pre'); pre.textContent = errorText(r); out.appendChild(pre); return; }
      out.className = '';
      var p = document.createElement('p');
      p.textContent = r.body.source + ', ' + r.body.from.slice(0, 16) + ' – ' + r.body.to.slice(0, 16) + ' UTC: ' + r.body.evaluations + ' group evaluations, ' + r.body.transitions.length + ' transitions. Red: firing, amber: pending.';
      out.appendChild(p);
      if (r.body.timeline.length > 0) drawTimeline(r.body, out);
      var table = document.createElement('table');
      table.innerHTML = '<tr><th>rule</th><th>signal</th><th>alerts</th><th>firing hours</th><th>alerts per week</th></tr>';
      r.body.summary.forEach(function (s) {
        var tr = document.createElement('tr');
        [s.rule, s.signal, s.alerts, s.firing_hours, s.alerts_per_week].forEach(function (v) { var td = document.createElement('td'); td.textContent = String(v); tr.appendChild(td); });
        table.appendChild(tr);
      });
      out.appendChild(table);
    }).catch(function (e) { out.className = 'notice err'; text(out, String(e)); });
  });
})();
`;
