package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// ListOptions are the API's transcript list filters (ListTranscript); zero
// values are left out.
type ListOptions struct {
	ServiceSID   string // GA…
	Status       string // queued, in-progress, completed, failed, canceled
	LanguageCode string
	// CustomerKey keeps transcripts with this customer_key. The API has no
	// such filter, so it is applied to the listed transcripts by the client.
	CustomerKey string
	SourceSID   string

	AfterDateCreated, BeforeDateCreated time.Time
	AfterStartTime, BeforeStartTime     time.Time

	PageSize int // transcripts per API page; 0: the API's default
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	stamp := func(k string, t time.Time) {
		if !t.IsZero() {
			q.Set(k, t.UTC().Format(time.RFC3339))
		}
	}
	set("ServiceSid", o.ServiceSID)
	set("Status", o.Status)
	set("LanguageCode", o.LanguageCode)
	set("SourceSid", o.SourceSID)
	stamp("AfterDateCreated", o.AfterDateCreated)
	stamp("BeforeDateCreated", o.BeforeDateCreated)
	stamp("AfterStartTime", o.AfterStartTime)
	stamp("BeforeStartTime", o.BeforeStartTime)
	if o.PageSize > 0 {
		q.Set("PageSize", strconv.Itoa(o.PageSize))
	}
	return q
}

// Transcript is a transcript resource's metadata (never its content).
type Transcript struct {
	SID, AccountSID, ServiceSID, Status, LanguageCode, CustomerKey string
	DateCreated, DateUpdated                                       time.Time
	Redaction                                                      bool
	Duration                                                       int // seconds
	DataLogging                                                    bool
	// EncryptionCredentialSID is the customer public key (CR…) the
	// transcript's artifacts are sealed with; empty when they are not.
	EncryptionCredentialSID string
	// MediaStartTime is zero when the API gave none.
	MediaStartTime time.Time
	// Channel is the transcript's Channel object as the API returns it
	// (media_properties, participants).
	Channel json.RawMessage
	// FailureReason says why a failed transcript failed (convoseal extra).
	FailureReason string
	URL           string
}

// Encrypted reports whether the transcript's artifacts are sealed with a
// customer key, to be read through FetchSentences and FetchOperatorResults.
func (t Transcript) Encrypted() bool { return t.EncryptionCredentialSID != "" }

// Participant is one entry of a transcript's channel.participants.
type Participant struct {
	ChannelParticipant int    `json:"channel_participant"` // the media_channel of its sentences
	Role               string `json:"role"`                // e.g. "Agent", "Customer"
	FullName           string `json:"full_name"`
	UserID             string `json:"user_id"`
	MediaParticipantID string `json:"media_participant_id"`
	ImageURL           string `json:"image_url"`
}

// Participants reads channel.participants; entries it cannot read are left out.
func (t Transcript) Participants() []Participant {
	var ch struct {
		Participants []json.RawMessage `json:"participants"`
	}
	if len(t.Channel) == 0 || json.Unmarshal(t.Channel, &ch) != nil {
		return nil
	}
	var out []Participant
	for _, raw := range ch.Participants {
		var p struct {
			Participant
			// channel_participant is a number in Twilio's documentation;
			// a numeric string is accepted too.
			Channel json.RawMessage `json:"channel_participant"`
		}
		if json.Unmarshal(raw, &p) != nil {
			continue
		}
		var n json.Number
		if json.Unmarshal(p.Channel, &n) != nil {
			var s string
			if json.Unmarshal(p.Channel, &s) != nil {
				continue
			}
			n = json.Number(s)
		}
		c, err := n.Int64()
		if err != nil || c < 0 || c > 1<<20 {
			continue
		}
		p.Participant.ChannelParticipant = int(c)
		out = append(out, p.Participant)
	}
	return out
}

