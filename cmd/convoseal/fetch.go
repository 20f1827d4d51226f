package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/convoseal/convoseal/client"
	"github.com/convoseal/convoseal/seal"
	"github.com/spf13/cobra"
)

// defaultFetchURL is the API fetch talks to without --url or $CONVOSEAL_URL.
const defaultFetchURL = "http://localhost:8080"

// apiFlags are the flags of the commands that call the API.
type apiFlags struct {
	url, accountSID, authToken string
	timeout                    time.Duration
	retries                    int
}

func (a *apiFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&a.url, "url", "", "API base URL ($"+client.EnvURL+", else "+defaultFetchURL+")")
	f.StringVar(&a.accountSID, "account-sid", "", "Account SID (AC…) ($"+client.EnvAccountSID+")")
	f.StringVar(&a.authToken, "auth-token", "", "Auth Token; prefer $"+client.EnvAuthToken+", which other users cannot see in the process list")
	f.DurationVar(&a.timeout, "timeout", 2*time.Minute, "limit for each request and download")
	f.IntVar(&a.retries, "retries", client.DefaultMaxRetries, "retries of a request answered 429 or 5xx, or cut off, with backoff (0: none)")
}

func (a *apiFlags) client(keys *client.Keyring) (*client.Client, error) {
	return a.clientWith(keys, nil)
}

// clientWith is client over the given transport (nil: Go's default).
func (a *apiFlags) clientWith(keys *client.Keyring, transport http.RoundTripper) (*client.Client, error) {
	base := a.url
	if base == "" {
		base = os.Getenv(client.EnvURL)
	}
	if base == "" {
		base = defaultFetchURL
	}
	retries := a.retries
	if retries == 0 {
		retries = -1
	}
	c, err := client.New(client.Options{BaseURL: base, AccountSID: a.accountSID, AuthToken: a.authToken,
		HTTPClient: &http.Client{Transport: transport, Timeout: a.timeout}, Keys: keys, MaxRetries: retries})
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return c, nil
}

type fetchOptions struct {
	api       apiFlags
	keys      keyFlags
	format    string
	output    string
	force     bool
	redacted  bool
	operators bool
}

func newFetchCommand() *cobra.Command {
	var o fetchOptions
	cmd := &cobra.Command{
		Use:   "fetch GT… [--format json|text|vtt] [--operator-results] [-o FILE]",
		Short: "Download and decrypt one transcript's sentences (and operator results)",
		Long: `fetch reads one transcript from the API, downloads its Sentences/Encrypted
location (and with --operator-results every OperatorResults/Encrypted location),
decrypts them with your private key and writes the result:

  --format json  the decrypted documents: the sentences document as sealed, or
                 with --operator-results {"transcript_sid", "sentences",
                 "operator_results": [...]} holding the documents as sealed
  --format text  one line per sentence, "[mm:ss.d] Speaker (channel N): text",
                 the speaker being the role (else the name) of the participant
                 the transcript's Channel gives for that channel; operator
                 results follow, one per line
  --format vtt   WebVTT subtitles: a cue per sentence with <v Speaker> voice
                 tags; operator results as NOTE blocks

The API is --url (else $CONVOSEAL_URL, else ` + defaultFetchURL + `), with the
Account SID and Auth Token from --account-sid and --auth-token, else
$TWILIO_ACCOUNT_SID and $TWILIO_AUTH_TOKEN. Requests answered 429 or 5xx are
retried with backoff; a location whose signature expired is fetched afresh.
--redacted=false asks for the unredacted variant, as the API's Redacted
parameter (a transcript made without redaction has only that one).

Private keys come from --private-key (repeatable, for a rotated key) and/or
$CONVOSEAL_PRIVATE_KEY holding the PEM text; an encrypted key's passphrase
from $CONVOSEAL_PASSPHRASE (see --passphrase-env) or the terminal. Keys are
never written anywhere.

Output goes to standard output, or with -o to FILE (mode 0600), written to a
temporary file renamed into place, so that FILE is never left half-written;
an existing FILE is kept unless --force.

` + exitCodesHelp,
		Example: `  export TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=… CONVOSEAL_URL=https://convoseal.example.com
  convoseal fetch --private-key private_key.pem GT…
  convoseal fetch --private-key private_key.pem --format text --operator-results GT…
  convoseal fetch --private-key new.pem --private-key old.pem --format vtt -o call.vtt GT…`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFetch(cmd.Context(), cmd.OutOrStdout(), args[0], &o)
		},
	}
	f := cmd.Flags()
	o.keys.register(f)
	o.api.register(cmd)
	f.StringVar(&o.format, "format", "json", "output format: json, text or vtt")
	f.StringVarP(&o.output, "output", "o", "", "write to this file (0600) instead of standard output")
	f.BoolVar(&o.force, "force", false, "replace an existing -o file")
	f.BoolVar(&o.redacted, "redacted", true, "the redacted variant (false: unredacted), as the API's Redacted parameter")
	f.BoolVar(&o.operators, "operator-results", false, "also fetch and decrypt the operator results")
	return cmd
}

