// results.js — renders one operator result readably, by its operator_type:
// text generation, conversation and utterance classification, extraction
// (with the matched spans of each utterance), normalization, JSON, and
// phrase matching; anything else as formatted JSON.

import { h } from './ui.js';

const pct = (p) => (typeof p === 'number' && Number.isFinite(p) ? `${Math.round(p * 100)}%` : '');

/** One result as an <article data-testid="operator-result">. */
export function renderResult(r, sentences, jumpTo) {
  const name = r.name || r.operator_sid || 'Operator';
  const body = [];
  if (r.status === 'failed') {
    body.push(h('p', { class: 'alert warn', text: `This operator failed: ${r.failure_reason || 'no reason given'}` }));
  } else {
    body.push(...renderBody(r, sentences, jumpTo));
  }
  return h('article', { class: 'result card', 'data-testid': 'operator-result', 'data-operator-sid': r.operator_sid || '' },
    h('h3', {}, name, ' ', h('span', { class: 'kind', text: r.operator_type || '' })),
    body);
}

function renderBody(r, sentences, jumpTo) {
  const out = [];
  if (r.text_generation_results && typeof r.text_generation_results.result === 'string') {
    out.push(h('p', { class: 'generated', text: r.text_generation_results.result }));
  }
  if (r.predicted_label !== null && r.predicted_label !== undefined) {
    out.push(h('p', { class: 'label' }, h('strong', { text: String(r.predicted_label) }),
      r.predicted_probability != null ? ` (${pct(r.predicted_probability)})` : ''));
  }
  if (r.label_probabilities && typeof r.label_probabilities === 'object' && Object.keys(r.label_probabilities).length) {
    const rows = Object.entries(r.label_probabilities).sort((a, b) => b[1] - a[1]);
    out.push(h('table', { class: 'mini' },
      h('caption', { class: 'visually-hidden', text: `${r.name || 'Operator'}: probability of each label` }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Label' }), h('th', { scope: 'col', text: 'Probability' }))),
      h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('td', { text: k }), h('td', { text: pct(v) }))))));
  }
  if (typeof r.normalized_result === 'string') {
    out.push(h('p', {}, 'Normalized: ', h('strong', { text: r.normalized_result })));
  }
  if (typeof r.extract_match === 'boolean' || typeof r.utterance_match === 'boolean') {
    const match = r.extract_match ?? r.utterance_match;
    out.push(h('p', { class: match ? 'match yes' : 'match no', text: match ? `Matched${r.match_probability != null ? ` (${pct(r.match_probability)})` : ''}` : 'No match' }));
  }
  if (r.extract_results && typeof r.extract_results === 'object' && Object.keys(r.extract_results).length) {
    out.push(h('dl', { class: 'extract' }, Object.entries(r.extract_results).map(([k, vs]) =>
      [h('dt', { text: k }), h('dd', { text: (Array.isArray(vs) ? vs : [vs]).join(', ') })])));
  }
  if (Array.isArray(r.utterance_results) && r.utterance_results.length) {
    out.push(h('ul', { class: 'utterances' }, r.utterance_results.map((u) => utterance(u, sentences, jumpTo))));
  }
  if (r.json_results !== null && r.json_results !== undefined) {
    out.push(jsonView(r.json_results));
  }
  if (out.length === 0) out.push(h('p', { class: 'muted', text: 'No findings.' }));
  return out;
}

/** One utterance: which sentence, its label, and the matched spans marked. */
function utterance(u, sentences, jumpTo) {
  const s = sentences.find((x) => x.sentence_index === u.utterance_index);
  const goto = h('button', { type: 'button', class: 'link', text: `Sentence ${u.utterance_index + 1}` });
  goto.addEventListener('click', () => jumpTo(u.utterance_index));
  const parts = Array.isArray(u.utterance_parts) ? u.utterance_parts : [];
  let quote = null;
  if (s && parts.length) {
    quote = h('blockquote', {}, marked(String(s.transcript || ''), parts));
  } else if (parts.length) {
    quote = h('p', {}, parts.map((p) => h('mark', { text: p.text })));
  }
  const label = u.label ? h('span', { class: 'tag', text: u.label }) : null;
  return h('li', {}, goto, ' ', label, u.probability ? ` ${pct(u.probability)}` : '', quote);
}

/** text with the parts (byte offsets into its UTF-8) wrapped in <mark>. */
export function marked(text, parts) {
  const bytes = new TextEncoder().encode(text);
  const dec = new TextDecoder();
  const spans = parts.filter((p) => Number.isInteger(p.start) && Number.isInteger(p.end) && p.start >= 0 && p.end <= bytes.length && p.start < p.end)
    .sort((a, b) => a.start - b.start);
  const out = [];
  let pos = 0;
  for (const p of spans) {
    if (p.start < pos) continue;
    out.push(dec.decode(bytes.subarray(pos, p.start)));
    out.push(h('mark', { title: p.label || null, text: dec.decode(bytes.subarray(p.start, p.end)) }));
    pos = p.end;
  }
  out.push(dec.decode(bytes.subarray(pos)));
  return out;
}

/** JSON results as a definition list when flat, else formatted. */
function jsonView(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => x === null || typeof x !== 'object')) {
    return h('dl', { class: 'extract' }, Object.entries(v).map(([k, x]) => [h('dt', { text: k }), h('dd', { text: String(x) })]));
  }
  return h('pre', { class: 'json', text: JSON.stringify(v, null, 2) });
}
