// transcript.js — one transcript: its conversation by speaker, its operator
// results beside it and, for audio transcripts, its recording in step with
// the words. Customer-key artifacts are downloaded from their signed
// locations and decrypted here with the private key the user loads; the key
// stays a non-extractable CryptoKey in this page's memory.

import { ApiError, DownloadError, download, samePath } from './api.js';
import { importPrivateKey, openEnvelope, parseMatDesc, KeyFileError, DecryptError } from './crypto.js';
import { h, field, errorBox, show, announce, when, clock, pageHeading, busy } from './ui.js';
import { renderResult } from './results.js';

const TEXT = {
  before: 'Encrypted \u2014 load your private key to read it in this browser',
  after: 'Decrypted in this browser \u2014 your private key never leaves it',
  server: 'Not encrypted with your key \u2014 sealed by the server',
};

export async function transcriptPage(main, ctx, sid) {
  const { api } = ctx;
  const t = await api.get(`/v2/Transcripts/${sid}`);
  const encrypted = Boolean(t.encryption_credential_sid);
  const state = { key: null, fingerprint: '', blobURL: null, audio: null };
  ctx.onLeave(() => {
    state.key = null;
    if (state.blobURL) URL.revokeObjectURL(state.blobURL);
    state.blobURL = null;
  });

  const indicator = h('p', { class: `indicator ${encrypted ? 'locked' : 'server'}`, 'data-testid': 'decrypt-indicator', role: 'status' },
    encrypted ? TEXT.before : TEXT.server);
  const errors = h('div', { class: 'slot' });
  const media = h('div', { class: 'slot media' });
  const conversation = h('ol', { class: 'conversation', 'data-testid': 'conversation', 'aria-label': 'Conversation' });
  const results = h('div', { class: 'results', 'data-testid': 'operator-results' });

  const redacted = h('input', { type: 'checkbox', name: 'redacted', checked: t.redaction });
  const controls = h('form', { class: 'card keyform', 'aria-label': encrypted ? 'Decryption' : 'View options' });
  const fail = (node) => show(errors, node);

  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/transcripts', text: 'Transcripts' }), ' / ', sid),
    pageHeading(`Transcript ${sid}`),
    h('dl', { class: 'facts' },
      fact('Status', h('span', { class: `badge status-${t.status}`, text: t.status })),
      fact('Service', h('a', { href: `#/services/${t.service_sid}`, text: t.service_sid })),
      fact('Created', when(t.date_created)),
      t.duration ? fact('Duration', clock(t.duration)) : null,
      fact('Redaction', t.redaction ? 'on' : 'off'),
      fact('Encryption', encrypted ? `your public key ${t.encryption_credential_sid}` : 'server key'),
      t.failure_reason ? fact('Failure', t.failure_reason) : null),
    indicator,
    controls,
    errors,
    media,
    h('div', { class: 'split' },
      h('section', { class: 'pane', 'aria-labelledby': 'conv-h' }, h('h2', { id: 'conv-h', text: 'Conversation' }), conversation),
      h('section', { class: 'pane', 'aria-labelledby': 'res-h' }, h('h2', { id: 'res-h', text: 'Operator results' }), results)),
  );

  if (t.status !== 'completed') {
    const final = ['failed', 'canceled', 'error'].includes(t.status);
    show(controls, h('p', { text: final ? `This transcript is ${t.status}; it has no sentences or results.` : `This transcript is ${t.status}. This page shows it as soon as it completes.` }));
    if (!final) {
      // Watch the status, then show the transcript (a fresh render of this route).
      const timer = setInterval(async () => {
        try {
          const now = await api.get(`/v2/Transcripts/${sid}`);
          if (now.status !== t.status && ctx.current()) {
            clearInterval(timer);
            window.dispatchEvent(new HashChangeEvent('hashchange'));
          }
        } catch {
          // keep watching: a transient error
        }
      }, 1500);
      ctx.onLeave(() => clearInterval(timer));
    }
    return;
  }

  const participants = speakers(t.channel);
  const draw = (doc, res) => {
    const sentences = (doc.sentences || []).slice().sort((a, b) => a.sentence_index - b.sentence_index);
    renderConversation(conversation, sentences, participants, state);
    show(results, res.length === 0 ? h('p', { class: 'muted', text: 'No operator results.' }) : res.map((r) => renderResult(r, sentences, jumpTo)));
  };

  if (!encrypted) {
    const load = async () => {
      show(errors);
      try {
        const red = redacted.checked;
        const [sentences, res] = await Promise.all([
          api.all(`/v2/Transcripts/${sid}/Sentences`, 'sentences', { Redacted: red, WordTimestamps: true }),
          api.all(`/v2/Transcripts/${sid}/OperatorResults`, 'operator_results', { Redacted: red }),
        ]);
        draw({ sentences }, res);
        await loadServerMedia(api, sid, red, media, state, fail);
        announce('Transcript loaded');
      } catch (err) {
        fail(errorBox(err.message));
      }
    };
    show(controls, field('Redacted', redacted, 'Show the redacted transcript and results').wrap);
    redacted.addEventListener('change', load);
    await load();
    return;
  }

  // Customer key: the private key is read from a file in the browser.
  const file = h('input', { type: 'file', name: 'private_key', accept: '.pem,.key,.txt,application/x-pem-file' });
  const pass = h('input', { type: 'password', name: 'passphrase', autocomplete: 'off' });
  const go = h('button', { type: 'submit', text: 'Decrypt' });
  show(controls,
    h('div', { class: 'grid3' },
      field('Private key file', file, 'PKCS #8 or PKCS #1 PEM; passphrase-protected PKCS #8 accepted. It is read here and never uploaded.').wrap,
      field('Passphrase', pass, 'Only for a passphrase-protected key').wrap,
      field('Redacted', redacted, 'Decrypt the redacted variant').wrap),
    h('div', { class: 'actions' }, go));

  const decryptAll = async () => {
    show(errors);
    const red = redacted.checked;
    let sentencesLoc;
    let resultLocs;
    try {
      [sentencesLoc, resultLocs] = await Promise.all([
        api.get(`/v2/Transcripts/${sid}/Sentences/Encrypted`, { Redacted: red }),
        api.get(`/v2/Transcripts/${sid}/OperatorResults/Encrypted`, { Redacted: red }),
      ]);
    } catch (err) {
      fail(errorBox(err.message));
      return;
    }
    try {
      const doc = await openLocation(local(sentencesLoc.location, sentencesLoc.url), state);
      const res = [];
      for (const loc of resultLocs.locations || []) res.push(await openLocation(local(loc, resultLocs.url), state));
      draw(doc, res);
      indicator.textContent = TEXT.after;
      indicator.className = 'indicator unlocked';
      announce('Decrypted in this browser');
      await loadSealedMedia(api, sid, red, media, state, fail, refetch);
    } catch (err) {
      // Show nothing of a failed attempt, and no earlier plaintext beside its error.
      show(conversation);
      show(results);
      show(media);
      state.audio = null;
      indicator.textContent = TEXT.before;
      indicator.className = 'indicator locked';
      fail(describe(err, refetch, state.fingerprint));
    }
  };
  const refetch = h('button', { type: 'button', class: 'secondary', text: 'Fetch new links' });
  refetch.addEventListener('click', busy(refetch, decryptAll));

  controls.addEventListener('submit', busy(go, async (e) => {
    e.preventDefault();
    show(errors);
    const f = file.files && file.files[0];
    if (!f) {
      fail(errorBox('Could not read the private key: choose your private key file first.'));
      return;
    }
    if (f.size > 64 * 1024) {
      fail(errorBox('Could not read the private key: the file is larger than a PEM key can be (64 KiB).'));
      return;
    }
    try {
      const k = await importPrivateKey(await f.text(), pass.value);
      state.key = k.key;
      state.fingerprint = k.fingerprint;
      pass.value = '';
    } catch (err) {
      state.key = null;
      if (err instanceof KeyFileError && err.kind === 'passphrase') {
        fail(errorBox('Wrong passphrase: the private key file did not open with it. Check the passphrase and try again.'));
      } else {
        fail(errorBox(`Could not read the private key: ${err.message}.`));
      }
      return;
    }
    await decryptAll();
  }));
  redacted.addEventListener('change', () => {
    if (state.key) decryptAll();
  });
}

