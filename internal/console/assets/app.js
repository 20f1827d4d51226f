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
let cleanups = []; // the current page's teardowns (stop polling, revoke Blob URLs, drop keys)
let generation = 0; // counts navigations

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

function leave() {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // a teardown that fails must not keep the next page from showing
    }
  }
}

function signOut() {
  leave();
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
  leave();
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
  // Each navigation renders into a view of its own: a page still loading
  // when the user moves on fills a view that is no longer shown.
  generation += 1;
  const mine = generation;
  const view = h('div', { class: 'view' });
  const ctx = {
    api: session.api,
    current: () => mine === generation,
    onLeave: (fn) => {
      if (mine === generation) cleanups.push(fn);
      else fn();
    },
  };
  show(main, view);
  try {
    await page(view, ctx, ...args);
  } catch (err) {
    show(view, h('h1', { id: 'page-title', tabindex: '-1', text: 'Something went wrong' }), errorBox(err.message || String(err)));
  }
  if (mine !== generation) return;
  const title = document.getElementById('page-title');
  if (title) {
    document.title = `${title.textContent} \u2014 convoseal console`;
    title.focus();
  }
}

document.getElementById('signout').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
route();
