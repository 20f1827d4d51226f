// services.js — Services: create, list, edit, attach and detach operators,
// switch encryption with a customer public key on or off.

import { h, field, select, errorBox, show, announce, confirmDialog, when, pageHeading, busy } from './ui.js';

const NONE = 'None \u2014 sealed with the server key';

/**
 * The plain-language warning shown when a customer key is chosen, after
 * the reference documentation and docs/security.md.
 */
function encryptionWarning(service) {
  const items = [
    h('li', {}, h('strong', { text: 'Keep the private key safe. ' }),
      'Transcripts and operator results of this Service are sealed with your public key the moment they are made; only the matching private key opens them. convoseal cannot decrypt them and cannot recover a lost private key: without it, the data is gone for good.'),
    h('li', { text: 'You become responsible for answering data-subject requests (access, deletion) for this content, because the server no longer has access to it.' }),
    h('li', {}, h('strong', { text: 'Data logging: ' }),
      service && service.data_logging
        ? 'data logging is ON for this Service: the server also keeps a copy sealed with its own key, which the server can read.'
        : 'if the operator of this server turns data logging on for the Service, the server also keeps a copy it can read (sealed with the server key).'),
    h('li', {}, h('strong', { text: 'Language model: ' }),
      service && service.language_model
        ? 'the language model is ON for this Service: sentences are sent in plain text to the model endpoint the operator configured, and whoever runs it can read them.'
        : 'generative operators stay off unless the operator turns the language model on for the Service; then sentences go in plain text to that model.'),
    h('li', { text: 'Changing the key affects new transcripts only; existing ones stay sealed with the key they were made with.' }),
  ];
  return h('div', { class: 'alert warn', 'data-testid': 'encryption-warning' },
    h('p', {}, h('strong', { text: 'Encryption with your key is on for this selection.' })),
    h('ul', {}, items));
}

async function keyOptions(api) {
  const keys = await api.all('/v1/Credentials/PublicKeys', 'credentials');
  return [['', NONE], ...keys.map((k) => [k.sid, `${k.friendly_name || k.sid} (${k.fingerprint})`])];
}

/** The fields shared by the create and edit forms. */
function serviceFields(options, service) {
  const unique = h('input', { type: 'text', name: 'unique_name', required: true, maxlength: '64', pattern: '[A-Za-z0-9._\\-]{1,64}', value: service ? service.unique_name : '' });
  const friendly = h('input', { type: 'text', name: 'friendly_name', maxlength: '64', value: service ? service.friendly_name || '' : '' });
  const autoRed = h('input', { type: 'checkbox', name: 'auto_redaction', checked: service ? service.auto_redaction : true });
  const mediaRed = h('input', { type: 'checkbox', name: 'media_redaction', checked: service ? service.media_redaction : false });
  const key = select(options, service ? service.encryption_credential_sid || '' : '');
  const warning = h('div', { class: 'slot' });
  const syncWarning = () => show(warning, key.value ? encryptionWarning(service) : null);
  key.addEventListener('change', syncWarning);
  autoRed.addEventListener('change', () => {
    if (!autoRed.checked) mediaRed.checked = false;
  });
  mediaRed.addEventListener('change', () => {
    if (mediaRed.checked) autoRed.checked = true;
  });
  syncWarning();
  const nodes = [
    h('div', { class: 'grid2' },
      field('Unique name', unique, 'Letters, digits, ".", "-" or "_"').wrap,
      field('Friendly name', friendly).wrap),
    h('fieldset', {}, h('legend', { text: 'Redaction' }),
      field('Auto-redaction', autoRed, 'Redact personal information in transcripts and results').wrap,
      field('Media redaction', mediaRed, 'Also redact the recording (needs auto-redaction)').wrap),
    field('Encryption key', key, 'Seal transcripts and results with one of your public keys').wrap,
    warning,
  ];
  const params = () => ({
    UniqueName: unique.value.trim(),
    FriendlyName: friendly.value,
    AutoRedaction: autoRed.checked,
    MediaRedaction: mediaRed.checked,
    EncryptionCredentialSid: key.value,
  });
  return { nodes, params, unique };
}

export async function servicesPage(main, ctx) {
  const { api } = ctx;
  const errors = h('div', { class: 'slot' });
  const tbody = h('tbody');
  const table = h('table', { class: 'data', 'data-testid': 'services-table' },
    h('caption', { class: 'visually-hidden', text: 'Services' }),
    h('thead', {}, h('tr', {}, ['Unique name', 'SID', 'Redaction', 'Encryption', 'Operators', 'Created'].map((c) => h('th', { scope: 'col', text: c })))),
    tbody);
  const options = await keyOptions(api);
  const f = serviceFields(options, null);
  const submit = h('button', { type: 'submit', text: 'Create service' });
  const form = h('form', { class: 'card', 'data-testid': 'service-form', 'aria-labelledby': 'new-h' },
    h('h2', { id: 'new-h', text: 'Create a Service' }), f.nodes, h('div', { class: 'actions' }, submit));

  const load = async () => {
    const services = await api.all('/v2/Services', 'services');
    show(tbody, services.length === 0 ? h('tr', {}, h('td', { colspan: '6', class: 'muted', text: 'No Services yet.' })) : services.map((s) =>
      h('tr', { 'data-testid': 'service-row', 'data-sid': s.sid },
        h('td', {}, h('a', { href: `#/services/${s.sid}`, text: s.unique_name })),
        h('td', { class: 'mono', text: s.sid }),
        h('td', { text: s.auto_redaction ? (s.media_redaction ? 'transcript and media' : 'transcript') : 'off' }),
        h('td', { text: s.encryption_credential_sid ? `your key ${s.encryption_credential_sid}` : 'server key' }),
        h('td', { text: String((s.read_only_attached_operator_sids || []).length) }),
        h('td', { text: when(s.date_created) }))));
  };
  form.addEventListener('submit', busy(submit, async (e) => {
    e.preventDefault();
    show(errors);
    const p = f.params();
    if (!p.UniqueName) {
      show(errors, errorBox('Enter a unique name for the Service.'));
      f.unique.focus();
      return;
    }
    if (!p.EncryptionCredentialSid) delete p.EncryptionCredentialSid;
    try {
      const s = await api.post('/v2/Services', p);
      announce(`Created ${s.sid}`);
      location.hash = `#/services/${s.sid}`;
    } catch (err) {
      show(errors, errorBox(err.message));
    }
  }));
  main.append(pageHeading('Services'), errors,
    h('section', { 'aria-labelledby': 'list-h' }, h('h2', { id: 'list-h', text: 'Your Services' }), table), form);
  await load();
}