function fact(term, value) {
  return [h('dt', { text: term }), h('dd', {}, value)];
}

/** Maps media_channel → speaker name from the Channel's participants. */
function speakers(channel) {
  const out = new Map();
  const ps = channel && Array.isArray(channel.participants) ? channel.participants : [];
  for (const p of ps) {
    const n = Number(p.channel_participant);
    const name = p.full_name || p.role || p.user_id;
    if (Number.isFinite(n) && name) out.set(n, String(name));
  }
  return out;
}

/**
 * A location on the API's own origin (the embedded blob store) is fetched
 * from this page's origin, so that the console also works when it is opened
 * under another name for the same server than --public-url; locations
 * elsewhere (S3) are used as they are.
 */
function local(loc, apiURL) {
  try {
    const l = new URL(loc);
    if (apiURL && l.origin === new URL(apiURL).origin && l.origin !== location.origin) return samePath(loc);
  } catch {
    // not a URL: leave it to the download to fail
  }
  return loc;
}

/** Downloads and opens one location with the loaded key; returns its JSON. */
async function openLocation(loc, state) {
  const d = await download(loc);
  const desc = parseMatDesc(d.matdesc);
  if (desc.fingerprint && state.fingerprint && desc.fingerprint !== state.fingerprint) {
    const e = new DecryptError('wrong-key', 'fingerprint mismatch');
    e.expected = desc;
    throw e;
  }
  let plain;
  try {
    plain = await openEnvelope(state.key, d.body, d.key, d.iv);
  } catch (err) {
    if (err instanceof DecryptError) err.expected = desc;
    throw err;
  }
  try {
    return JSON.parse(new TextDecoder().decode(plain));
  } catch {
    throw new DecryptError('malformed', 'the decrypted document is not JSON');
  } finally {
    plain.fill(0);
  }
}

