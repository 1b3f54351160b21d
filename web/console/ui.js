// Small DOM helpers of the operator console: element building, announcements for
// screen readers, formatting, the confirmation dialog and copy buttons.

export const $ = (id) => document.getElementById(id);

/** Creates an element; `props` go to properties (or attributes for aria-*, data-*, role). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('aria-') || k.startsWith('data-') || k === 'role') node.setAttribute(k, v === true ? '' : String(v));
    else if (k === 'class') node.className = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else node[k] = v;
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Narrow screens restyle tables as blocks (console.css), which drops their implicit
 * roles in some browsers; explicit roles keep them tables for assistive technology. */
export function keepTableRoles(table) {
  table.setAttribute('role', 'table');
  for (const g of table.querySelectorAll('thead, tbody')) g.setAttribute('role', 'rowgroup');
  for (const r of table.querySelectorAll('tr')) r.setAttribute('role', 'row');
  for (const c of table.querySelectorAll('th')) c.setAttribute('role', c.scope === 'row' ? 'rowheader' : 'columnheader');
  for (const c of table.querySelectorAll('td')) c.setAttribute('role', 'cell');
}

/** A span only screen readers hear: makes "Disable" into "Disable <app name>". */
export const srOnly = (text) => h('span', { class: 'visually-hidden' }, text);

export function say(text) {
  // Clearing first makes a repeated message be announced again.
  $('status').textContent = '';
  requestAnimationFrame(() => { $('status').textContent = text; });
}

export const fmtTime = (unix) => new Date(unix * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const fmtMinutes = (m) => (Math.round(m * 10) / 10).toLocaleString(undefined, { maximumFractionDigits: 1 });

/** Asks before a destructive action; resolves true when confirmed. */
export function confirmAction(title, text, okLabel) {
  const dlg = $('confirmDialog');
  $('confirmTitle').textContent = title;
  $('confirmText').textContent = text;
  $('confirmOk').textContent = okLabel;
  dlg.returnValue = '';
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
  });
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (insecure origin or no permission): copy through a selection.
    const area = h('textarea', { value: text, readOnly: true, class: 'offscreen', 'aria-hidden': 'true' });
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
    return ok;
  }
}

/** Makes every button[data-copy] copy the text of the element it names (data-what names
 * it in the announcement). */
export function installCopyButtons() {
  document.addEventListener('click', async (ev) => {
    const btn = ev.target.closest('button[data-copy]');
    if (!btn) return;
    const text = $(btn.dataset.copy).textContent;
    const ok = await copyText(text);
    say(ok ? `${btn.dataset.what} copied.` : `Could not copy the ${btn.dataset.what}; select it and copy by hand.`);
    if (!ok) getSelection().selectAllChildren($(btn.dataset.copy));
  });
}
