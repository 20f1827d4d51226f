// app.js — sign-in and the hash router. The Account SID and Auth Token live
// only in the `session` variable of this module: never in storage or cookies,
// gone when the tab closes or the user signs out.

import { Api, ApiError } from './api.js';
import { h, field, errorBox, show, announce } from './ui.js';
import { keysPage } from './keys.js';
import { servicesPage, servicePage } from './services.js';
import { transcriptsPage } from './transcripts.js';
import { transcriptPage } from './transcript.js';

let session = null; // { api: Api }
let cleanup = null; // the current page's teardown (revokes Blob URLs, drops keys)

const main = document.getElementById('main');
const nav = document.getElementById('nav');

const routes = [
  [/^#\/keys$/, () => keysPage],
  [/^#\/services$/, () => servicesPage],
  [/^#\/services\/(GA[0-9a-fA-F]{32})$/, () => servicePage],
  [/^#\/transcripts$/, () => transcriptsPage],
  [/^#\/transcripts\/(GT[0-9a-fA-F]{32})$/, () => transcriptPage],
];

function signInForm() {
  const sid = h('input', { type: 'text', name: 'account_sid', autocomplete: 'username', required: true, spellcheck: 'false', pattern: 'AC[0-9a-fA-F]{32}' });
  const token = h('input', { type: 'password', name: 'auth_token', autocomplete: 'current-password', required: true });
  const msg = h('div', { class: 'slot' });
  const submit = h('button', { type: 'submit', text: 'Sign in' });
  const form = h('form', { 'data-testid': 'signin', class: 'card narrow', novalidate: true },
    field('Account SID', sid, 'AC followed by 32 hexadecimal digits').wrap,
    field('Auth Token', token).wrap,
    msg,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    show(msg);
    const s = sid.value.trim();
    if (!/^AC[0-9a-fA-F]{32}$/.test(s) || token.value === '') {
      show(msg, h('div', { class: 'alert error', role: 'alert', 'data-testid': 'error' },
        h('p', { text: 'Sign-in failed: enter your Account SID (AC followed by 32 hexadecimal digits) and your Auth Token.' })));
      return;
    }
    submit.disabled = true;
    const api = new Api(s, token.value);
    try {
      await api.get('/v2/Services', { PageSize: 1 });
    } catch (err) {
      submit.disabled = false;
      const why = err instanceof ApiError && err.status === 401 ? 'the Account SID or Auth Token is wrong.' : err.message;
      show(msg, h('div', { class: 'alert error', role: 'alert', 'data-testid': 'error' }, h('p', { text: `Sign-in failed: ${why}` })));
      return;
    }
    token.value = '';
    session = { api };
    nav.hidden = false;
    document.getElementById('account').textContent = s;
    announce('Signed in');
    if (!routes.some(([re]) => re.test(location.hash))) location.hash = '#/transcripts';
    else route();
  });
  return h('section', { class: 'signin', 'aria-labelledby': 'page-title' },
    h('h1', { id: 'page-title', tabindex: '-1', text: 'Sign in to convoseal' }),
    h('p', { class: 'lead', text: 'Use your Account SID and Auth Token. They stay in this tab\u2019s memory only and are sent only to this server\u2019s API.' }),
    form);
}

function signOut() {
  if (cleanup) cleanup();
  cleanup = null;
  session = null;
  nav.hidden = true;
  document.getElementById('account').textContent = '';
  history.replaceState(null, '', location.pathname);
  route();
  announce('Signed out');
}

function markCurrent() {
  for (const a of nav.querySelectorAll('a')) {
    const on = location.hash === a.getAttribute('href') || location.hash.startsWith(a.getAttribute('href') + '/');
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  if (cleanup) cleanup();
  cleanup = null;
  if (!session) {
    show(main, signInForm());
    main.querySelector('input').focus();
    return;
  }
  let page = null;
  let args = [];
  for (const [re, get] of routes) {
    const m = re.exec(location.hash);
    if (m) {
      page = get();
      args = m.slice(1);
      break;
    }
  }
  if (!page) {
    location.hash = '#/transcripts';
    return;
  }
  markCurrent();
  const ctx = { api: session.api, onLeave: (fn) => { cleanup = fn; } };
  show(main);
  try {
    await page(main, ctx, ...args);
  } catch (err) {
    show(main, h('h1', { id: 'page-title', tabindex: '-1', text: 'Something went wrong' }), errorBox(err.message || String(err)));
  }
  const title = document.getElementById('page-title');
  if (title) {
    document.title = `${title.textContent} \u2014 convoseal console`;
    title.focus();
  }
}

document.getElementById('signout').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
route();