/** The contract's plain-language message for a failure to open. */
function describe(err, refetch, loaded = '') {
  if (err instanceof DownloadError) {
    if (err.status === 403) {
      return errorBox('The download link has expired or was refused. Links to encrypted data are valid for a limited time: fetch new links to try again.', refetch);
    }
    return errorBox(`The encrypted data could not be downloaded: ${err.message}.`, refetch);
  }
  if (err instanceof DecryptError) {
    const state = err.expected || {};
    switch (err.kind) {
      case 'wrong-key': {
        const want = state.fingerprint ? ` They were encrypted for the key ${state.fingerprint}${state.credential_sid ? ` (${state.credential_sid})` : ''}` : '';
        const got = loaded ? `${want ? ';' : ''} the file you loaded is ${loaded}` : '';
        return errorBox(`This private key does not match the key these results were encrypted with.${want}${got}${want || got ? '.' : ''} Load the private key that belongs to that public key.`);
      }
      case 'tampered':
        return errorBox('The encrypted data failed its integrity check: it was changed or truncated after convoseal sealed it, so nothing of it is shown.');
      default:
        return errorBox(`The encrypted data could not be opened: ${err.message}. If the blob store is S3, its CORS rules must expose the x-amz-meta-x-amz-key, x-amz-meta-x-amz-iv and x-amz-meta-x-amz-matdesc headers (see docs/console.md).`);
    }
  }
  if (err instanceof ApiError) return errorBox(err.message);
  return errorBox(`Something went wrong: ${err.message || err}`);
}

/** Where the user wants to look: focuses the sentence with that index. */
function jumpTo(index) {
  const s = document.querySelector(`[data-testid="sentence"][data-index="${Number(index)}"]`);
  if (s) {
    s.scrollIntoView({ block: 'center' });
    s.focus();
  }
}

/**
 * Renders sentences. Word timings, when present, wrap the words of the text
 * in spans (the text itself is unchanged) so playback can highlight them.
 */
function renderConversation(list, sentences, participants, state) {
  const channels = [...new Set(sentences.map((s) => s.media_channel))].sort();
  const items = sentences.map((s) => {
    const ch = Number(s.media_channel);
    const speaker = participants.get(ch) || `Speaker ${ch}`;
    const side = channels.indexOf(s.media_channel) % 2 === 0 ? 'left' : 'right';
    const start = Number(s.start_time);
    const seek = h('button', { type: 'button', class: 'time', text: clock(start), 'aria-label': `Play from ${clock(start)}`, hidden: !state.audio });
    const li = h('li', {
      class: `sentence ${side}`, 'data-testid': 'sentence', tabindex: '-1',
      dataset: { channel: String(ch), index: String(s.sentence_index), start: String(start), end: String(Number(s.end_time)) },
    },
    h('div', { class: 'meta' }, h('span', { class: 'speaker', 'data-testid': 'speaker', text: speaker }), seek),
    textWithWords(s));
    const play = () => {
      if (!state.audio) return;
      state.audio.currentTime = start;
      state.audio.play().catch(() => {});
    };
    seek.addEventListener('click', (e) => {
      e.stopPropagation();
      play();
    });
    li.addEventListener('click', (e) => {
      if (window.getSelection && String(window.getSelection())) return; // selecting text, not seeking
      if (e.target.closest('a,button')) return;
      play();
    });
    return li;
  });
  show(list, items.length ? items : h('li', { class: 'muted', text: 'No sentences.' }));
  if (state.audio) syncWithAudio(state.audio, list);
}

