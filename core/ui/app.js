// Conduit's web page: plain JavaScript, no framework, nothing from elsewhere. It reads and
// changes everything through the admin API with its session cookie; every changing request
// carries the session's X-CSRF-Token. Whatever it shows from the server is set as text
// (textContent, attributes), never parsed as HTML.
'use strict';

(function () {
  const state = {
    csrf: null,
    issueBaseUrl: null,
    providers: ['github'],
    refreshMs: 5000,
    tab: 'deliveries',
    filters: {},
    deliveries: [],
    nextCursor: null,
    detail: null, // {provider, repo_id, delivery}
    payloadLinks: new Map(), // identity -> html_url (or '' when it has none)
    paged: false, // older pages of deliveries were asked for
    selected: new Set(), // dead letters, by identity
    timer: null,
    busy: false,
  };

  const $ = (id) => document.getElementById(id);

  // An element with attributes and children; strings become text nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A link only to an http(s) address: nothing from a payload becomes a javascript: URL.
  function safeUrl(text) {
    if (typeof text !== 'string') return null;
    try {
      const url = new URL(text);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function issueLink(key) {
    if (!state.issueBaseUrl || !/^[A-Z][A-Z0-9_]*-[0-9]+$/.test(key)) {
      return el('span', { class: 'issue' }, key);
    }
    const href = safeUrl(state.issueBaseUrl + encodeURIComponent(key));
    return href ? el('a', { class: 'issue', href, target: '_blank', rel: 'noopener noreferrer' }, key)
      : el('span', { class: 'issue' }, key);
  }

  function relative(ms) {
    if (!ms) return '–';
    const seconds = Math.round((ms - Date.now()) / 1000);
    const abs = Math.abs(seconds);
    let text;
    if (abs < 60) text = abs + ' s';
    else if (abs < 3600) text = Math.round(abs / 60) + ' min';
    else if (abs < 86400) text = Math.round(abs / 3600) + ' h';
    else text = Math.round(abs / 86400) + ' d';
    return seconds > 0 ? 'in ' + text : text + ' ago';
  }

  function when(ms) {
    return el('time', { datetime: ms ? new Date(ms).toISOString() : null,
      title: ms ? new Date(ms).toLocaleString() : null }, relative(ms));
  }

  function duration(seconds) {
    if (!seconds) return '0 s';
    if (seconds < 60) return Math.round(seconds) + ' s';
    if (seconds < 3600) return Math.round(seconds / 60) + ' min';
    return (seconds / 3600).toFixed(1) + ' h';
  }

  function statusBadge(status) {
    return el('span', { class: 'status status-' + String(status).replace(/[^a-z]/g, '') },
      String(status));
  }

  function identity(d) {
    return d.provider + '/' + d.repo_id + '/' + d.delivery;
  }

  function deliveryPath(d) {
    return '/conduit/deliveries/' + encodeURIComponent(d.provider) + '/' +
      encodeURIComponent(d.repo_id) + '/' + encodeURIComponent(d.delivery);
  }

  function showMessage(text, kind) {
    const box = $('message');
    box.textContent = text || '';
    box.className = 'message' + (kind ? ' ' + kind : '');
    box.hidden = !text;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && (body.detail || body.error_msg)) || ('HTTP ' + status));
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    if (response.status !== 204) {
      try { json = await response.json(); } catch (e) { json = null; }
    }
    if (!response.ok) {
      // Signed out or expired: the sign-in form. (Loopback-only refusals are not helped by it.)
      if (response.status === 401 && !(json && json.error_msg === 'admin_loopback_only')) {
        showLogin();
      }
      throw new ApiError(response.status, json);
    }
    return json ? json.data : null;
  }

  // ---- Sign-in ----

  function showLogin() {
    stopRefresh();
    $('login-view').hidden = false;
    $('app-view').hidden = true;
    $('summary').hidden = true;
    $('logout').hidden = true;
    $('token').focus();
  }

  function showApp(session) {
    state.csrf = session.csrf_token || null;
    state.issueBaseUrl = session.issue_base_url || null;
    if (Array.isArray(session.providers) && session.providers.length) {
      state.providers = session.providers;
    }
    if (session.refresh_seconds) state.refreshMs = session.refresh_seconds * 1000;
    $('version').textContent = session.version ? 'v' + session.version : '';
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    $('summary').hidden = false;
    $('logout').hidden = !session.sign_in_needed || !session.csrf_token;
    refresh();
    startRefresh();
  }

  async function start() {
    try {
      const session = await api('GET', '/conduit/ui/session');
      if (session.signed_in) showApp(session);
      else showLogin();
    } catch (e) {
      showMessage(e.body && e.body.error_msg === 'admin_loopback_only'
        ? 'No admin_token is configured: this page answers on Conduit\'s own machine only.'
        : 'Conduit did not answer: ' + e.message, 'error');
    }
  }

  async function login(event) {
    event.preventDefault();
    const token = $('token').value;
    try {
      await api('POST', '/conduit/ui/login', { token });
      $('token').value = '';
      showMessage('');
      const session = await api('GET', '/conduit/ui/session');
      showApp(session);
    } catch (e) {
      showMessage(e.status === 401 ? 'That is not the admin token.' : e.message, 'error');
    }
  }

  async function logout() {
    try {
      await api('POST', '/conduit/ui/logout');
    } catch (e) {
      // Signed out already, or the session expired: the sign-in form either way.
    }
    state.csrf = null;
    showMessage('Signed out.');
    showLogin();
  }

  // ---- Refreshing ----

  function startRefresh() {
    stopRefresh();
    state.timer = setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, state.refreshMs);
    $('refresh-state').textContent = 'refreshes every ' + state.refreshMs / 1000 + ' s';
  }

  function stopRefresh() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    $('refresh-state').textContent = '';
  }

  async function refresh() {
    if (state.busy) return;
    state.busy = true;
    try {
      const jobs = [loadSummary()];
      if (state.tab === 'deliveries') jobs.push(loadDeliveries(false));
      if (state.tab === 'dead-letters') jobs.push(loadDeadLetters());
      if (state.tab === 'hooks') jobs.push(loadHooks());
      if (state.tab === 'refused') jobs.push(loadRefused());
      if (state.detail) jobs.push(loadDetail());
      await Promise.all(jobs);
      // A failure shown by an earlier refresh is over once everything answers again.
      if ($('message').classList.contains('error')) showMessage('');
    } catch (e) {
      if (e.status !== 401) showMessage(e.message, 'error');
    } finally {
      state.busy = false;
    }
  }

  async function loadSummary() {
    const s = await api('GET', '/conduit/ui/summary');
    $('queue-length').textContent = String(s.queue_length);
    $('queue-oldest').textContent = s.queue_length ? duration(s.oldest_age_seconds) : '–';
    $('dead-count').textContent = String(s.dead_letters);
    $('dead-count').className = s.dead_letters ? 'bad' : '';
  }

  // ---- Deliveries ----

  function filterQuery(cursor) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(state.filters)) {
      if (!value) continue;
      if (name === 'since') query.set('since', String(Date.now() - Number(value) * 1000));
      else query.set(name, value);
    }
    query.set('limit', '50');
    if (cursor) query.set('cursor', cursor);
    return query.toString();
  }

  // The newest page; `more`: the next older one, added below. A refresh reloads the newest page
  // and keeps the older ones already shown.
  async function loadDeliveries(more) {
    const page = await api('GET', '/conduit/deliveries?' +
      filterQuery(more ? state.nextCursor : null));
    const got = page.deliveries || [];
    if (more) {
      state.deliveries = state.deliveries.concat(got);
      state.nextCursor = page.next_cursor || null;
      state.paged = true;
    } else if (state.paged) {
      const oldest = got.length ? got[got.length - 1].accepted_at_ms : Infinity;
      const fresh = new Set(got.map(identity));
      state.deliveries = got.concat(state.deliveries.filter((d) => !fresh.has(identity(d)) &&
        d.accepted_at_ms < oldest));
    } else {
      state.deliveries = got;
      state.nextCursor = page.next_cursor || null;
    }
    renderDeliveries();
  }

  function actionText(a) {
    switch (a.action) {
      case 'moved': return 'moved ' + (a.from || '?') + ' → ' + (a.to || '?');
      case 'already_there': return 'already ' + (a.status || 'there');
      case 'end': return 'at the end: ' + (a.status || '');
      case 'skipped': return 'skipped: ' + (a.reason || '');
      case 'failed': return 'failed: ' + (a.reason || '');
      case 'commented': return 'commented';
      case 'ignored': return 'ignored: ' + (a.reason || '');
      default: return String(a.action || '');
    }
  }

  // The issue keys of a delivery, each with what its workers did to it.
  function issueCells(d) {
    const byIssue = new Map();
    for (const key of d.issues || []) byIssue.set(key, []);
    for (const w of d.workers || []) {
      for (const a of w.actions || []) {
        if (!a || typeof a.issue !== 'string') continue;
        const key = a.issue.toUpperCase();
        if (!byIssue.has(key)) byIssue.set(key, []);
        if (a.action !== 'commented') byIssue.get(key).push(a);
      }
    }
    const items = [];
    for (const [key, actions] of byIssue) {
      const moved = actions.find((a) => a.action === 'moved');
      items.push(el('span', { class: 'issue-item' }, issueLink(key),
        moved ? el('span', { class: 'muted' }, ' → ' + (moved.to || '')) : null));
    }
    return items;
  }

  function linkOf(d) {
    const known = state.payloadLinks.get(identity(d));
    const url = safeUrl(d.html_url || known);
    if (!url) return '';
    const label = d.event === 'release' ? 'release' : d.event === 'pull_request' ? 'pull request'
      : 'link';
    return el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label);
  }

  function renderDeliveries() {
    const body = $('deliveries').tBodies[0];
    body.replaceChildren(...state.deliveries.map((d) => el('tr', {
      class: 'delivery' + (state.detail && identity(state.detail) === identity(d) ? ' open' : ''),
      dataset: { id: identity(d) }, tabindex: '0',
      onclick: (event) => { if (!event.target.closest('a')) openDetail(d); },
      onkeydown: (event) => { if (event.key === 'Enter') openDetail(d); },
    },
    el('td', { 'data-label': 'Status' }, statusBadge(d.status)),
    el('td', { 'data-label': 'Repo' }, d.repo_path || d.repo_id),
    el('td', { 'data-label': 'Event' }, d.kind || d.event,
      d.reason && d.status !== 'done' ? el('div', { class: 'muted reason' }, d.reason) : null),
    el('td', { 'data-label': 'When' }, when(d.accepted_at_ms)),
    el('td', { 'data-label': 'Issues' }, issueCells(d)),
    el('td', { 'data-label': 'Link' }, linkOf(d)))));
    $('deliveries-empty').hidden = state.deliveries.length > 0;
    $('deliveries-more').hidden = !state.nextCursor;
  }

  // ---- A delivery's detail ----

  function openDetail(d) {
    state.detail = { provider: d.provider, repo_id: d.repo_id, delivery: d.delivery };
    $('detail').hidden = false;
    $('detail-id').textContent = d.delivery;
    $('detail-body').replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
    renderDeliveries();
    loadDetail().catch((e) => showMessage(e.message, 'error'));
    $('detail').scrollIntoView({ block: 'start' });
  }

  function closeDetail() {
    state.detail = null;
    $('detail').hidden = true;
    renderDeliveries();
  }

  // The pull request's or release's address in a payload, when it has one.
  function payloadUrl(payload) {
    try {
      const p = JSON.parse(payload);
      const url = (p.pull_request && p.pull_request.html_url) ||
        (p.release && p.release.html_url) || (p.repository && p.repository.html_url);
      return safeUrl(url) || '';
    } catch (e) {
      return '';
    }
  }

  async function loadDetail() {
    const wanted = state.detail;
    if (!wanted) return;
    const key = identity(wanted);
    const withPayload = !state.payloadLinks.has(key);
    const d = await api('GET', deliveryPath(wanted) + (withPayload ? '?payload=true' : ''));
    if (withPayload) state.payloadLinks.set(key, d.payload ? payloadUrl(d.payload) : '');
    if (!state.detail || identity(state.detail) !== key) return;
    renderDetail(d);
  }

  function field(label, ...value) {
    return [el('dt', {}, label), el('dd', {}, ...value)];
  }

  function renderDetail(d) {
    const facts = el('dl', { class: 'facts' },
      field('Status', statusBadge(d.status), d.reason ? ' ' + d.reason : ''),
      d.status === 'retrying' && d.next_attempt_at_ms
        ? field('Next attempt', when(d.next_attempt_at_ms)) : null,
      field('Repo', d.repo_path || '', ' (', d.provider + '/' + d.repo_id, ')'),
      field('Event', d.event || '', d.kind ? ' → ' + d.kind : ''),
      field('Accepted', when(d.accepted_at_ms), ' ', d.accepted_at || ''),
      field('Updated', when(d.updated_at_ms)),
      field('Attempts', String(d.attempts || 0), d.replays ? ', replayed ' + d.replays + '×' : ''),
      field('Size', String(d.size || 0) + ' bytes'),
      field('Stream entry', el('code', {}, d.entry || '')),
      field('Issues', issueCells(d)),
      field('Link', linkOf(d) || '–'));

    const workers = (d.workers || []).map((w) => el('div', { class: 'worker' },
      el('h3', {}, 'Worker ', el('code', {}, w.worker), ' ',
        statusBadge(w.outcome || 'queued'), w.message ? ' ' + w.message : ''),
      (w.actions || []).length ? el('ul', { class: 'actions' }, (w.actions || []).map((a) =>
        el('li', {}, a.issue ? issueLink(String(a.issue)) : null, a.issue ? ' ' : null,
          actionText(a), a.transition ? ' (' + a.transition + ')' : ''))) : null,
      (w.attempts || []).length ? el('table', { class: 'attempts' },
        el('thead', {}, el('tr', {}, el('th', {}, 'Attempt'), el('th', {}, 'When'),
          el('th', {}, 'Outcome'), el('th', {}, 'Message'))),
        el('tbody', {}, (w.attempts || []).map((a, i) => el('tr', {},
          el('td', {}, String(i + 1)), el('td', {}, when(a.at_ms)),
          el('td', {}, statusBadge(a.outcome)), el('td', {}, a.message || ''))))) : null));

    const buttons = el('div', { class: 'bar' });
    if (d.status === 'dead') {
      buttons.append(el('button', { type: 'button', class: 'replay',
        onclick: () => replayDelivery(d, false) }, 'Replay'));
    } else if (d.status === 'done' || d.status === 'ignored') {
      buttons.append(el('button', { type: 'button', class: 'secondary replay',
        onclick: () => {
          if (confirm('This delivery ended well. Run every worker on it again?')) {
            replayDelivery(d, true);
          }
        } }, 'Replay again'));
    }
    $('detail-id').textContent = d.delivery;
    $('detail-body').replaceChildren(facts, buttons,
      workers.length ? el('div', { class: 'workers' }, workers)
        : el('p', { class: 'muted' }, 'No worker has taken it yet.'));
  }

  async function replayDelivery(d, force) {
    try {
      await api('POST', deliveryPath(d) + '/replay' + (force ? '?force=true' : ''));
      showMessage('Delivery ' + d.delivery + ' is queued again.', 'ok');
      refresh();
    } catch (e) {
      showMessage('Replay refused: ' + e.message, 'error');
    }
  }

  // ---- Dead letters ----

  let deadLetters = [];

  async function loadDeadLetters() {
    const page = await api('GET', '/conduit/dead-letters?limit=200');
    deadLetters = page.dead_letters || [];
    const present = new Set(deadLetters.map(identity));
    for (const id of [...state.selected]) if (!present.has(id)) state.selected.delete(id);
    renderDeadLetters();
  }

  function renderDeadLetters() {
    const body = $('dead-letters').tBodies[0];
    body.replaceChildren(...deadLetters.map((l) => el('tr', { class: 'dead-letter',
      dataset: { id: identity(l) } },
    el('td', { 'data-label': 'Select' }, el('input', { type: 'checkbox',
      'aria-label': 'Select ' + l.delivery, checked: state.selected.has(identity(l)),
      onchange: (event) => {
        if (event.target.checked) state.selected.add(identity(l));
        else state.selected.delete(identity(l));
        $('replay-selected').disabled = state.selected.size === 0;
      } })),
    el('td', { 'data-label': 'Delivery' }, el('a', { href: '#', onclick: (event) => {
      event.preventDefault();
      openDetail(l);
    } }, l.delivery)),
    el('td', { 'data-label': 'Repo' }, l.repo_path || l.repo_id),
    el('td', { 'data-label': 'Worker' }, l.worker || ''),
    el('td', { 'data-label': 'Error' }, l.error || ''),
    el('td', { 'data-label': 'Failed' }, when(l.failed_at_ms)),
    el('td', {}, el('button', { type: 'button', class: 'replay-one',
      onclick: () => replayDeadLetters([l]) }, 'Replay')))));
    $('dead-letters-empty').hidden = deadLetters.length > 0;
    $('replay-selected').disabled = state.selected.size === 0;
    $('replay-all').disabled = deadLetters.length === 0;
    $('dead-select-all').checked = deadLetters.length > 0 &&
      state.selected.size === deadLetters.length;
  }

  async function replayDeadLetters(letters) {
    const body = letters === null ? {} : {
      deliveries: letters.map((l) => ({ provider: l.provider, repo_id: l.repo_id,
        delivery: l.delivery })),
    };
    try {
      const answer = await api('POST', '/conduit/dead-letters/replay', body);
      const n = answer && typeof answer.replayed === 'number' ? answer.replayed : 0;
      showMessage(n === 1 ? '1 delivery is queued again.' : n + ' deliveries are queued again.',
        'ok');
      state.selected.clear();
      refresh();
    } catch (e) {
      showMessage('Replay refused: ' + e.message, 'error');
    }
  }

  // ---- Hooks and refused requests ----

  async function loadHooks() {
    const lists = await Promise.all(state.providers.map((p) =>
      api('GET', '/conduit/webhooks/list?provider=' + encodeURIComponent(p))));
    const hooks = lists.flat();
    $('hooks').tBodies[0].replaceChildren(...hooks.map((h) => el('tr', {},
      el('td', { 'data-label': 'Provider' }, h.provider),
      el('td', { 'data-label': 'Repo id' }, h.repo_id),
      el('td', { 'data-label': 'Repo path' }, h.repo_path),
      el('td', { 'data-label': 'Payload URL' }, el('code', {},
        location.origin + '/conduit/webhooks/' + h.provider + '/' + h.repo_id + '/payload')))));
    $('hooks-empty').hidden = hooks.length > 0;
  }

  async function loadRefused() {
    const data = await api('GET', '/conduit/deliveries/refused');
    const refused = (data && data.refused) || [];
    $('refused').tBodies[0].replaceChildren(...refused.map((r) => el('tr', {},
      el('td', { 'data-label': 'When' }, when(r.at_ms)),
      el('td', { 'data-label': 'Request' }, (r.method || '') + ' ' + (r.path || '')),
      el('td', { 'data-label': 'Answer' }, el('span', { class: 'status status-dead' },
        String(r.status)), ' ', r.error || ''),
      el('td', { 'data-label': 'Delivery' }, r.delivery || ''),
      el('td', { 'data-label': 'Source' }, r.source || ''))));
    $('refused-empty').hidden = refused.length > 0;
  }

  // ---- Wiring ----

  function selectTab(tab) {
    state.tab = tab;
    if (state.detail) closeDetail();
    for (const button of document.querySelectorAll('.tab')) {
      button.classList.toggle('active', button.dataset.tab === tab);
    }
    for (const panel of document.querySelectorAll('.tab-panel')) {
      panel.hidden = panel.id !== 'tab-' + tab;
    }
    refresh();
  }

  function readFilters() {
    const form = $('filters');
    state.filters = {};
    for (const [name, value] of new FormData(form)) state.filters[name] = String(value).trim();
    state.nextCursor = null;
    state.paged = false;
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('filters').addEventListener('submit', (event) => {
      event.preventDefault();
      readFilters();
      loadDeliveries(false).catch((e) => showMessage(e.message, 'error'));
    });
    $('filters').addEventListener('reset', () => setTimeout(() => {
      readFilters();
      loadDeliveries(false).catch((e) => showMessage(e.message, 'error'));
    }, 0));
    $('deliveries-more').addEventListener('click', () =>
      loadDeliveries(true).catch((e) => showMessage(e.message, 'error')));
    $('detail-close').addEventListener('click', closeDetail);
    $('replay-selected').addEventListener('click', () =>
      replayDeadLetters(deadLetters.filter((l) => state.selected.has(identity(l)))));
    $('replay-all').addEventListener('click', () => {
      if (confirm('Put every dead letter back on the queue?')) replayDeadLetters(null);
    });
    $('dead-select-all').addEventListener('change', (event) => {
      state.selected = new Set(event.target.checked ? deadLetters.map(identity) : []);
      renderDeadLetters();
    });
    for (const button of document.querySelectorAll('.tab')) {
      button.addEventListener('click', () => selectTab(button.dataset.tab));
    }
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && state.timer) refresh();
    });
    start();
  });
}());
