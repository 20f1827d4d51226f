// ui.js — small DOM helpers. Text is always set as text, never as HTML.

/**
 * Creates an element. attrs: "class", "text", "dataset" (object), "on"
 * (event → handler), booleans as properties where the DOM has them, and
 * everything else as an attribute. Children: nodes, strings, arrays; null
 * and false are skipped.
 */
export function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'required' || k === 'selected' || k === 'multiple') e[k] = Boolean(v);
    else if (k === 'value') e.value = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, kids);
  return e;
}

function append(e, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(e, k);
    else e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

let uid = 0;
/** A unique id for label/for pairs. */
export function id(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled field: returns {wrap, input}. */
export function field(label, input, hint) {
  input.id = input.id || id('f');
  const hintEl = hint ? h('p', { class: 'hint', id: input.id + '-hint', text: hint }) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const isCheck = input.type === 'checkbox';
  const lab = h('label', { for: input.id, text: label });
  const wrap = isCheck ? h('div', { class: 'field check' }, input, lab, hintEl) : h('div', { class: 'field' }, lab, input, hintEl);
  return { wrap, input };
}

/** A <select> with [value, text] options. */
export function select(options, value) {
  const s = h('select');
  for (const [v, t] of options) s.append(h('option', { value: v, text: t, selected: v === value }));
  if (value !== undefined) s.value = value;
  return s;
}

/** An error alert (role=alert, data-testid=error); extra nodes follow the text. */
export function errorBox(message, ...extra) {
  return h('div', { class: 'alert error', role: 'alert', 'data-testid': 'error' }, h('p', { text: message }), extra);
}

/** Replaces what a slot shows. */
export function show(slot, ...nodes) {
  slot.replaceChildren(...nodes.flat().filter(Boolean));
}

/** Says something in the page's polite live region. */
export function announce(message) {
  const s = document.getElementById('status');
  if (s) s.textContent = message;
}

/** Asks for confirmation in a modal <dialog>; resolves true or false. */
export function confirmDialog(title, message, confirmLabel) {
  return new Promise((resolve) => {
    const titleId = id('dlg');
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId, text: title }),
      h('p', { text: message }));
    const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel' });
    const ok = h('button', { type: 'button', class: 'danger', text: confirmLabel });
    dlg.append(h('div', { class: 'actions' }, cancel, ok));
    const done = (v) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    cancel.addEventListener('click', () => done(false));
    ok.addEventListener('click', () => done(true));
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

/** A date-time in the reader's locale, or the input as it is. */
export function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso || '') : d.toLocaleString();
}

/** m:ss from seconds. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The page's heading: focuses it so screen readers hear the new page. */
export function pageHeading(text) {
  return h('h1', { tabindex: '-1', id: 'page-title', text });
}

/** A button that runs an async action with the button disabled meanwhile. */
export function busy(button, fn) {
  return async (...args) => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      return await fn(...args);
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  };
}