function textWithWords(s) {
  const text = String(s.transcript || '');
  const p = h('p', { class: 'text', 'data-testid': 'sentence-text' });
  const words = Array.isArray(s.words) ? s.words : [];
  const lower = text.toLowerCase();
  const spans = [];
  let at = 0;
  for (const w of words) {
    const word = String(w.word || '').toLowerCase();
    if (!word) continue;
    const i = lower.indexOf(word, at);
    if (i < 0) continue;
    spans.push([i, i + word.length, Number(w.start_time), Number(w.end_time)]);
    at = i + word.length;
  }
  if (spans.length === 0) {
    p.textContent = text;
    return p;
  }
  let pos = 0;
  for (const [a, b, st, en] of spans) {
    if (a > pos) p.append(text.slice(pos, a));
    p.append(h('span', { class: 'word', dataset: { start: String(st), end: String(en) }, text: text.slice(a, b) }));
    pos = b;
  }
  if (pos < text.length) p.append(text.slice(pos));
  return p;
}

/** Highlights the sentence and word being played (aria-current on the sentence). */
function syncWithAudio(audio, list) {
  let current = null;
  let word = null;
  const update = () => {
    const t = audio.currentTime;
    let found = null;
    for (const li of list.querySelectorAll('[data-testid="sentence"]')) {
      if (t >= Number(li.dataset.start) && t < Number(li.dataset.end)) {
        found = li;
        break;
      }
    }
    if (found !== current) {
      if (current) current.removeAttribute('aria-current');
      if (found) {
        found.setAttribute('aria-current', 'true');
        if (!audio.paused) found.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      }
      current = found;
    }
    let w = null;
    if (found) {
      for (const sp of found.querySelectorAll('.word')) {
        if (t >= Number(sp.dataset.start) && t < Number(sp.dataset.end)) {
          w = sp;
          break;
        }
      }
    }
    if (w !== word) {
      if (word) word.classList.remove('active');
      if (w) w.classList.add('active');
      word = w;
    }
  };
  audio.ontimeupdate = update;
  audio.onseeked = update;
  update();
}

function attachAudio(media, state, blob, note) {
  if (state.blobURL) URL.revokeObjectURL(state.blobURL);
  state.blobURL = URL.createObjectURL(blob);
  const audio = h('audio', { controls: true, preload: 'metadata', 'data-testid': 'recording', src: state.blobURL, 'aria-describedby': 'rec-note' });
  state.audio = audio;
  show(media, h('section', { class: 'card recording', 'aria-labelledby': 'rec-h' },
    h('h2', { id: 'rec-h', text: 'Recording' }), audio, h('p', { class: 'hint', id: 'rec-note', text: note })));
  for (const b of document.querySelectorAll('.sentence .time')) b.hidden = false;
  syncWithAudio(audio, document.querySelector('[data-testid="conversation"]'));
}

/** The recording of a server-key transcript, fetched with auth as a Blob. */
async function loadServerMedia(api, sid, redacted, media, state, fail) {
  let m;
  try {
    m = await api.get(`/v2/Transcripts/${sid}/Media`, { Redacted: redacted });
  } catch {
    return; // no recording resource: a document transcript
  }
  if (!m || !m.media_url) {
    show(media);
    return;
  }
  try {
    const blob = await api.blob(samePath(m.media_url));
    attachAudio(media, state, new Blob([blob], { type: 'audio/wav' }), redacted ? 'The redacted recording.' : 'The original recording.');
  } catch (err) {
    fail(errorBox(`The recording could not be loaded: ${err.message}`));
  }
}

/** The recording of a customer-key transcript, decrypted here. */
async function loadSealedMedia(api, sid, redacted, media, state, fail, refetch) {
  let m;
  try {
    m = await api.get(`/v2/Transcripts/${sid}/Media`, { Redacted: redacted });
  } catch {
    return;
  }
  if (!m || !m.media_url) {
    show(media);
    return;
  }
  try {
    const d = await download(local(m.media_url, m.url));
    const plain = await openEnvelope(state.key, d.body, d.key, d.iv);
    attachAudio(media, state, new Blob([plain], { type: 'audio/wav' }),
      `${redacted ? 'The redacted recording' : 'The original recording'}, decrypted in this browser.`);
  } catch (err) {
    fail(describe(err, refetch, state.fingerprint));
  }
}
