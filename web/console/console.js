// The operator console, served by parleyd at /console/. Plain ES module, no build step
// and no network beyond the server it came from. It talks to the admin API
// (docs/protocol.md, "Admin API") with the admin key the operator types in; the key
// lives in sessionStorage, so it is gone when the tab closes. Admin API errors are
// shown with their catalog code and advice from the generated /sdk/errors.js. A minted
// token links to the meeting page as /demo/#token=<access token>.
import { AdminError, adminRequest } from './admin-api.js';
import { $, h, keepTableRoles, srOnly, say, fmtTime, fmtMinutes, confirmAction, installCopyButtons } from './ui.js';

const KEY_SLOT = 'parley.console.adminKey';
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const state = {
  key: null,
  apps: [],               // last GET /v1/admin/apps
  live: new Map(),        // "appId/channelId/userId" -> { bytes, at } for bitrates
  liveTimer: null,
  liveBusy: false,
  lastToken: null,
};

// ---- errors ------------------------------------------------------------------

/** Shows an error in the alert region, with its catalog code and advice. */
function showError(action, err) {
  const box = $('errors');
  const close = h('button', { type: 'button', class: 'quiet', on: { click: () => item.remove() } }, 'Dismiss');
  const item = h('div', { class: 'error', 'data-code': err.hex || '' },
    h('p', {},
      err.hex ? h('strong', { class: 'code' }, err.hex) : null,
      err.codeName ? h('span', { class: 'code-name' }, ` ${err.codeName}`) : null,
      h('span', {}, `${err.hex ? ' — ' : ''}${action} failed: ${err.message}`)),
    err.advice ? h('p', { class: 'advice' }, h('span', { class: 'label' }, 'What to do: '), err.advice) : null,
    close);
  box.replaceChildren(item);
}

const clearErrors = () => $('errors').replaceChildren();

// ---- the admin API -----------------------------------------------------------

const api = (method, path, body) => adminRequest(state.key, method, path, body);

/** Runs an admin action; shows its error (and signs out on 401). Returns undefined on failure. */
async function attempt(action, fn) {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof AdminError)) throw err;
    showError(action, err);
    if (err.status === 401) signOut(false);
    return undefined;
  }
}

const appPath = (appId) => `/v1/admin/apps/${encodeURIComponent(appId)}`;

// ---- sign in / out -----------------------------------------------------------

async function signIn(key, announce) {
  state.key = key;
  const data = await attempt('Sign in', () => api('GET', '/v1/admin/apps'));
  if (!data) {
    state.key = null;
    sessionStorage.removeItem(KEY_SLOT);
    return false;
  }
  sessionStorage.setItem(KEY_SLOT, key);
  $('signIn').hidden = true;
  $('workspace').hidden = false;
  $('signOut').hidden = false;
  $('adminKey').value = '';
  setApps(data.apps);
  selectTab(tabFromHash(), false);
  if (announce) say(`Signed in. ${data.apps.length} app${data.apps.length === 1 ? '' : 's'}.`);
  return true;
}

function signOut(announce = true) {
  sessionStorage.removeItem(KEY_SLOT);
  state.key = null;
  state.apps = [];
  state.live.clear();
  stopLive();
  hideSecret();
  $('tokenResult').hidden = true;
  $('appsBody').replaceChildren();
  $('channels').replaceChildren();
  $('workspace').hidden = true;
  $('signOut').hidden = true;
  $('signIn').hidden = false;
  $('adminKey').focus();
  if (announce) say('Signed out.');
}

$('signInForm').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors();
  const key = $('adminKey').value.trim();
  if (key) await signIn(key, true);
});
$('signOut').addEventListener('click', () => signOut(true));

// ---- tabs ----------------------------------------------------------------------

const tabs = ['apps', 'tokens', 'live'];
const tabFromHash = () => (tabs.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'apps');

