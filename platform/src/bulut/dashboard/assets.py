"""The dashboard's inline stylesheet and script (served inside the page: no CDN, no files).

The script subscribes to the dashboard's ``/dashboard/stream`` (fresh HTML fragments) and
to the eventing admin API's ``/tail``; it lists dead letters and redelivers them, and shows
the local GitOps applications (``/gitops/apps``) with a Sync button and the diff of an app out
of sync.
"""

from __future__ import annotations

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}
header h1{font-size:18px;margin:0}main{padding:0 20px 40px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:16px 0;padding:8px 16px}
h2{font-size:15px;margin:12px 0 6px}table{border-collapse:collapse;width:100%;margin-bottom:8px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{font-weight:600;color:#545b69}.name{font-weight:600}.empty{color:#8a909c}
.badge{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;margin:1px}
.ok{background:#dff3e4;color:#17692f}.bad{background:#fde2e1;color:#a1251b}
.warn{background:#fff1d6;color:#7a5300}figure{margin:8px 0;display:inline-block}
figcaption{font-size:12px;color:#545b69}svg.scale-chart{width:560px;height:120px;background:#fbfcfd}
svg .grid{stroke:#e3e6eb}svg .axis{font-size:10px;fill:#8a909c}
svg polyline{fill:none;stroke-width:2}svg .actual{stroke:#2563eb}
svg .desired{stroke:#f59e0b;stroke-dasharray:5 4}.legend.actual{color:#2563eb}
.legend.desired{color:#b45309}#status{font-size:12px;padding:2px 8px;border-radius:9px}
.outcome.delivered,.outcome.replied{color:#17692f}
.outcome.dead-lettered,.outcome.failed{color:#a1251b}
button{font:inherit;padding:2px 10px;cursor:pointer}
pre{white-space:pre-wrap;max-height:360px;overflow:auto}
.sha{font-family:ui-monospace,monospace}
"""

SCRIPT = """
(function(){
const cfg = JSON.parse(document.getElementById('config').textContent);
const $ = (id) => document.getElementById(id);
function cell(tr, value, cls){
  const td = document.createElement('td');
  td.textContent = value === undefined || value === null ? '' : String(value);
  if (cls) td.className = cls;
  tr.appendChild(td);
}
function live(){
  const source = new EventSource(cfg.stream);
  source.addEventListener('update', (e) => {
    const d = JSON.parse(e.data);
    $('resources').innerHTML = d.resources;
    $('charts').innerHTML = d.charts;
    $('status').textContent = 'live'; $('status').className = 'ok';
  });
  source.onerror = () => {
    $('status').textContent = 'reconnecting'; $('status').className = 'warn';
  };
}
function tail(){
  if (!cfg.eventing) return;
  const source = new EventSource(cfg.eventing + '/tail');
  source.onmessage = (e) => {
    const r = JSON.parse(e.data);
    const tr = document.createElement('tr');
    tr.className = 'record ' + r.kind; tr.dataset.id = r.id || '';
    const isEvent = r.kind === 'event';
    const what = isEvent ? r.type : (r.outcome || r.verdict || '');
    cell(tr, new Date().toLocaleTimeString());
    cell(tr, r.kind); cell(tr, r.id);
    cell(tr, isEvent ? r.namespace + '/' + r.broker : r.trigger);
    cell(tr, what, 'outcome ' + what); cell(tr, r.code || '');
    const body = $('events-body');
    const empty = body.querySelector('.empty'); if (empty) empty.remove();
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > cfg.maxEvents) body.removeChild(body.lastChild);
    if (r.kind === 'delivery') deadLetters();
  };
}
async function deadLetters(){
  if (!cfg.eventing) return;
  let items = [];
  try {
    const res = await fetch(cfg.eventing + '/dead-letters');
    items = (await res.json()).items || [];
  } catch (err) { $('dead-count').textContent = 'unavailable'; return; }
  const body = $('dead-body'); body.textContent = '';
  for (const item of items) {
    const tr = document.createElement('tr'); tr.dataset.id = item.id;
    cell(tr, item.id); cell(tr, item.type); cell(tr, item.trigger);
    cell(tr, item.outcome, 'outcome ' + item.outcome); cell(tr, item.code); cell(tr, item.detail);
    const td = document.createElement('td'); const button = document.createElement('button');
    button.textContent = 'Redeliver'; button.className = 'redeliver';
    button.onclick = () => redeliver(item.id, item.trigger, button);
    td.appendChild(button); tr.appendChild(td); body.appendChild(tr);
  }
  $('dead-count').textContent = String(items.length);
}
async function redeliver(id, trigger, button){
  button.disabled = true;
  const url = cfg.eventing + '/events/' + encodeURIComponent(id) + '/redeliver?trigger=' +
    encodeURIComponent(trigger);
  const res = await fetch(url, {method: 'POST'});
  $('redeliver-status').textContent = res.status === 202
    ? 'redelivering ' + id + ' to ' + trigger : 'redeliver failed (' + res.status + ')';
  setTimeout(deadLetters, 300);
}
function badge(value, good){
  const span = document.createElement('span');
  span.className = 'badge ' + (value === good ? 'ok' : (value === 'Progressing' ? 'warn' : 'bad'));
  span.textContent = value; return span;
}
async function gitops(){
  if (!cfg.gitops) return;
  let apps = [];
  try { apps = await (await fetch(cfg.gitops + '/apps')).json(); }
  catch (err) { return; }
  const body = $('gitops-body'); body.textContent = '';
  if (!apps.length) {
    const tr = document.createElement('tr'); tr.className = 'empty';
    cell(tr, 'no applications (bulut gitops add, or bulut up --sync)'); body.appendChild(tr);
  }
  for (const app of apps) {
    const tr = document.createElement('tr'); tr.dataset.app = app.name;
    cell(tr, app.name, 'name'); cell(tr, app.repo + ' ' + app.path);
    const commit = app.commit ? app.commit.sha.slice(0, 7) + ' ' + app.commit.message : '';
    cell(tr, commit, 'sha');
    for (const [value, good] of [[app.sync, 'Synced'], [app.health, 'Healthy']]) {
      const td = document.createElement('td'); td.appendChild(badge(value, good));
      tr.appendChild(td);
    }
    const last = app.lastSync;
    cell(tr, last ? last.phase + ' · ' + new Date(last.finished_at * 1000).toLocaleTimeString()
      + ' (' + last.trigger + ')' : '');
    cell(tr, app.error, app.error ? 'outcome failed' : '');
    const td = document.createElement('td');
    const sync = document.createElement('button'); sync.textContent = 'Sync';
    sync.className = 'sync'; sync.onclick = () => syncApp(app.name, sync); td.appendChild(sync);
    if (app.sync === 'OutOfSync') {
      const diff = document.createElement('button'); diff.textContent = 'Diff';
      diff.className = 'diff'; diff.onclick = () => showDiff(app.name); td.appendChild(diff);
    }
    tr.appendChild(td); body.appendChild(tr);
  }
}
async function syncApp(name, button){
  button.disabled = true;
  const res = await fetch(cfg.gitops + '/' + encodeURIComponent(name) + '/sync?wait=true',
    {method: 'POST'});
  const record = res.ok ? await res.json() : null;
  $('gitops-status').textContent = record
    ? name + ': ' + record.phase + (record.detail ? ' — ' + record.detail : '')
    : name + ': sync failed (' + res.status + ')';
  button.disabled = false; gitops();
}
async function showDiff(name){
  const res = await fetch(cfg.gitops + '/apps/' + encodeURIComponent(name) + '/diff');
  const body = res.ok ? await res.json() : {diffs: []};
  $('gitops-diff').textContent = body.diffs.map((d) => d.diff).join('\\n\\n') || 'no difference';
}
live(); tail(); deadLetters(); gitops(); setInterval(gitops, 3000);
})();
"""