export async function servicePage(main, ctx, sid) {
  const { api } = ctx;
  const errors = h('div', { class: 'slot' });
  const [service, options, operators] = await Promise.all([
    api.get(`/v2/Services/${sid}`),
    keyOptions(api),
    api.all('/v2/Operators', 'operators'),
  ]);
  const byId = new Map(operators.map((o) => [o.sid, o]));
  const f = serviceFields(options, service);
  const save = h('button', { type: 'submit', text: 'Save service' });
  const form = h('form', { class: 'card', 'data-testid': 'service-form', 'aria-labelledby': 'edit-h' },
    h('h2', { id: 'edit-h', text: 'Settings' }), f.nodes, h('div', { class: 'actions' }, save));
  form.addEventListener('submit', busy(save, async (e) => {
    e.preventDefault();
    show(errors);
    const p = f.params();
    const turningOff = service.encryption_credential_sid && !p.EncryptionCredentialSid;
    if (turningOff && !(await confirmDialog('Stop encrypting with your key?', 'New transcripts of this Service will be sealed with the server key, which the server can read. Existing transcripts stay sealed with your key.', 'Use the server key'))) {
      return;
    }
    try {
      const s = await api.post(`/v2/Services/${sid}`, p);
      Object.assign(service, s);
      announce('Saved');
      show(errors, h('p', { class: 'alert ok', role: 'status', text: 'Saved.' }));
    } catch (err) {
      show(errors, errorBox(err.message));
    }
  }));

  const list = h('ul', { class: 'operators' });
  const attachSel = h('select');
  const attach = h('button', { type: 'button', text: 'Attach operator' });
  const draw = () => {
    const attached = service.read_only_attached_operator_sids || [];
    show(list, attached.length === 0 ? h('li', { class: 'muted', text: 'No operators attached.' }) : attached.map((op) => {
      const o = byId.get(op);
      const detach = h('button', { type: 'button', class: 'secondary small', text: 'Detach', 'aria-label': `Detach ${o ? o.friendly_name : op}` });
      detach.addEventListener('click', busy(detach, async () => {
        show(errors);
        try {
          await api.delete(`/v2/Services/${sid}/Operators/${op}`);
          service.read_only_attached_operator_sids = attached.filter((x) => x !== op);
          announce(`Detached ${o ? o.friendly_name : op}`);
          draw();
        } catch (err) {
          show(errors, errorBox(err.message));
        }
      }));
      return h('li', { 'data-testid': 'operator-row', 'data-sid': op },
        h('span', {}, h('strong', { text: o ? o.friendly_name : op }), ' ', h('span', { class: 'muted mono', text: op }),
          o ? h('span', { class: 'kind', text: o.operator_type }) : null), detach);
    }));
    const available = operators.filter((o) => !attached.includes(o.sid))
      .sort((a, b) => a.friendly_name.localeCompare(b.friendly_name));
    show(attachSel, available.map((o) => h('option', { value: o.sid, text: `${o.friendly_name} (${o.author === 'Twilio' ? 'pre-built' : o.operator_type})` })));
    attach.disabled = available.length === 0;
  };
  attach.addEventListener('click', busy(attach, async () => {
    show(errors);
    const op = attachSel.value;
    if (!op) return;
    try {
      await api.post(`/v2/Services/${sid}/Operators/${op}`);
      service.read_only_attached_operator_sids = [...(service.read_only_attached_operator_sids || []), op];
      announce(`Attached ${byId.get(op) ? byId.get(op).friendly_name : op}`);
      draw();
    } catch (err) {
      show(errors, errorBox(err.message));
    }
  }));
  draw();

  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/services', text: 'Services' }), ' / ', service.unique_name),
    pageHeading(`Service ${service.unique_name}`),
    h('p', { class: 'muted mono', text: sid }),
    errors, form,
    h('section', { class: 'card', 'aria-labelledby': 'ops-h' },
      h('h2', { id: 'ops-h', text: 'Operators' }),
      list,
      h('div', { class: 'inline' }, field('Operator', attachSel).wrap, attach)),
    h('p', {}, h('a', { href: '#/transcripts', text: 'Transcripts of all Services' })));
}