function selectTab(name, focus = true) {
  for (const t of tabs) {
    const on = t === name;
    const tab = $(`tab-${t}`);
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${t}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (location.hash.slice(1) !== name) history.replaceState(null, '', `#${name}`);
  if (name === 'live') startLive(); else stopLive();
}

for (const t of tabs) {
  const tab = $(`tab-${t}`);
  tab.addEventListener('click', () => selectTab(t));
  tab.addEventListener('keydown', (ev) => {
    const i = tabs.indexOf(t);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    selectTab(tabs[(next + tabs.length) % tabs.length]);
  });
}
window.addEventListener('hashchange', () => { if (state.key) selectTab(tabFromHash(), false); });

// ---- dialogs -------------------------------------------------------------------

function askBalance(app) {
  const dlg = $('balanceDialog');
  const used = app.usedSeconds / 60;
  $('balanceTitle').textContent = `Set balance of ${app.name}`;
  $('balanceText').textContent = `Used so far: ${fmtMinutes(used)} min. Current quota: ` +
    (app.quotaMinutes === null ? 'unlimited.' : `${app.quotaMinutes} min.`);
  $('balanceUnlimited').checked = app.quotaMinutes === null;
  $('balanceMinutes').value = app.quotaMinutes === null ? '' : String(app.quotaMinutes);
  $('balanceMinutes').required = app.quotaMinutes !== null;
  dlg.returnValue = '';
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => {
      if (dlg.returnValue !== 'ok') return resolve(undefined);
      if ($('balanceUnlimited').checked) return resolve(null);
      const n = Number($('balanceMinutes').value);
      resolve(Number.isInteger(n) && n >= 0 && $('balanceMinutes').value !== '' ? n : undefined);
    }, { once: true });
  });
}

// Typing a number means a quota; ticking "Unlimited" clears the number.
$('balanceMinutes').addEventListener('input', () => {
  if ($('balanceMinutes').value !== '') $('balanceUnlimited').checked = false;
  $('balanceMinutes').required = !$('balanceUnlimited').checked;
});
$('balanceUnlimited').addEventListener('change', () => {
  if ($('balanceUnlimited').checked) $('balanceMinutes').value = '';
  else $('balanceMinutes').focus();
  $('balanceMinutes').required = !$('balanceUnlimited').checked;
});

// ---- copying -------------------------------------------------------------------

installCopyButtons();

// ---- apps ----------------------------------------------------------------------

function appState(app) {
  if (!app.enabled) return { text: 'disabled', cls: 'off' };
  if (app.overdue) return { text: 'overdue', cls: 'warn' };
  return { text: 'enabled', cls: 'on' };
}

function balanceText(app) {
  const used = app.usedSeconds / 60;
  if (app.quotaMinutes === null) return `unlimited (${fmtMinutes(used)} min used)`;
  const left = Math.max(0, app.quotaMinutes - used);
  return `${fmtMinutes(left)} of ${app.quotaMinutes} min left`;
}

function setApps(apps) {
  state.apps = apps.slice().sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  renderApps();
  renderAppChoices();
}

async function reloadApps() {
  const data = await attempt('Loading apps', () => api('GET', '/v1/admin/apps'));
  if (data) setApps(data.apps);
}

function replaceApp(app) {
  const i = state.apps.findIndex((a) => a.appId === app.appId);
  if (i >= 0) state.apps[i] = app; else state.apps.push(app);
  setApps(state.apps);
}

function renderApps() {
  const body = $('appsBody');
  const focusKey = document.activeElement?.dataset?.focusKey;
  body.replaceChildren(...state.apps.map((app) => {
    const st = appState(app);
    const act = (label, what, fn, cls) => h('button', {
      type: 'button', class: cls || 'quiet', 'data-focus-key': `app:${app.appId}:${what}`,
      on: { click: fn },
    }, label, srOnly(` ${app.name}`));
    return h('tr', { 'data-app-id': app.appId },
      h('th', { scope: 'row', 'data-label': 'Name' }, app.name),
      h('td', { 'data-label': 'AppId' }, h('code', {}, app.appId)),
      h('td', { 'data-label': 'State' }, h('span', { class: `badge ${st.cls}` }, st.text)),
      h('td', { 'data-label': 'Balance' }, balanceText(app)),
      h('td', { 'data-label': 'Created' }, h('time', { dateTime: new Date(app.createdAt * 1000).toISOString() }, fmtTime(app.createdAt))),
      h('td', { 'data-label': 'Actions' }, h('div', { class: 'actions' },
        app.enabled ? act('Disable', 'toggle', () => toggleApp(app, false)) : act('Enable', 'toggle', () => toggleApp(app, true)),
        act('Rotate key', 'rotate', () => rotateKey(app)),
        act('Set balance', 'balance', () => setBalance(app)),
        act('Mint token', 'token', () => tokenFor(app)),
        act('Delete', 'delete', () => deleteApp(app), 'quiet danger-text'))));
  }));
  $('appsEmpty').hidden = state.apps.length > 0;
  $('appsTable').hidden = state.apps.length === 0;
  $('appsCount').textContent = `(${state.apps.length})`;
  keepTableRoles($('appsTable'));
  // Keep keyboard focus on the same control across the re-render, or near it if its row went.
  if (focusKey?.startsWith('app:')) (body.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) || $('appName')).focus();
}