// fetchedTranscript is what fetch decrypted.
type fetchedTranscript struct {
	t         client.Transcript
	sentences *client.Decrypted
	results   []*client.Decrypted
}

func (f *fetchedTranscript) wipe() {
	if f.sentences != nil {
		f.sentences.Wipe()
	}
	for _, r := range f.results {
		r.Wipe()
	}
}

func runFetch(ctx context.Context, stdout io.Writer, sid string, o *fetchOptions) error {
	render, ok := fetchFormats[o.format]
	if !ok {
		return usageErrorf("--format %q: want json, text or vtt", o.format)
	}
	if !strings.HasPrefix(sid, "GT") || len(sid) != 34 {
		return usageErrorf("%q is not a transcript SID (GT followed by 32 hexadecimal digits)", sid)
	}
	if o.output != "" && !o.force {
		if _, err := os.Lstat(o.output); err == nil {
			return fmt.Errorf("%s exists; use --force to replace it", o.output)
		}
	}
	if !o.keys.given() {
		return usageErrorf("--private-key is required (or the key's PEM text in $%s)", o.keys.env)
	}
	keys, err := o.keys.load()
	if err != nil {
		return err
	}
	c, err := o.api.client(keys)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ft, err := fetchTranscript(ctx, c, sid, o.redacted, o.operators)
	if err != nil {
		return err
	}
	defer ft.wipe()
	var out bytes.Buffer
	defer func() { clear(out.Bytes()) }()
	if err := render(&out, ft); err != nil {
		return err
	}
	if o.output == "" {
		_, err := stdout.Write(out.Bytes())
		return err
	}
	return writeFileAtomic(o.output, out.Bytes())
}

func fetchTranscript(ctx context.Context, c *client.Client, sid string, redacted, operators bool) (*fetchedTranscript, error) {
	t, err := c.Transcript(ctx, sid)
	switch {
	case errors.Is(err, client.ErrNotFound):
		return nil, fmt.Errorf("transcript %s not found (or not in account %s)", sid, c.AccountSID())
	case err != nil:
		return nil, err
	case t.Status != "completed":
		msg := fmt.Sprintf("transcript %s is %s", sid, t.Status)
		if t.Status == "failed" && t.FailureReason != "" {
			msg += " (" + t.FailureReason + ")"
		}
		return nil, errors.New(msg + ": only a completed transcript has results")
	case !t.Encrypted():
		return nil, fmt.Errorf("transcript %s is not encrypted with a customer public key (its Service had no EncryptionCredentialSid when it was created): read it with GET /v2/Transcripts/%s/Sentences instead", sid, sid)
	}
	ft := &fetchedTranscript{t: t}
	if ft.sentences, err = c.FetchSentences(ctx, sid, redacted); err != nil {
		return nil, classifyFetchError(sid, err)
	}
	if operators {
		if ft.results, err = c.FetchOperatorResults(ctx, sid, redacted); err != nil {
			ft.wipe()
			return nil, classifyFetchError(sid, err)
		}
	}
	return ft, nil
}

