package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/convoseal/convoseal"
	"github.com/convoseal/convoseal/internal/store"
)

var (
	uniqueNamePattern   = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,64}$`)
	languageCodePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

// serviceParams applies the form's Service fields to v (only those present).
func serviceParams(f *form, v *convoseal.Service, creating bool) {
	if creating || f.has("UniqueName") {
		name := f.required("UniqueName", 64)
		if f.err == nil && !uniqueNamePattern.MatchString(name) {
			f.fail("UniqueName must be 1 to 64 letters, digits, '.', '-' or '_'")
		}
		v.UniqueName = name
	}
	if f.has("FriendlyName") {
		v.FriendlyName = f.str("FriendlyName", maxFriendlyName)
	}
	if !creating && f.has("LanguageCode") && f.err == nil {
		// Fixed at creation, as the spec says: transcription is in it.
		if lc := f.str("LanguageCode", 16); lc != v.LanguageCode && f.err == nil {
			f.fail("LanguageCode cannot be changed after the Service is created (it is %s); create another Service for another language", v.LanguageCode)
		}
	}
	if creating {
		lc := f.str("LanguageCode", 16)
		if lc == "" {
			lc = "en-US"
		}
		if f.err == nil && !languageCodePattern.MatchString(lc) {
			f.fail("LanguageCode must be a BCP 47 tag such as en-US")
		}
		v.LanguageCode = lc
	}
	v.AutoTranscribe = f.boolean("AutoTranscribe", v.AutoTranscribe)
	v.AutoRedaction = f.boolean("AutoRedaction", v.AutoRedaction)
	v.MediaRedaction = f.boolean("MediaRedaction", v.MediaRedaction)
	if (creating || f.has("MediaRedaction") || f.has("AutoRedaction")) && v.MediaRedaction && !v.AutoRedaction {
		f.fail("MediaRedaction requires AutoRedaction: the recording is redacted with the PII found in the redacted transcript (set AutoRedaction=true, or MediaRedaction=false)")
	}
	if f.has("DataLogging") && f.boolean("DataLogging", false) != v.DataLogging && f.err == nil {
		f.err = &convoseal.Error{Code: convoseal.CodeInvalidParameter, Status: http.StatusForbidden,
			Message: "DataLogging cannot be changed through the API; the operator sets it with `convoseal services data-logging`"}
	}
	if f.has("WebhookUrl") {
		u := f.str("WebhookUrl", 2048)
		if u != "" {
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
				f.fail("WebhookUrl must be an absolute http or https URL")
			}
		}
		v.WebhookURL = u
	}
	if creating || f.has("WebhookHttpMethod") {
		def := v.WebhookHTTPMethod
		if def == "" {
			def = "POST"
		}
		v.WebhookHTTPMethod = f.oneOf("WebhookHttpMethod", def, "GET", "POST", "NULL")
	}
	if f.has("EncryptionCredentialSid") {
		v.EncryptionCredentialSID = f.sid("EncryptionCredentialSid", convoseal.PrefixPublicKey)
	}
	languageModelParam(f, v, creating)
	if f.has("KeepMedia") && f.boolean("KeepMedia", false) != v.KeepMedia && f.err == nil {
		f.err = &convoseal.Error{Code: convoseal.CodeInvalidParameter, Status: http.StatusForbidden,
			Message: "KeepMedia cannot be changed through the API; the operator sets it with `convoseal services keep-media`"}
	}
}

// languageModelParam refuses LanguageModel (a convoseal extra) when it
// differs from the Service's setting, which only the operator changes; on
// creation the setting is the store's default (on without a customer key).
func languageModelParam(f *form, v *convoseal.Service, creating bool) {
	current := v.LanguageModel
	if creating {
		current = v.EncryptionCredentialSID == ""
	}
	if f.has("LanguageModel") && f.boolean("LanguageModel", false) != current && f.err == nil {
		f.err = &convoseal.Error{Code: convoseal.CodeInvalidParameter, Status: http.StatusForbidden,
			Message: "LanguageModel cannot be changed through the API; the operator sets it with `convoseal services llm`"}
	}
}

func (s *Server) createService(w http.ResponseWriter, r *http.Request) {
	f, err := parseForm(r)
	if err != nil {
		s.fail(w, r, err, "")
		return
	}
	v := &convoseal.Service{SID: convoseal.NewSID(convoseal.PrefixService), AccountSID: accountSID(r)}
	serviceParams(f, v, true)
	if f.err != nil {
		writeError(w, f.err)
		return
	}
	if err := s.DB.CreateService(r.Context(), v); err != nil {
		s.fail(w, r, err, "")
		return
	}
	v.OperatorSIDs = []string{}
	setETag(w, v.Version)
	writeJSON(w, http.StatusCreated, s.serviceJSON(v))
}

// setETag sets the ETag header to a resource's version, which If-Match
// takes back (Services and custom operators).
func setETag(w http.ResponseWriter, version int) {
	w.Header().Set("ETag", strconv.Itoa(version))
}

func (s *Server) fetchService(w http.ResponseWriter, r *http.Request) {
	fetchOne(s, w, r, convoseal.PrefixService, "/v2/Services/", s.DB.GetService, func(v *convoseal.Service) serviceJSON {
		setETag(w, v.Version)
		return s.serviceJSON(v)
	})
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) {
	keysetList(s, w, r, "services", nil,
		func(*form) func(context.Context, store.Page) ([]*convoseal.Service, error) {
			return func(ctx context.Context, p store.Page) ([]*convoseal.Service, error) {
				return s.DB.ListServices(ctx, accountSID(r), p)
			}
		},
		func(v *convoseal.Service) (time.Time, string) { return v.DateCreated, v.SID }, s.serviceJSON)
}

// ifMatch reads the optional If-Match header (a version number).
func ifMatch(r *http.Request) (int, *convoseal.Error) {
	h := strings.Trim(strings.TrimSpace(r.Header.Get("If-Match")), `"`)
	if h == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 1 {
		return 0, convoseal.Invalidf("If-Match must be a version number")
	}
	return n, nil
}

func (s *Server) updateService(w http.ResponseWriter, r *http.Request) {
	updateOne(s, w, r, convoseal.PrefixService, "/v2/Services/", http.StatusOK, s.DB.UpdateService,
		func(f *form, v *convoseal.Service) { serviceParams(f, v, false) }, func(v *convoseal.Service) serviceJSON {
			setETag(w, v.Version)
			return s.serviceJSON(v)
		})
}

func (s *Server) deleteService(w http.ResponseWriter, r *http.Request) {
	deleteOne(s, w, r, convoseal.PrefixService, "/v2/Services/", s.DB.DeleteService)
}