function renderAppChoices() {
  for (const [id, first] of [['tokenApp', null], ['liveApp', h('option', { value: '' }, 'All apps')]]) {
    const select = $(id);
    const was = select.value;
    const options = state.apps.map((a) => h('option', { value: a.appId },
      `${a.name} (${a.appId})${a.enabled ? '' : ' — disabled'}`));
    select.replaceChildren(...(first ? [first] : []), ...options);
    if ([...select.options].some((o) => o.value === was)) select.value = was;
  }
}

function showSecret(app, title, note) {
  $('secretTitle').textContent = title;
  $('secretNote').textContent = note;
  $('secretName').textContent = app.name;
  $('secretAppId').textContent = app.appId;
  $('secretAppKey').textContent = app.appKey;
  $('secret').hidden = false;
  $('secret').focus();
}

function hideSecret() {
  $('secretAppKey').textContent = '';
  $('secretAppId').textContent = '';
  $('secret').hidden = true;
}

$('secretDone').addEventListener('click', () => {
  hideSecret();
  $('appName').focus();
  say('Key hidden.');
});

$('createForm').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors();
  const name = $('appName').value.trim();
  const app = await attempt('Create app', () => api('POST', '/v1/admin/apps', { name }));
  if (!app) return;
  $('appName').value = '';
  replaceApp(app);
  showSecret(app, 'New app credentials',
    'Copy the AppKey now: the console shows it this once only. Anyone holding it can mint tokens for the app.');
  say(`Created app ${app.name} (${app.appId}).`);
});

async function toggleApp(app, enable) {
  clearErrors();
  const verb = enable ? 'enable' : 'disable';
  const updated = await attempt(`${enable ? 'Enable' : 'Disable'} app ${app.name}`,
    () => api('POST', `${appPath(app.appId)}/${verb}`));
  if (!updated) return;
  replaceApp(updated);
  say(enable ? `Enabled ${app.name}.` : `Disabled ${app.name}; its users were removed and new joins are refused.`);
}

async function rotateKey(app) {
  clearErrors();
  const ok = await confirmAction(`Rotate the key of ${app.name}?`,
    'A new AppKey replaces the current one. Tokens made with the current key stop working, including for users who reconnect.',
    'Rotate key');
  if (!ok) return;
  const updated = await attempt(`Rotate key of ${app.name}`, () => api('POST', `${appPath(app.appId)}/rotate-key`));
  if (!updated) return;
  replaceApp(updated);
  showSecret(updated, `New AppKey for ${updated.name}`,
    'Copy the new AppKey now: the console shows it this once only. The previous key no longer works.');
  say(`Rotated the key of ${app.name}.`);
}

async function setBalance(app) {
  clearErrors();
  const minutes = await askBalance(app);
  if (minutes === undefined) return;
  const updated = await attempt(`Set balance of ${app.name}`,
    () => api('PUT', `${appPath(app.appId)}/quota`, { minutes }));
  if (!updated) return;
  replaceApp(updated);
  say(`Balance of ${app.name}: ${balanceText(updated)}.`);
}

async function deleteApp(app) {
  clearErrors();
  const ok = await confirmAction(`Delete ${app.name}?`,
    `App ${app.appId} is removed for good: its users leave their channels and its tokens stop working. This cannot be undone.`,
    'Delete app');
  if (!ok) return;
  const done = await attempt(`Delete app ${app.name}`, () => api('DELETE', appPath(app.appId)));
  if (!done) return;
  state.apps = state.apps.filter((a) => a.appId !== app.appId);
  setApps(state.apps);
  say(`Deleted ${app.name}.`);
}

function tokenFor(app) {
  $('tokenApp').value = app.appId;
  selectTab('tokens', false);
  $('tokenChannel').focus();
}

// ---- tokens --------------------------------------------------------------------

function demoUrl(t) {
  // The access token carries app, channel, user and expiry, signed: it is all the meeting
  // page needs. It goes in the fragment, which browsers never send to a server (no token
  // in access logs or Referer headers); the page joins at once unless join=0.
  const f = new URLSearchParams({ token: t.token });
  if (!$('demoJoin').checked) f.set('join', '0');
  return `/demo/#${f}`;
}

function updateDemoLink() {
  if (state.lastToken) $('demoLink').href = demoUrl(state.lastToken);
}
$('demoJoin').addEventListener('change', updateDemoLink);

