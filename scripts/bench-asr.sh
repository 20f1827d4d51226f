#!/usr/bin/env bash
# bench-asr.sh — word error rate and CPU cost of the embedded recognizer
# (internal/asr/sphinx) against pocketsphinx_continuous on the same files in
# the same run, on:
#   (a) ten call-centre sentences spoken by flite's rms and slt voices, 16 kHz;
#   (b) the same converted to 8 kHz G.711 μ-law WAV with sox (no dither): the
#       recognizer reads the μ-law WAV and upsamples itself, the CLI gets sox's
#       16 kHz 16-bit conversion of it;
#   (c) pocketsphinx-testdata's real read speech (librivox and cards clips)
#       with the transcripts shipped next to them.
# WER is word-level Levenshtein over lowercased words, punctuation stripped.
# CPU is getrusage: the recognizer's around each Recognize (one decoder, one
# core, model load excluded and reported apart), the CLI's child CPU per file
# less its model-load cost measured on 0.1 s of silence.
#
# Needs (Debian): libpocketsphinx3 pocketsphinx-en-us pocketsphinx
# pocketsphinx-testdata flite sox. Prints a Markdown table on stdout.
#
# Environment:
#   ASR_ARGS      extra decoder options for convoseal, e.g. "-lw 8"
#   CLI_ARGS      extra options for pocketsphinx_continuous
#   BENCH_VERBOSE=1  print every reference and both hypotheses to stderr
set -euo pipefail
cd "$(dirname "$0")/.."
for c in flite sox pocketsphinx_continuous; do
	command -v "$c" >/dev/null || { echo "bench-asr: $c missing (apt-get install libpocketsphinx3 pocketsphinx-en-us pocketsphinx pocketsphinx-testdata flite sox)" >&2; exit 1; }
done
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version | cut -d' ' -f3), pocketsphinx $(dpkg-query -W -f '${Version}' libpocketsphinx3 2>/dev/null || echo '?'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
flags=()
[ "${BENCH_VERBOSE:-0}" = 1 ] && flags+=(-v)
exec go run ./scripts/benchasr -args "${ASR_ARGS:-}" -cliargs "${CLI_ARGS:-}" "${flags[@]}"