func classifyFetchError(sid string, err error) error {
	var he *client.HTTPError
	switch {
	case errors.Is(err, client.ErrNotEncrypted):
		return fmt.Errorf("transcript %s is not encrypted with a customer public key: read its Sentences resource instead", sid)
	case errors.Is(err, seal.ErrIncorrectIdentity):
		return withCode(exitWrongKey, fmt.Errorf("none of your private keys opens it: %w", err))
	case errors.Is(err, seal.ErrAuthentication):
		return withCode(exitIntegrity, err)
	case errors.Is(err, seal.ErrMalformedEnvelope):
		return withCode(exitEnvelope, err)
	case errors.As(err, &he), errors.Is(err, client.ErrTooLarge):
		return withCode(exitDownload, err)
	}
	return err
}

// writeFileAtomic writes data to a 0600 temporary file next to path and
// renames it into place.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

var fetchFormats = map[string]func(*bytes.Buffer, *fetchedTranscript) error{
	"json": renderJSON,
	"text": renderText,
	"vtt":  renderVTT,
}

// renderJSON writes the sentences document, or with operator results an
// object holding every document, indented.
func renderJSON(w *bytes.Buffer, ft *fetchedTranscript) error {
	if ft.results == nil {
		return indentInto(w, ft.sentences.Plaintext)
	}
	var b bytes.Buffer
	defer func() { clear(b.Bytes()) }()
	sid, _ := json.Marshal(ft.t.SID)
	b.WriteString(`{"transcript_sid":`)
	b.Write(sid)
	b.WriteString(`,"sentences":`)
	b.Write(ft.sentences.Plaintext)
	b.WriteString(`,"operator_results":[`)
	for i, r := range ft.results {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r.Plaintext)
	}
	b.WriteString("]}")
	return indentInto(w, b.Bytes())
}

func indentInto(w *bytes.Buffer, doc []byte) error {
	if err := json.Indent(w, doc, "", "  "); err != nil {
		return errors.New("the decrypted document is not valid JSON")
	}
	w.WriteByte('\n')
	return nil
}

// speakers maps media_channel to a label from the transcript's participants.
func speakers(t client.Transcript) map[int]string {
	m := map[int]string{}
	for _, p := range t.Participants() {
		label := strings.TrimSpace(p.Role)
		if label == "" {
			label = strings.TrimSpace(p.FullName)
		}
		if label != "" {
			if _, dup := m[p.ChannelParticipant]; !dup {
				m[p.ChannelParticipant] = oneLine(label)
			}
		}
	}
	return m
}

func speakerLabel(names map[int]string, channel int) string {
	if n, ok := names[channel]; ok {
		return fmt.Sprintf("%s (channel %d)", n, channel)
	}
	return fmt.Sprintf("Channel %d", channel)
}

// oneLine folds line breaks and other control characters into spaces.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\u2028' || r == '\u2029' }), " ")
}

// clock formats seconds as mm:ss.d (h:mm:ss.d from an hour on).
func clock(sec float64) string {
	if sec < 0 {
		sec = 0
	}
	tenths := int64(sec*10 + 0.5)
	h, m, s, d := tenths/36000, tenths/600%60, tenths/10%60, tenths%10
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d.%d", h, m, s, d)
	}
	return fmt.Sprintf("%02d:%02d.%d", m, s, d)
}

func renderText(w *bytes.Buffer, ft *fetchedTranscript) error {
	ss, err := ft.sentences.Sentences()
	if err != nil {
		return err
	}
	names := speakers(ft.t)
	for _, s := range ss {
		fmt.Fprintf(w, "[%s] %s: %s\n", clock(s.StartTime), speakerLabel(names, s.MediaChannel), oneLine(s.Transcript))
	}
	if ft.results == nil {
		return nil
	}
	w.WriteString("\nOperator results:\n")
	if len(ft.results) == 0 {
		w.WriteString("(none)\n")
	}
	for _, d := range ft.results {
		r, err := d.OperatorResult()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: %s\n", resultTitle(r, d), resultSummary(r, ss, names))
	}
	return nil
}

func resultTitle(r *client.OperatorResult, d *client.Decrypted) string {
	name := oneLine(r.Name)
	if name == "" {
		name = r.OperatorType
	}
	return fmt.Sprintf("%s (%s, %s)", name, d.OperatorSID, r.OperatorType)
}