$('tokenForm').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors();
  const appId = $('tokenApp').value;
  const ttlSeconds = Math.round(Number($('tokenTtl').value) * Number($('tokenTtlUnit').value));
  const body = { channelId: $('tokenChannel').value.trim(), userId: $('tokenUser').value.trim(), ttlSeconds };
  const nonce = $('tokenNonce').value.trim();
  if (nonce) body.nonce = nonce;
  const t = await attempt('Mint token', () => api('POST', `${appPath(appId)}/tokens`, body));
  if (!t) return;
  state.lastToken = t;
  const app = state.apps.find((a) => a.appId === t.appId);
  $('tokenFor').textContent = `${t.userId} in ${t.channelId}, app ${app ? app.name : ''} (${t.appId})`;
  $('tokenExpires').textContent = `${fmtTime(t.expiresAt)} (exp ${t.expiresAt})`;
  $('tokenClassic').textContent = t.token;
  updateDemoLink();
  $('tokenResult').hidden = false;
  $('tokenResult').focus();
  say(`Token minted for ${t.userId} in ${t.channelId}${app && !app.enabled ? '; the app is disabled, so joins are refused until it is enabled' : ''}.`);
});

// Pre-fill a user id so the form can be sent straight away.
if (!$('tokenUser').value) $('tokenUser').value = `user${Math.floor(1000 + Math.random() * 9000)}`;
for (const id of ['tokenChannel', 'tokenUser']) {
  $(id).addEventListener('input', () => {
    const v = $(id).value.trim();
    $(id).setCustomValidity(v === '' || ID_PATTERN.test(v) ? '' : 'Use 1-64 letters, digits, underscores or hyphens.');
  });
}

// ---- live ----------------------------------------------------------------------

function stopLive() {
  clearTimeout(state.liveTimer);
  state.liveTimer = null;
}

function startLive() {
  stopLive();
  refreshLive();
}

function scheduleLive() {
  stopLive();
  const every = Number($('liveEvery').value);
  if (every > 0 && !$('panel-live').hidden && state.key) state.liveTimer = setTimeout(refreshLive, every);
}

async function refreshLive() {
  if (state.liveBusy || !state.key) return;
  state.liveBusy = true;
  try {
    const appId = $('liveApp').value;
    const path = appId ? `${appPath(appId)}/channels` : '/v1/admin/channels';
    const data = await attempt('Loading live channels', () => api('GET', path));
    if (data) renderLive(data.channels);
  } finally {
    state.liveBusy = false;
    scheduleLive();
  }
}

$('liveRefresh').addEventListener('click', () => startLive());
$('liveEvery').addEventListener('change', () => {
  say(Number($('liveEvery').value) ? `Refreshing ${$('liveEvery').selectedOptions[0].text}.` : 'Refresh paused.');
  scheduleLive();
});
$('liveApp').addEventListener('change', () => startLive());
document.addEventListener('visibilitychange', () => {
  if (document.hidden) stopLive(); else if (state.key && !$('panel-live').hidden) startLive();
});

/** kbit/s from the growth of a publisher's rtpBytes since the previous refresh. */
function bitrate(key, media, now, seen) {
  if (!media || typeof media.rtpBytes !== 'number') return null;
  seen.add(key);
  const prev = state.live.get(key);
  const grew = prev && media.rtpBytes >= prev.bytes;   // a new publish transport starts again at 0
  if (grew && now - prev.at < 200) return prev.kbps;   // too soon after the last sample to say
  const kbps = grew ? ((media.rtpBytes - prev.bytes) * 8) / (now - prev.at) : null;   // bits per ms = kbit/s
  state.live.set(key, { bytes: media.rtpBytes, at: now, kbps });
  return kbps;
}

function tracksCell(user) {
  if (!user.tracks.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'tracks' }, user.tracks.map((t) =>
    h('li', {}, t, user.muted.includes(t) ? h('span', { class: 'badge warn' }, 'muted') : null)));
}

