package httpapi

import (
	"encoding/json"
	"time"

	"github.com/convoseal/convoseal"
)

// JSON representations, with Twilio's field names.

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

type publicKeyJSON struct {
	SID          string `json:"sid"`
	AccountSID   string `json:"account_sid"`
	FriendlyName string `json:"friendly_name"`
	DateCreated  string `json:"date_created"`
	DateUpdated  string `json:"date_updated"`
	URL          string `json:"url"`
	// Fingerprint is a convoseal extra: SHA-256 of the key's DER SubjectPublicKeyInfo.
	Fingerprint string `json:"fingerprint"`
}

func (s *Server) publicKeyJSON(k *convoseal.PublicKey) publicKeyJSON {
	return publicKeyJSON{SID: k.SID, AccountSID: k.AccountSID, FriendlyName: k.FriendlyName, DateCreated: ts(k.DateCreated),
		DateUpdated: ts(k.DateUpdated), URL: s.PublicURL + "/v1/Credentials/PublicKeys/" + k.SID, Fingerprint: k.Fingerprint}
}

type serviceJSON struct {
	AccountSID                   string   `json:"account_sid"`
	AutoRedaction                bool     `json:"auto_redaction"`
	MediaRedaction               bool     `json:"media_redaction"`
	AutoTranscribe               bool     `json:"auto_transcribe"`
	DataLogging                  bool     `json:"data_logging"`
	DateCreated                  string   `json:"date_created"`
	DateUpdated                  string   `json:"date_updated"`
	FriendlyName                 *string  `json:"friendly_name"`
	LanguageCode                 string   `json:"language_code"`
	SID                          string   `json:"sid"`
	UniqueName                   string   `json:"unique_name"`
	URL                          string   `json:"url"`
	WebhookURL                   *string  `json:"webhook_url"`
	WebhookHTTPMethod            string   `json:"webhook_http_method"`
	ReadOnlyAttachedOperatorSIDs []string `json:"read_only_attached_operator_sids"`
	Version                      int      `json:"version"`
	EncryptionCredentialSID      *string  `json:"encryption_credential_sid"`
	// LanguageModel is a convoseal extra, not in Twilio's spec: whether the
	// operator lets this Service's transcripts go to the language model.
	LanguageModel bool `json:"language_model"`
	// KeepMedia is a convoseal extra: whether the operator keeps the
	// original recordings of this Service's audio transcripts.
	KeepMedia bool `json:"keep_media"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) serviceJSON(v *convoseal.Service) serviceJSON {
	ops := v.OperatorSIDs
	if ops == nil {
		ops = []string{}
	}
	return serviceJSON{AccountSID: v.AccountSID, AutoRedaction: v.AutoRedaction, MediaRedaction: v.MediaRedaction, AutoTranscribe: v.AutoTranscribe,
		DataLogging: v.DataLogging, DateCreated: ts(v.DateCreated), DateUpdated: ts(v.DateUpdated), FriendlyName: optional(v.FriendlyName),
		LanguageCode: v.LanguageCode, SID: v.SID, UniqueName: v.UniqueName, URL: s.PublicURL + "/v2/Services/" + v.SID,
		WebhookURL: optional(v.WebhookURL), WebhookHTTPMethod: v.WebhookHTTPMethod, ReadOnlyAttachedOperatorSIDs: ops, Version: v.Version,
		EncryptionCredentialSID: optional(v.EncryptionCredentialSID), LanguageModel: v.LanguageModel,
		KeepMedia: v.KeepMedia}
}

type transcriptJSON struct {
	AccountSID              string            `json:"account_sid"`
	ServiceSID              string            `json:"service_sid"`
	SID                     string            `json:"sid"`
	DateCreated             string            `json:"date_created"`
	DateUpdated             string            `json:"date_updated"`
	Status                  string            `json:"status"`
	Channel                 json.RawMessage   `json:"channel"`
	DataLogging             bool              `json:"data_logging"`
	LanguageCode            string            `json:"language_code"`
	CustomerKey             *string           `json:"customer_key"`
	MediaStartTime          *string           `json:"media_start_time"`
	Duration                int               `json:"duration"`
	URL                     string            `json:"url"`
	Redaction               bool              `json:"redaction"`
	EncryptionCredentialSID *string           `json:"encryption_credential_sid"`
	Links                   map[string]string `json:"links"`
	// FailureReason is a convoseal extra, set when status is failed.
	FailureReason *string `json:"failure_reason,omitempty"`
}

func (s *Server) transcriptJSON(t *convoseal.Transcript) transcriptJSON {
	base := s.PublicURL + "/v2/Transcripts/" + t.SID
	var start *string
	if t.MediaStartTime != nil {
		v := ts(*t.MediaStartTime)
		start = &v
	}
	return transcriptJSON{AccountSID: t.AccountSID, ServiceSID: t.ServiceSID, SID: t.SID, DateCreated: ts(t.DateCreated), DateUpdated: ts(t.DateUpdated),
		Status: t.Status, Channel: t.Channel, DataLogging: t.DataLogging, LanguageCode: t.LanguageCode, CustomerKey: optional(t.CustomerKey),
		MediaStartTime: start, Duration: t.Duration, URL: base, Redaction: t.Redaction, EncryptionCredentialSID: optional(t.EncryptionCredentialSID),
		FailureReason: optional(t.FailureReason),
		Links: map[string]string{
			"sentences":                  base + "/Sentences",
			"encrypted_sentences":        base + "/Sentences/Encrypted",
			"media":                      base + "/Media",
			"operator_results":           base + "/OperatorResults",
			"encrypted_operator_results": base + "/OperatorResults/Encrypted",
		}}
}

type operatorJSON struct {
	AccountSID   *string         `json:"account_sid"`
	SID          string          `json:"sid"`
	FriendlyName string          `json:"friendly_name"`
	Description  string          `json:"description"`
	Author       string          `json:"author"`
	OperatorType string          `json:"operator_type"`
	Version      int             `json:"version"`
	Availability string          `json:"availability"`
	Config       json.RawMessage `json:"config"`
	DateCreated  string          `json:"date_created"`
	DateUpdated  string          `json:"date_updated"`
	URL          string          `json:"url"`
}

func (s *Server) operatorJSON(o *convoseal.Operator, path string) operatorJSON {
	cfg := o.Config
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	return operatorJSON{AccountSID: optional(o.AccountSID), SID: o.SID, FriendlyName: o.FriendlyName, Description: o.Description, Author: o.Author,
		OperatorType: o.OperatorType, Version: o.Version, Availability: o.Availability, Config: cfg, DateCreated: ts(o.DateCreated),
		DateUpdated: ts(o.DateUpdated), URL: s.PublicURL + path + o.SID}
}

type operatorTypeJSON struct {
	Name               string          `json:"name"`
	SID                string          `json:"sid"`
	FriendlyName       string          `json:"friendly_name"`
	Description        string          `json:"description"`
	DocsLink           string          `json:"docs_link"`
	OutputType         string          `json:"output_type"`
	SupportedLanguages []string        `json:"supported_languages"`
	Provider           string          `json:"provider"`
	Availability       string          `json:"availability"`
	Configurable       bool            `json:"configurable"`
	ConfigSchema       json.RawMessage `json:"config_schema"`
	DateCreated        string          `json:"date_created"`
	DateUpdated        string          `json:"date_updated"`
	URL                string          `json:"url"`
}

func (s *Server) operatorTypeJSON(t *convoseal.OperatorType) operatorTypeJSON {
	schema := t.ConfigSchema
	if len(schema) == 0 {
		schema = json.RawMessage("null")
	}
	return operatorTypeJSON{Name: t.Name, SID: t.SID, FriendlyName: t.FriendlyName, Description: t.Description, DocsLink: t.DocsLink,
		OutputType: t.OutputType, SupportedLanguages: t.SupportedLanguages, Provider: t.Provider, Availability: t.Availability,
		Configurable: t.Configurable, ConfigSchema: schema, DateCreated: ts(t.DateCreated), DateUpdated: ts(t.DateUpdated),
		URL: s.PublicURL + "/v2/OperatorTypes/" + t.SID}
}
