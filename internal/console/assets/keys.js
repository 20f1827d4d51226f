// keys.js — public-key credentials: register (paste or drop a PEM), list
// with fingerprints, delete after confirmation.

import { publicKeyFingerprint } from './crypto.js';
import { h, field, errorBox, show, announce, confirmDialog, when, pageHeading, busy } from './ui.js';

export async function keysPage(main, ctx) {
  const { api } = ctx;
  const errors = h('div', { class: 'slot' });
  const tbody = h('tbody');
  const table = h('table', { class: 'data', 'data-testid': 'keys-table' },
    h('caption', { class: 'visually-hidden', text: 'Registered public keys' }),
    h('thead', {}, h('tr', {}, ['SID', 'Friendly name', 'Fingerprint', 'Created', 'Actions'].map((c) => h('th', { scope: 'col', text: c })))),
    tbody);

  const pem = h('textarea', { name: 'public_key', rows: '8', spellcheck: 'false', required: true, placeholder: '-----BEGIN PUBLIC KEY-----', class: 'mono' });
  const name = h('input', { type: 'text', name: 'friendly_name', maxlength: '64' });
  const preview = h('p', { class: 'hint', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', text: 'Register key' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'reg-h' },
    h('h2', { id: 'reg-h', text: 'Register a public key' }),
    h('p', { class: 'hint', text: 'Paste public_key.pem or drop the file on the box. Only the public key is sent; keep the private key on your machine.' }),
    field('Public key (PEM)', pem).wrap, preview,
    field('Friendly name', name).wrap,
    h('div', { class: 'actions' }, submit));

  const updatePreview = async () => {
    const v = pem.value.trim();
    if (!v) {
      preview.textContent = '';
      return;
    }
    if (/PRIVATE KEY/.test(v)) {
      preview.textContent = 'This is a PRIVATE key. Do not register it: paste the public key (openssl rsa -in private_key.pem -pubout).';
      return;
    }
    try {
      preview.textContent = `Fingerprint: ${await publicKeyFingerprint(v)}`;
    } catch {
      preview.textContent = '';
    }
  };
  pem.addEventListener('input', updatePreview);
  pem.addEventListener('dragover', (e) => {
    e.preventDefault();
    pem.classList.add('drop');
  });
  pem.addEventListener('dragleave', () => pem.classList.remove('drop'));
  pem.addEventListener('drop', async (e) => {
    e.preventDefault();
    pem.classList.remove('drop');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (!f) return;
    if (f.size > 64 * 1024) {
      show(errors, errorBox('That file is too large to be a PEM public key.'));
      return;
    }
    pem.value = await f.text();
    if (!name.value) name.value = f.name.replace(/\.(pem|pub|key)$/i, '');
    updatePreview();
  });

  const load = async () => {
    const keys = await api.all('/v1/Credentials/PublicKeys', 'credentials');
    show(tbody, keys.length === 0 ? h('tr', {}, h('td', { colspan: '5', class: 'muted', text: 'No public keys yet.' })) : keys.map(row));
  };
  const row = (k) => {
    const del = h('button', { type: 'button', class: 'danger small', text: 'Delete', 'aria-label': `Delete key ${k.friendly_name || k.sid}` });
    del.addEventListener('click', async () => {
      const ok = await confirmDialog('Delete this public key?', `${k.friendly_name || k.sid} (${k.fingerprint}). Services that use it must be switched to another key first. Artifacts already sealed with it stay readable with the private key.`, 'Delete key');
      if (!ok) return;
      try {
        await api.delete(`/v1/Credentials/PublicKeys/${k.sid}`);
        announce(`Deleted ${k.sid}`);
        await load();
      } catch (err) {
        show(errors, errorBox(err.message));
      }
    });
    return h('tr', { 'data-testid': 'key-row', 'data-sid': k.sid },
      h('td', { class: 'mono', text: k.sid }),
      h('td', { text: k.friendly_name || '' }),
      h('td', { class: 'mono', 'data-testid': 'fingerprint', text: k.fingerprint || '' }),
      h('td', { text: when(k.date_created) }),
      h('td', {}, del));
  };

  form.addEventListener('submit', busy(submit, async (e) => {
    e.preventDefault();
    show(errors);
    if (!pem.value.trim()) {
      show(errors, errorBox('Paste a public key (PEM) first.'));
      pem.focus();
      return;
    }
    try {
      const k = await api.post('/v1/Credentials/PublicKeys', { PublicKey: pem.value, FriendlyName: name.value || undefined });
      form.reset();
      preview.textContent = '';
      announce(`Registered ${k.sid} with fingerprint ${k.fingerprint}`);
      await load();
    } catch (err) {
      show(errors, errorBox(err.message));
    }
  }));

  main.append(pageHeading('Public keys'),
    h('p', { class: 'lead', text: 'Services sealed with one of these keys can be read only with its private key \u2014 in this browser or with convoseal decrypt.' }),
    errors, form,
    h('section', { 'aria-labelledby': 'list-h' }, h('h2', { id: 'list-h', text: 'Registered keys' }), table));
  await load();
}