// resultSummary is an operator result on one line.
func resultSummary(r *client.OperatorResult, ss []client.Sentence, names map[int]string) string {
	if r.Status == "failed" {
		return "failed: " + oneLine(r.FailureReason)
	}
	var parts []string
	prob := func(p *float64) string {
		if p == nil {
			return ""
		}
		return " (" + strconv.FormatFloat(*p, 'f', 2, 64) + ")"
	}
	if r.TextGenerationResults != nil {
		parts = append(parts, oneLine(r.TextGenerationResults.Result))
	}
	if r.PredictedLabel != nil {
		parts = append(parts, "label "+oneLine(*r.PredictedLabel)+prob(r.PredictedProbability))
	}
	if r.ExtractMatch != nil {
		parts = append(parts, "match "+strconv.FormatBool(*r.ExtractMatch)+prob(r.MatchProbability))
	}
	if r.NormalizedResult != nil {
		parts = append(parts, "normalized "+oneLine(*r.NormalizedResult))
	}
	if len(r.ExtractResults) > 0 {
		keys := make([]string, 0, len(r.ExtractResults))
		for k := range r.ExtractResults {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var ex []string
		for _, k := range keys {
			ex = append(ex, oneLine(k)+": "+oneLine(strings.Join(r.ExtractResults[k], ", ")))
		}
		parts = append(parts, strings.Join(ex, "; "))
	}
	if r.UtteranceMatch != nil || len(r.UtteranceResults) > 0 {
		var us []string
		for _, u := range r.UtteranceResults {
			at := ""
			for _, s := range ss {
				if s.SentenceIndex == u.UtteranceIndex && s.MediaChannel == u.MediaChannel {
					at = clock(s.StartTime) + " "
					break
				}
			}
			us = append(us, fmt.Sprintf("[%s%s] %s", at, speakerLabel(names, u.MediaChannel), oneLine(u.Label)))
		}
		if len(us) == 0 {
			us = append(us, "no utterance matched")
		}
		parts = append(parts, strings.Join(us, "; "))
	}
	if len(r.JSONResults) > 0 && string(r.JSONResults) != "null" {
		var b bytes.Buffer
		if json.Compact(&b, r.JSONResults) == nil {
			parts = append(parts, b.String())
		}
	}
	if len(parts) == 0 {
		return "(no result)"
	}
	return strings.Join(parts, " | ")
}

// vttTime formats seconds as a WebVTT timestamp, hh:mm:ss.ttt.
func vttTime(sec float64) string {
	if sec < 0 {
		sec = 0
	}
	ms := int64(sec*1000 + 0.5)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// vttText escapes cue text (& and < are markup in WebVTT) and keeps it on
// one line with no "-->".
func vttText(s string) string {
	s = oneLine(s)
	s = strings.ReplaceAll(s, "&", "&amp;")
	s = strings.ReplaceAll(s, "<", "&lt;")
	s = strings.ReplaceAll(s, ">", "&gt;")
	return s
}

// vttVoice is a voice annotation: no ">", no line break, no "&" or "<".
func vttVoice(s string) string {
	return strings.NewReplacer(">", "", "<", "", "&", "and").Replace(oneLine(s))
}

// vttNote is NOTE text: no "-->" and no blank line.
func vttNote(s string) string {
	return strings.ReplaceAll(oneLine(s), "-->", "->")
}

func renderVTT(w *bytes.Buffer, ft *fetchedTranscript) error {
	ss, err := ft.sentences.Sentences()
	if err != nil {
		return err
	}
	names := speakers(ft.t)
	w.WriteString("WEBVTT\n\n")
	fmt.Fprintf(w, "NOTE transcript %s\n\n", ft.t.SID)
	for _, d := range ft.results {
		r, err := d.OperatorResult()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "NOTE %s: %s\n\n", vttNote(resultTitle(r, d)), vttNote(resultSummary(r, ss, names)))
	}
	for i, s := range ss {
		end := s.EndTime
		if end <= s.StartTime {
			end = s.StartTime + 0.001
		}
		voice, ok := names[s.MediaChannel]
		if !ok {
			voice = "Channel " + strconv.Itoa(s.MediaChannel)
		}
		fmt.Fprintf(w, "%d\n%s --> %s\n<v %s>%s\n\n", i+1, vttTime(s.StartTime), vttTime(end), vttVoice(voice), vttText(s.Transcript))
	}
	return nil
}