type transcriptJSON struct {
	SID                     string          `json:"sid"`
	AccountSID              string          `json:"account_sid"`
	ServiceSID              string          `json:"service_sid"`
	Status                  string          `json:"status"`
	LanguageCode            string          `json:"language_code"`
	CustomerKey             *string         `json:"customer_key"`
	DateCreated             *string         `json:"date_created"`
	DateUpdated             *string         `json:"date_updated"`
	Redaction               bool            `json:"redaction"`
	Duration                int             `json:"duration"`
	DataLogging             bool            `json:"data_logging"`
	EncryptionCredentialSID *string         `json:"encryption_credential_sid"`
	MediaStartTime          *string         `json:"media_start_time"`
	Channel                 json.RawMessage `json:"channel"`
	FailureReason           *string         `json:"failure_reason"`
	URL                     string          `json:"url"`
}

func (j *transcriptJSON) transcript() Transcript {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	when := func(p *string) time.Time {
		if p == nil {
			return time.Time{}
		}
		t, _ := time.Parse(time.RFC3339Nano, *p)
		return t
	}
	ch := j.Channel
	if string(ch) == "null" {
		ch = nil
	}
	return Transcript{SID: j.SID, AccountSID: j.AccountSID, ServiceSID: j.ServiceSID, Status: j.Status,
		LanguageCode: j.LanguageCode, CustomerKey: str(j.CustomerKey), DateCreated: when(j.DateCreated),
		DateUpdated: when(j.DateUpdated), Redaction: j.Redaction, Duration: j.Duration, DataLogging: j.DataLogging,
		EncryptionCredentialSID: str(j.EncryptionCredentialSID), MediaStartTime: when(j.MediaStartTime),
		Channel: ch, FailureReason: str(j.FailureReason), URL: j.URL}
}

// Transcript fetches one transcript's metadata. A transcript that does not
// exist (or is not the caller's) gives an error wrapping [ErrNotFound].
func (c *Client) Transcript(ctx context.Context, sid string) (Transcript, error) {
	if err := checkSID(sid, "GT"); err != nil {
		return Transcript{}, err
	}
	var j transcriptJSON
	if err := c.getJSON(ctx, "/v2/Transcripts/"+sid, nil, &j); err != nil {
		return Transcript{}, err
	}
	return j.transcript(), nil
}

// Transcripts lists transcripts matching o, newest first as the API orders
// them, following meta.next_page_url from page to page as the loop asks for
// more. A failed page ends the sequence with its error (after retries).
func (c *Client) Transcripts(ctx context.Context, o ListOptions) iter.Seq2[Transcript, error] {
	return func(yield func(Transcript, error) bool) {
		next, q := "/v2/Transcripts", o.query()
		for pages := 0; next != ""; pages++ {
			var page struct {
				Transcripts []transcriptJSON `json:"transcripts"`
				Meta        struct {
					NextPageURL *string `json:"next_page_url"`
				} `json:"meta"`
			}
			if err := c.getJSON(ctx, next, q, &page); err != nil {
				yield(Transcript{}, fmt.Errorf("listing transcripts (page %d): %w", pages+1, err))
				return
			}
			for i := range page.Transcripts {
				t := page.Transcripts[i].transcript()
				if o.CustomerKey != "" && t.CustomerKey != o.CustomerKey {
					continue
				}
				if !yield(t, nil) {
					return
				}
			}
			next, q = "", nil // the next page URL carries the filters
			if page.Meta.NextPageURL != nil && len(page.Transcripts) > 0 {
				next = *page.Meta.NextPageURL
			}
		}
	}
}

// checkSID refuses a SID that is not prefix followed by 32 hex digits, so
// that it cannot change the request path.
func checkSID(sid, prefix string) error {
	if len(sid) != 34 || sid[:2] != prefix {
		return fmt.Errorf("%q is not a %s… SID (%s followed by 32 hexadecimal digits)", sid, prefix, prefix)
	}
	for _, r := range sid[2:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return fmt.Errorf("%q is not a %s… SID (%s followed by 32 hexadecimal digits)", sid, prefix, prefix)
		}
	}
	return nil
}
