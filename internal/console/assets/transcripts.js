// transcripts.js — the transcript list (filters, paging) and creation from a
// document URL or an uploaded transcript document, read in this browser and
// sent as a data: URL.

import { h, field, select, errorBox, show, announce, when, pageHeading, busy } from './ui.js';

const STATUSES = ['queued', 'in-progress', 'completed', 'failed', 'canceled'];
const PENDING = ['new', 'queued', 'in-progress'];
const MAX_UPLOAD = 12 * 1024 * 1024; // the API's body limit is 16 MiB, base64 adds a third

function readAsDataURL(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(new Error('the file could not be read'));
    r.readAsDataURL(file);
  });
}

/** A data: URL with a content type convoseal recognises for the file. */
function withType(dataURL, file) {
  const ext = (file.name.split('.').pop() || '').toLowerCase();
  const types = { json: 'application/json', vtt: 'text/vtt', wav: 'audio/wav', mp3: 'audio/mpeg', flac: 'audio/flac' };
  const want = types[ext];
  if (!want) return dataURL;
  return dataURL.replace(/^data:[^;,]*/, `data:${want}`);
}

export async function transcriptsPage(main, ctx) {
  const { api } = ctx;
  const errors = h('div', { class: 'slot' });
  const services = await api.all('/v2/Services', 'services');
  const svcOptions = services.map((s) => [s.sid, `${s.unique_name}${s.encryption_credential_sid ? ' (your key)' : ''}`]);
  const names = new Map(services.map((s) => [s.sid, s.unique_name]));

  // Filters.
  const fService = select([['', 'All Services'], ...svcOptions], '');
  const fStatus = select([['', 'Any status'], ...STATUSES.map((s) => [s, s])], '');
  const apply = h('button', { type: 'submit', text: 'Apply filters' });
  const filters = h('form', { class: 'card inline', 'aria-label': 'Filters' },
    field('Service', fService).wrap, field('Status', fStatus).wrap, apply);

  // List with paging.
  const tbody = h('tbody');
  const table = h('table', { class: 'data', 'data-testid': 'transcripts-table' },
    h('caption', { class: 'visually-hidden', text: 'Transcripts, newest first' }),
    h('thead', {}, h('tr', {}, ['Transcript', 'Service', 'Status', 'Encryption', 'Created'].map((c) => h('th', { scope: 'col', text: c })))),
    tbody);
  const prev = h('button', { type: 'button', class: 'secondary', text: 'Previous page' });
  const next = h('button', { type: 'button', class: 'secondary', text: 'Next page' });
  const pager = h('div', { class: 'pager' }, prev, next);
  const pages = []; // stack of page paths for Previous
  let nextPath = null;
  let watch = 0;
  ctx.onLeave(() => clearTimeout(watch));

  const render = (items) => show(tbody, items.length === 0
    ? h('tr', {}, h('td', { colspan: '5', class: 'muted', text: 'No transcripts match.' }))
    : items.map((t) => h('tr', { 'data-testid': 'transcript-row', 'data-sid': t.sid },
      h('td', {}, h('a', { href: `#/transcripts/${t.sid}`, class: 'mono', text: t.sid })),
      h('td', { text: names.get(t.service_sid) || t.service_sid }),
      h('td', {}, h('span', { class: `badge status-${t.status}`, 'data-testid': 'status', text: t.status })),
      h('td', { text: t.encryption_credential_sid ? 'your key' : 'server key' }),
      h('td', { text: when(t.date_created) }))));

  const loadPage = async (path, params) => {
    show(errors);
    try {
      const p = await api.page(path, 'transcripts', params);
      render(p.items);
      nextPath = p.next;
      next.disabled = !nextPath;
      prev.disabled = pages.length <= 1;
      // While a transcript on the page is still being processed, refresh the page.
      clearTimeout(watch);
      if (p.items.some((t) => PENDING.includes(t.status)) && ctx.current()) {
        watch = setTimeout(() => loadPage(path, params), 2000);
      }
    } catch (err) {
      show(errors, errorBox(err.message));
    }
  };
  const first = () => {
    const params = { PageSize: 20 };
    if (fService.value) params.ServiceSid = fService.value;
    if (fStatus.value) params.Status = fStatus.value;
    const path = `/v2/Transcripts?${new URLSearchParams(params)}`;
    pages.length = 0;
    pages.push(path);
    return loadPage(path);
  };
  next.addEventListener('click', busy(next, async () => {
    if (!nextPath) return;
    pages.push(nextPath);
    await loadPage(nextPath);
  }));
  prev.addEventListener('click', busy(prev, async () => {
    if (pages.length <= 1) return;
    pages.pop();
    await loadPage(pages[pages.length - 1]);
  }));
  filters.addEventListener('submit', busy(apply, async (e) => {
    e.preventDefault();
    await first();
    announce('Filters applied');
  }));

  // Create.
  const cService = select(svcOptions, svcOptions.length ? svcOptions[0][0] : '');
  const url = h('input', { type: 'url', name: 'media_url', placeholder: 'https://example.com/call.json', inputmode: 'url' });
  const file = h('input', { type: 'file', name: 'document', accept: '.json,.vtt,.wav,.mp3,.flac,application/json,text/vtt,audio/*' });
  const customerKey = h('input', { type: 'text', name: 'customer_key', maxlength: '64' });
  const create = h('button', { type: 'submit', text: 'Create transcript', disabled: svcOptions.length === 0 });
  const form = h('form', { class: 'card', 'data-testid': 'transcript-form', 'aria-labelledby': 'new-h' },
    h('h2', { id: 'new-h', text: 'Create a transcript' }),
    svcOptions.length === 0 ? h('p', {}, 'Create a Service first: ', h('a', { href: '#/services', text: 'Services' }), '.') : null,
    field('Service', cService).wrap,
    h('div', { class: 'grid2' },
      field('Document URL', url, 'A transcript document (JSON or WebVTT) or a recording at an http(s) URL').wrap,
      field('Transcript document', file, 'Or upload one: it is read in this browser and sent inline as a data: URL').wrap),
    field('Customer key (optional)', customerKey, 'Your own reference, returned with the transcript').wrap,
    h('div', { class: 'actions' }, create));
  form.addEventListener('submit', busy(create, async (e) => {
    e.preventDefault();
    show(errors);
    let mediaURL = url.value.trim();
    const f = file.files && file.files[0];
    if (f && mediaURL) {
      show(errors, errorBox('Give either a document URL or a file, not both.'));
      return;
    }
    if (f) {
      if (f.size > MAX_UPLOAD) {
        show(errors, errorBox('That file is too large to send inline (at most 12 MiB); give its URL instead.'));
        return;
      }
      try {
        mediaURL = withType(await readAsDataURL(f), f);
      } catch (err) {
        show(errors, errorBox(`Could not read the transcript document: ${err.message}.`));
        return;
      }
    }
    if (!mediaURL) {
      show(errors, errorBox('Give a document URL or choose a transcript document.'));
      return;
    }
    try {
      const t = await api.post('/v2/Transcripts', {
        ServiceSid: cService.value,
        Channel: JSON.stringify({ media_properties: { media_url: mediaURL } }),
        CustomerKey: customerKey.value || undefined,
      });
      form.reset();
      announce(`Created ${t.sid}`);
      await first();
    } catch (err) {
      show(errors, errorBox(err.message));
    }
  }));

  main.append(pageHeading('Transcripts'), errors, filters,
    h('section', { 'aria-labelledby': 'list-h' }, h('h2', { id: 'list-h', text: 'Transcripts' }), table, pager),
    form);
  await first();
}