function renderLive(channels) {
  const now = performance.now();
  const seen = new Set();
  const focusKey = document.activeElement?.dataset?.focusKey;
  const names = new Map(state.apps.map((a) => [a.appId, a.name]));
  channels.sort((a, b) => a.appId.localeCompare(b.appId) || a.channelId.localeCompare(b.channelId));
  let users = 0;
  const cards = channels.map((ch) => {
    users += ch.users.length;
    const headingId = `ch-${ch.appId}-${ch.channelId}`;
    const rows = ch.users.map((u) => {
      const kbps = bitrate(`${ch.appId}/${ch.channelId}/${u.userId}`, u.media, now, seen);
      return h('tr', { 'data-user-id': u.userId },
        h('th', { scope: 'row', 'data-label': 'User' }, u.userId,
          u.userName && u.userName !== u.userId ? h('span', { class: 'muted' }, ` (${u.userName})`) : null),
        h('td', { 'data-label': 'Role' }, u.role),
        h('td', { 'data-label': 'Platform' }, u.platform),
        h('td', { 'data-label': 'Tracks' }, tracksCell(u)),
        h('td', { 'data-label': 'Media' }, u.media
          ? `${u.media.state}${u.media.transport ? ` over ${u.media.transport.toUpperCase()}` : ''}, ` +
            `${u.media.rtpPackets.toLocaleString()} packets` : h('span', { class: 'muted' }, '—')),
        h('td', { 'data-label': 'Bitrate', class: 'num', 'data-kbps': kbps === null ? '' : kbps.toFixed(1) },
          kbps === null ? h('span', { class: 'muted' }, '—') : `${Math.round(kbps).toLocaleString()} kbps`),
        h('td', { 'data-label': 'Connection' }, u.online
          ? h('span', { class: 'badge on' }, 'online') : h('span', { class: 'badge warn' }, 'reconnecting')),
        h('td', { 'data-label': 'Actions' },
          h('button', {
            type: 'button', class: 'quiet danger-text', 'data-focus-key': `kick:${ch.appId}/${ch.channelId}/${u.userId}`,
            on: { click: () => kick(ch, u.userId) },
          }, 'Kick', srOnly(` ${u.userId} from ${ch.channelId}`))));
    });
    return h('article', { class: 'card channel', 'aria-labelledby': headingId, 'data-channel-id': ch.channelId, 'data-app-id': ch.appId },
      h('header', {},
        h('div', {},
          h('h2', { id: headingId }, ch.channelId),
          h('p', { class: 'muted' }, `${names.get(ch.appId) || 'app'} (${ch.appId}) · ${ch.profile}` +
            `${ch.h5Compatible ? ' · H5-compatible' : ''} · since ${fmtTime(ch.createdAt)} · ` +
            `${ch.users.length} user${ch.users.length === 1 ? '' : 's'}`)),
        h('button', {
          type: 'button', class: 'quiet danger-text', 'data-focus-key': `close:${ch.appId}/${ch.channelId}`,
          on: { click: () => closeChannel(ch) },
        }, 'Close channel', srOnly(` ${ch.channelId}`))),
      h('table', { class: 'grid' },
        h('caption', { class: 'visually-hidden' }, `Users in ${ch.channelId}`),
        h('thead', {}, h('tr', {}, ['User', 'Role', 'Platform', 'Tracks', 'Media', 'Bitrate', 'Connection', 'Actions']
          .map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows)));
  });
  for (const k of state.live.keys()) if (!seen.has(k)) state.live.delete(k);
  $('channels').replaceChildren(...cards);
  for (const t of $('channels').querySelectorAll('table')) keepTableRoles(t);
  $('liveEmpty').hidden = channels.length > 0;
  $('liveSummary').textContent = `${channels.length} channel${channels.length === 1 ? '' : 's'}, ` +
    `${users} user${users === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
  if (/^(kick|close):/.test(focusKey || '')) ($('channels').querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) || $('panel-live')).focus();
}

async function kick(ch, userId) {
  clearErrors();
  const ok = await confirmAction(`Kick ${userId}?`,
    `${userId} is removed from ${ch.channelId} (their app gets 0x02010105, reason "kicked"). They can join again with a valid token.`,
    'Kick user');
  if (!ok) return;
  const done = await attempt(`Kick ${userId}`, () =>
    api('POST', `${appPath(ch.appId)}/channels/${encodeURIComponent(ch.channelId)}/users/${encodeURIComponent(userId)}/kick`));
  if (!done) return;
  say(`Kicked ${userId} from ${ch.channelId}.`);
  startLive();
}

async function closeChannel(ch) {
  clearErrors();
  const ok = await confirmAction(`Close ${ch.channelId}?`,
    `Everyone in ${ch.channelId} is removed (reason "channel-closed").`, 'Close channel');
  if (!ok) return;
  const done = await attempt(`Close ${ch.channelId}`, () =>
    api('DELETE', `${appPath(ch.appId)}/channels/${encodeURIComponent(ch.channelId)}`));
  if (!done) return;
  say(`Closed ${ch.channelId}.`);
  startLive();
}

// ---- start -----------------------------------------------------------------------

const saved = sessionStorage.getItem(KEY_SLOT);
if (saved) signIn(saved, false);
else $('adminKey').focus();
